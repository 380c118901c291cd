package cli

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// newMirrorWait builds `strait mirror wait`: block until mirror topics are
// caught up with their source, or reach a state. Runbooks and scripts use it
// between steps instead of watching `mirror describe`.
func newMirrorWait(g *Globals) *cobra.Command {
	var (
		linkName, state, source string
		caughtUp                bool
		interval                time.Duration
	)
	cmd := &cobra.Command{
		Use:   "wait TOPIC... --link NAME (--caught-up | --state STATE)",
		Short: "Wait until mirror topics are caught up with their source, or in a state",
		Long: `Wait until every named mirror topic is caught up with its source topic
(--caught-up), or in the given mirror state (--state ACTIVE, STOPPED, ...), and
exit 0; exit non-zero if --timeout passes first.

--caught-up with --source-bootstrap-server compares each mirror partition's log
end offset with the source partition's current end offset, read directly from
the source: exact. Without it, the lag the destination last measured is used
(it may be up to one fetch old).`,
		Example: `  strait mirror wait orders --link east-west --caught-up --source-bootstrap-server east:9092
  strait mirror wait orders payments --link east-west --state STOPPED --timeout 2m`,
		Args: minArgs("TOPIC"),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if caughtUp == (state != "") {
				return fmt.Errorf("give exactly one of --caught-up and --state")
			}
			given := state
			state = strings.ToUpper(strings.TrimSpace(state))
			if state != "" && !slices.Contains(mirrorStates, state) {
				return fmt.Errorf("invalid --state %q: use one of %s", given, strings.Join(mirrorStates, ", "))
			}
			if interval <= 0 {
				return fmt.Errorf("invalid --interval %v: give a positive duration such as 200ms", interval)
			}
			if source != "" && !caughtUp {
				return fmt.Errorf("--source-bootstrap-server is only used with --caught-up")
			}
			ctx, cancel := g.Context()
			defer cancel()
			var srcAdm, dstAdm *kadm.Client
			if caughtUp && source != "" {
				src, err := g.connect(source, "--source-bootstrap-server", "the source cluster")
				if err != nil {
					return err
				}
				defer src.Close()
				dst, adm, err := g.Kafka()
				if err != nil {
					return err
				}
				defer dst.Close()
				srcAdm, dstAdm = kadm.NewClient(src), adm
			}
			rc := g.restClient()
			var why string
			for {
				done, msg, err := mirrorsReady(ctx, rc, linkName, topics, caughtUp, state, srcAdm, dstAdm)
				if err != nil {
					return err
				}
				if done {
					fmt.Fprintln(cmd.OutOrStdout(), "ready:", strings.Join(topics, ", "))
					return nil
				}
				why = msg
				select {
				case <-ctx.Done():
					return fmt.Errorf("timed out after %v: %s", g.Timeout, why)
				case <-time.After(interval):
				}
			}
		},
	}
	cmd.Flags().StringVar(&linkName, "link", "", "the cluster link (required)")
	cmd.Flags().BoolVar(&caughtUp, "caught-up", false, "wait until the mirrors have every record their source topics have")
	cmd.Flags().StringVar(&state, "state", "", "wait until the mirrors are in this mirror state")
	cmd.Flags().StringVar(&source, "source-bootstrap-server", "", "with --caught-up: read the source's end offsets from this cluster (exact)")
	cmd.Flags().DurationVar(&interval, "interval", 200*time.Millisecond, "how often to check")
	_ = cmd.MarkFlagRequired("link")
	return cmd
}

// mirrorStates are the mirror_status values the REST API reports for a
// Strait mirror topic (the link package's State constants; the CLI speaks
// REST only, so it keeps its own copy).
var mirrorStates = []string{
	"PENDING_MIRROR", "ACTIVE", "PAUSED", "LINK_PAUSED", "SOURCE_UNAVAILABLE",
	"FAILED", "LINK_FAILED", "PENDING_STOPPED", "STOPPED",
}

// mirrorsReady checks the condition once for every topic; msg explains
// the first topic that is not ready.
func mirrorsReady(ctx context.Context, rc *restClient, linkName string, topics []string, caughtUp bool, state string, srcAdm, dstAdm *kadm.Client) (bool, string, error) {
	for _, topic := range topics {
		path, err := rc.clusterPath(ctx, "links", linkName, "mirrors", topic)
		if err != nil {
			return false, "", err
		}
		var m restMirror
		if err := rc.do(ctx, http.MethodGet, path, nil, nil, &m); err != nil {
			return false, "", err
		}
		if !caughtUp {
			if m.MirrorStatus != state {
				return false, fmt.Sprintf("%s is %s", topic, m.MirrorStatus), nil
			}
			continue
		}
		if m.MirrorStatus != "ACTIVE" {
			return false, fmt.Sprintf("%s is %s, not ACTIVE", topic, m.MirrorStatus), nil
		}
		if srcAdm == nil {
			for _, l := range m.MirrorLags {
				if l.Lag != 0 || l.LastSourceFetchOffset < 0 {
					return false, fmt.Sprintf("%s partition %d lags %d (last source fetch offset %d)", topic, l.Partition, l.Lag, l.LastSourceFetchOffset), nil
				}
			}
			continue
		}
		src, err := srcAdm.ListEndOffsets(ctx, m.SourceTopicName)
		if err != nil {
			return false, "", fmt.Errorf("reading the source's end offsets: %w", err)
		}
		dst, err := dstAdm.ListEndOffsets(ctx, topic)
		if err != nil {
			return false, "", fmt.Errorf("reading the mirror's end offsets: %w", err)
		}
		var parts []int32
		src.Each(func(o kadm.ListedOffset) { parts = append(parts, o.Partition) })
		sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
		for _, p := range parts {
			s, _ := src.Lookup(m.SourceTopicName, p)
			d, ok := dst.Lookup(topic, p)
			if !ok || d.Offset != s.Offset {
				return false, fmt.Sprintf("%s partition %d: mirror end %d, source end %d", topic, p, d.Offset, s.Offset), nil
			}
		}
	}
	return true, "", nil
}
