package cli

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// mirrorAlterVerbs are the commands that change the state of mirror
// topics, each POST .../mirrors:<verb> (the REST server has the same table).
var mirrorAlterVerbs = []struct{ verb, short string }{
	{"pause", "Pause mirror topics: stop fetching from the source, keep the topics read-only"},
	{"resume", "Resume paused mirror topics"},
	{"promote", "Promote mirror topics (planned cutover): only when fully caught up; they become writable for good"},
	{"failover", "Fail mirror topics over (disaster recovery): stop mirroring now, whatever the lag; they become writable for good"},
}

func init() { register(newMirrorCommand) }

func newMirrorCommand(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mirror",
		Short: "Manage mirror topics of cluster links (through the REST API at --url)",
	}
	cmd.AddCommand(newMirrorCreate(g), newMirrorList(g), newMirrorDescribe(g), newMirrorWait(g))
	for _, v := range mirrorAlterVerbs {
		cmd.AddCommand(newMirrorAlter(g, v.verb, v.short))
	}
	return cmd
}

func newMirrorCreate(g *Globals) *cobra.Command {
	var (
		linkName, sourceTopic string
		rf                    int
		cfg                   configFlags
	)
	cmd := &cobra.Command{
		Use:   "create TOPIC --link NAME",
		Short: "Create a mirror topic of a source topic",
		Long: `Create a mirror topic. TOPIC is the source topic, mirrored under the same name;
on a link with cluster.link.prefix give the source topic with --source-topic and
TOPIC is then the mirror topic's name (prefix + source topic).`,
		Example: `  strait mirror create orders --link east-to-west
  strait mirror create east.orders --source-topic orders --link east-to-west`,
		Args: exactArgs("TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			configs, err := cfg.collect()
			if err != nil {
				return err
			}
			if rf < 0 || rf > 32767 {
				return fmt.Errorf("invalid --replication-factor %d", rf)
			}
			mirror := args[0]
			body := struct {
				SourceTopicName   string       `json:"source_topic_name"`
				MirrorTopicName   string       `json:"mirror_topic_name,omitempty"`
				ReplicationFactor int          `json:"replication_factor,omitempty"`
				Configs           []restConfig `json:"configs,omitempty"`
			}{SourceTopicName: mirror, ReplicationFactor: rf, Configs: restConfigs(configs)}
			if sourceTopic != "" && sourceTopic != mirror {
				body.SourceTopicName, body.MirrorTopicName = sourceTopic, mirror
			}
			ctx, cancel := g.Context()
			defer cancel()
			rc := g.restClient()
			path, err := rc.clusterPath(ctx, "links", linkName, "mirrors")
			if err != nil {
				return err
			}
			if err := rc.do(ctx, http.MethodPost, path, nil, body, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created mirror topic %q.\n", mirror)
			return nil
		},
	}
	cmd.Flags().StringVar(&linkName, "link", "", "the cluster link (required)")
	cmd.Flags().StringVar(&sourceTopic, "source-topic", "", "the source topic, when it differs from TOPIC (links with a prefix)")
	cmd.Flags().IntVar(&rf, "replication-factor", 0, "replication factor of the mirror topic (default: the broker's default.replication.factor)")
	cfg.add(cmd, "configs of the mirror topic", false)
	_ = cmd.MarkFlagRequired("link")
	return cmd
}

var mirrorListColumns = []string{"Link Name", "Mirror Topic Name", "Num Partition", "Max Per Partition Mirror Lag", "Source Topic Name", "Mirror Status", "Status Time (ms)"}

func newMirrorList(g *Globals) *cobra.Command {
	var linkName, status string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List mirror topics of one link or of every link",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.Printer(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := g.Context()
			defer cancel()
			rc := g.restClient()
			path, err := rc.clusterPath(ctx, "links", cmp.Or(linkName, "-"), "mirrors")
			if err != nil {
				return err
			}
			var q url.Values
			if status != "" {
				q = url.Values{"mirror_status": {strings.ToUpper(status)}}
			}
			var l restList[restMirror]
			if err := rc.do(ctx, http.MethodGet, path, q, nil, &l); err != nil {
				var ae *APIError
				if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && strings.Contains(ae.Message, "query parameter mirror_status") {
					// The REST API names its query parameter; the user gave a flag.
					return fmt.Errorf("invalid --mirror-status %q%s", status, after(ae.Message, "query parameter mirror_status"))
				}
				return err
			}
			rows := make([][]string, 0, len(l.Data))
			for _, m := range l.Data {
				var maxLag int64
				for _, lag := range m.MirrorLags {
					maxLag = max(maxLag, lag.Lag)
				}
				rows = append(rows, []string{m.LinkName, m.MirrorTopicName, strconv.Itoa(m.NumPartitions), i64(maxLag),
					m.SourceTopicName, m.MirrorStatus, i64(m.StateTimeMs)})
			}
			return p.Table(mirrorListColumns, rows)
		},
	}
	cmd.Flags().StringVar(&linkName, "link", "", "only the mirror topics of this link")
	cmd.Flags().StringVar(&status, "mirror-status", "", "only mirror topics in this state (active, paused, failed, stopped, pending_stopped, ...)")
	return cmd
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// after is what follows the first sep in s ("" without one).
func after(s, sep string) string {
	_, a, _ := strings.Cut(s, sep)
	return a
}

var mirrorDescribeColumns = []string{"Link Name", "Mirror Topic Name", "Partition", "Partition Mirror Lag", "Source Topic Name",
	"Mirror Status", "Mirror Topic Error", "Status Time (ms)", "Last Source Fetch Offset", "Time Since Last Fetch (ms)"}

func newMirrorDescribe(g *Globals) *cobra.Command {
	var linkName string
	cmd := &cobra.Command{
		Use:   "describe TOPIC --link NAME",
		Short: "Describe a mirror topic, one row per partition",
		Args:  exactArgs("TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.Printer(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := g.Context()
			defer cancel()
			rc := g.restClient()
			path, err := rc.clusterPath(ctx, "links", linkName, "mirrors", args[0])
			if err != nil {
				return err
			}
			var m restMirror
			if err := rc.do(ctx, http.MethodGet, path, nil, nil, &m); err != nil {
				return err
			}
			rows := make([][]string, 0, len(m.MirrorLags))
			for _, lag := range m.MirrorLags {
				rows = append(rows, []string{m.LinkName, m.MirrorTopicName, strconv.Itoa(int(lag.Partition)), i64(lag.Lag), m.SourceTopicName,
					m.MirrorStatus, shownError(m.MirrorTopicError), i64(m.StateTimeMs), i64(lag.LastSourceFetchOffset), sinceFetch(lag)})
			}
			return p.Table(mirrorDescribeColumns, rows)
		},
	}
	cmd.Flags().StringVar(&linkName, "link", "", "the cluster link (required)")
	_ = cmd.MarkFlagRequired("link")
	return cmd
}

var mirrorAlterColumns = []string{"Mirror Topic Name", "Partition", "Partition Mirror Lag", "Error Message", "Error Code", "Last Source Fetch Offset"}

// newMirrorAlter builds `strait mirror <verb> TOPIC... --link NAME`. Each
// topic prints one row per partition; a topic that failed prints a row with
// -1 for partition, lag and offset and its error, and makes the command
// exit non-zero after the table.
func newMirrorAlter(g *Globals, verb, short string) *cobra.Command {
	var (
		linkName string
		dryRun   bool
	)
	cmd := &cobra.Command{
		Use:   verb + " TOPIC... --link NAME",
		Short: short,
		Args:  minArgs("TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.Printer(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := g.Context()
			defer cancel()
			rc := g.restClient()
			path, err := rc.clusterPath(ctx, "links", linkName, "mirrors:"+verb)
			if err != nil {
				return err
			}
			var q url.Values
			if dryRun {
				q = url.Values{"validate_only": {"true"}}
			}
			body := struct {
				MirrorTopicNames []string `json:"mirror_topic_names"`
			}{args}
			var l restList[restAlterMirror]
			if err := rc.do(ctx, http.MethodPost, path, q, body, &l); err != nil {
				return err
			}
			var rows [][]string
			failed := 0
			for _, r := range l.Data {
				if r.ErrorCode != nil || r.ErrorMessage != nil {
					failed++
					code := ""
					if r.ErrorCode != nil {
						code = strconv.Itoa(*r.ErrorCode)
					}
					rows = append(rows, []string{r.MirrorTopicName, "-1", "-1", deref(r.ErrorMessage), code, "-1"})
				}
				for _, lag := range r.MirrorLags {
					rows = append(rows, []string{r.MirrorTopicName, strconv.Itoa(int(lag.Partition)), i64(lag.Lag), "", "", i64(lag.LastSourceFetchOffset)})
				}
			}
			if err := p.Table(mirrorAlterColumns, rows); err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%s failed for %d of %d mirror topics", verb, failed, len(l.Data))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&linkName, "link", "", "the cluster link (required)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate without changing anything")
	_ = cmd.MarkFlagRequired("link")
	return cmd
}

// sinceFetch shows a partition's time since its last source fetch ("-"
// before any, or from a REST API that does not report it).
func sinceFetch(l restMirrorLag) string {
	if l.TimeSinceLastFetchMs == nil || *l.TimeSinceLastFetchMs < 0 {
		return "-"
	}
	return i64(*l.TimeSinceLastFetchMs)
}
