package cli

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// printableLinkConfigs are the link configs `link create` echoes; the rest
// (credentials above all) are never printed.
var printableLinkConfigs = []string{
	"bootstrap.servers", "connection.mode", "link.mode",
	"consumer.offset.sync.enable", "consumer.offset.group.filters", "consumer.offset.sync.ms", "consumer.group.prefix.enable",
	"acl.sync.enable", "acl.filters", "acl.sync.ms",
	"auto.create.mirror.topics.enable", "auto.create.mirror.topics.filters",
	"cluster.link.prefix", "topic.config.sync.ms", "topic.config.sync.include", "mirror.start.offset.spec",
	"security.protocol", "sasl.mechanism", "local.security.protocol", "local.sasl.mechanism",
}

func init() { register(newLinkCommand) }

func newLinkCommand(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "link",
		Short: "Manage cluster links (through the REST API at --url)",
	}
	cmd.AddCommand(newLinkCreate(g), newLinkList(g), newLinkDescribe(g), newLinkDelete(g), newLinkConfiguration(g), newLinkTask(g))
	return cmd
}

func newLinkCreate(g *Globals) *cobra.Command {
	var (
		bootstrap, sourceCluster string
		cfg                      configFlags
		dryRun, noValidate       bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a cluster link that mirrors from a source cluster into this one",
		Example: `  strait link create east-to-west --source-bootstrap-server east:9092
  strait link create east-to-west --source-bootstrap-server east:9092 --config consumer.offset.sync.enable=true --dry-run`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			configs, err := cfg.collect()
			if err != nil {
				return err
			}
			if bootstrap != "" {
				if v, ok := configs["bootstrap.servers"]; ok && v != bootstrap {
					return fmt.Errorf("bootstrap.servers is %q in --config but --source-bootstrap-server is %q", v, bootstrap)
				}
				configs["bootstrap.servers"] = bootstrap
			}
			if configs["bootstrap.servers"] == "" {
				return errors.New("--source-bootstrap-server is required (or bootstrap.servers in --config)")
			}
			ctx, cancel := g.Context()
			defer cancel()
			rc := g.restClient()
			path, err := rc.clusterPath(ctx, "links")
			if err != nil {
				return err
			}
			q := url.Values{"link_name": {name}}
			if dryRun {
				q.Set("validate_only", "true")
			}
			if noValidate {
				q.Set("validate_link", "false")
			}
			body := struct {
				SourceClusterID string       `json:"source_cluster_id,omitempty"`
				Configs         []restConfig `json:"configs"`
			}{sourceCluster, restConfigs(configs)}
			if err := rc.do(ctx, http.MethodPost, path, q, body, nil); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%sCreated cluster link %q with configs:\n", dryRunPrefix(dryRun), name)
			for _, k := range sortedKeys(configs) {
				if slices.Contains(printableLinkConfigs, k) {
					fmt.Fprintf(out, "%q=%q\n", k, configs[k])
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&bootstrap, "source-bootstrap-server", "", "Kafka address of the source cluster (HOST:PORT[,HOST:PORT...])")
	cmd.Flags().StringVar(&sourceCluster, "source-cluster", "", "expected ID of the source cluster (default: accept what the source reports)")
	cfg.add(cmd, "link configs", true)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate the link without creating it")
	cmd.Flags().BoolVar(&noValidate, "no-validate", false, "create the link without contacting the source cluster")
	return cmd
}

func dryRunPrefix(dry bool) string {
	if dry {
		return "[DRY RUN] "
	}
	return ""
}

var linkListColumns = []string{"Name", "ID", "Source Cluster", "Destination Cluster", "State", "Error", "Error Message"}

func newLinkList(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List cluster links",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.Printer(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := g.Context()
			defer cancel()
			rc := g.restClient()
			path, err := rc.clusterPath(ctx, "links")
			if err != nil {
				return err
			}
			var l restList[restLink]
			if err := rc.do(ctx, http.MethodGet, path, nil, nil, &l); err != nil {
				return err
			}
			rows := make([][]string, 0, len(l.Data))
			for _, li := range l.Data {
				rows = append(rows, []string{li.LinkName, li.ClusterLinkID, deref(li.SourceClusterID), deref(li.DestinationClusterID),
					li.LinkState, shownError(li.LinkError), deref(li.LinkErrorMessage)})
			}
			return p.Table(linkListColumns, rows)
		},
	}
}

// getLink reads one link.
func getLink(g *Globals, name string, tasks bool) (restLink, error) {
	ctx, cancel := g.Context()
	defer cancel()
	rc := g.restClient()
	path, err := rc.clusterPath(ctx, "links", name)
	if err != nil {
		return restLink{}, err
	}
	var q url.Values
	if tasks {
		q = url.Values{"include_tasks": {"true"}}
	}
	var li restLink
	err = rc.do(ctx, http.MethodGet, path, q, nil, &li)
	return li, err
}

func newLinkDescribe(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "describe NAME",
		Short: "Describe a cluster link",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.Printer(cmd)
			if err != nil {
				return err
			}
			li, err := getLink(g, args[0], true)
			if err != nil {
				return err
			}
			var counts []string
			for _, c := range li.CategoryCounts {
				counts = append(counts, c.StateCategory+": "+strconv.Itoa(c.Count))
			}
			// Each periodic task with its state and, when in error, its errors.
			var tasks []string
			for _, t := range li.Tasks {
				task := t.TaskName + ": " + t.State
				var errs []string
				for _, e := range t.Errors {
					errs = append(errs, e.ErrorCode+": "+e.ErrorMessage)
				}
				if len(errs) > 0 {
					task += " (" + strings.Join(errs, "; ") + ")"
				}
				tasks = append(tasks, task)
			}
			return printRecord(p,
				[]string{"Name", "ID", "Source Cluster", "Destination Cluster", "State", "Error", "Error Message", "Mirror Partition States Count", "Tasks"},
				[]string{li.LinkName, li.ClusterLinkID, deref(li.SourceClusterID), deref(li.DestinationClusterID), li.LinkState,
					shownError(li.LinkError), deref(li.LinkErrorMessage), strings.Join(counts, ", "), strings.Join(tasks, ", ")})
		},
	}
}

func newLinkDelete(g *Globals) *cobra.Command {
	var force, dryRun bool
	cmd := &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete cluster links",
		Long: `Delete cluster links. Without --force the cluster refuses to delete a link that
still has mirror topics; --force deletes it anyway.`,
		Args: minArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := g.Context()
			defer cancel()
			rc := g.restClient()
			q := url.Values{}
			if force {
				q.Set("force", "true")
			}
			if dryRun {
				q.Set("validate_only", "true")
			}
			for _, name := range args {
				path, err := rc.clusterPath(ctx, "links", name)
				if err != nil {
					return err
				}
				if err := rc.do(ctx, http.MethodDelete, path, q, nil, nil); err != nil {
					return fmt.Errorf("deleting cluster link %q: %w", name, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%sDeleted cluster link %q.\n", dryRunPrefix(dryRun), name)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete the link even if it still has mirror topics")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate the deletion without deleting")
	return cmd
}

func newLinkConfiguration(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "configuration",
		Short: "List and update the configs of a cluster link",
	}
	cmd.AddCommand(newLinkConfigList(g), newLinkConfigUpdate(g))
	return cmd
}

var linkConfigColumns = []string{"Config Name", "Config Value", "Read-Only", "Sensitive", "Source", "Synonyms"}

func newLinkConfigList(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list NAME",
		Short: "List the configs of a cluster link (sensitive values are left empty)",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.Printer(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := g.Context()
			defer cancel()
			rc := g.restClient()
			path, err := rc.clusterPath(ctx, "links", args[0], "configs")
			if err != nil {
				return err
			}
			var l restList[restLinkConfig]
			if err := rc.do(ctx, http.MethodGet, path, nil, nil, &l); err != nil {
				return err
			}
			rows := make([][]string, 0, len(l.Data))
			for _, c := range l.Data {
				value := deref(c.Value)
				if c.IsSensitive {
					value = ""
				}
				rows = append(rows, []string{c.Name, value, strconv.FormatBool(c.IsReadOnly), strconv.FormatBool(c.IsSensitive),
					c.Source, strings.Join(c.Synonyms, ", ")})
			}
			return p.Table(linkConfigColumns, rows)
		},
	}
}

func newLinkConfigUpdate(g *Globals) *cobra.Command {
	var cfg configFlags
	cmd := &cobra.Command{
		Use:     "update NAME --config k=v[,k=v...]",
		Short:   "Set configs of a cluster link",
		Example: `  strait link configuration update east-to-west --config consumer.offset.sync.ms=10000,acl.sync.enable=false`,
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			configs, err := cfg.collect()
			if err != nil {
				return err
			}
			if len(configs) == 0 {
				return errors.New("--config is required")
			}
			ctx, cancel := g.Context()
			defer cancel()
			rc := g.restClient()
			path, err := rc.clusterPath(ctx, "links", args[0], "configs:alter")
			if err != nil {
				return err
			}
			type entry struct {
				Name      string `json:"name"`
				Value     string `json:"value"`
				Operation string `json:"operation"`
			}
			var body struct {
				Data []entry `json:"data"`
			}
			for _, k := range sortedKeys(configs) {
				body.Data = append(body.Data, entry{k, configs[k], "SET"})
			}
			if err := rc.do(ctx, http.MethodPut, path, nil, body, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Updated cluster link %q.\n", args[0])
			return nil
		},
	}
	cfg.add(cmd, "configs to set", true)
	return cmd
}

func newLinkTask(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "task",
		Short: "Show the periodic tasks of a cluster link",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list NAME",
		Short: "List the tasks of a cluster link with their state and errors",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.Printer(cmd)
			if err != nil {
				return err
			}
			li, err := getLink(g, args[0], true)
			if err != nil {
				return err
			}
			rows := make([][]string, 0, len(li.Tasks))
			for _, t := range li.Tasks {
				var errs []string
				for _, e := range t.Errors {
					errs = append(errs, fmt.Sprintf("%s: %q", e.ErrorCode, e.ErrorMessage))
				}
				rows = append(rows, []string{t.TaskName, t.State, strings.Join(errs, ", ")})
			}
			return p.Table([]string{"Task Name", "State", "Errors"}, rows)
		},
	})
	return cmd
}
