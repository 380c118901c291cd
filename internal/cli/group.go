package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

func init() { register(newGroupCommand) }

func newGroupCommand(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "List, describe, delete consumer groups and reset their offsets",
	}
	cmd.AddCommand(newGroupListCommand(g), newGroupDescribeCommand(g), newGroupDeleteCommand(g), newGroupResetCommand(g))
	return cmd
}

func newGroupListCommand(g *Globals) *cobra.Command {
	var states []string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List consumer groups",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, err := groupStates(states)
			if err != nil {
				return err
			}
			p, ctx, adm, done, err := g.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			listed, err := adm.ListGroups(ctx, filter...)
			if err != nil {
				return fmt.Errorf("listing groups: %w", err)
			}
			rows := [][]string{}
			for _, lg := range listed.Sorted() {
				rows = append(rows, []string{lg.Group, lg.State, lg.ProtocolType})
			}
			return p.Table([]string{"GROUP", "STATE", "PROTOCOL TYPE"}, rows)
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only groups in these states ("+strings.Join(knownGroupStates, ", ")+")")
	return cmd
}

// knownGroupStates are the states ListGroups filters on (KIP-518), with
// KIP-848's two.
var knownGroupStates = []string{"Empty", "Stable", "PreparingRebalance", "CompletingRebalance", "Dead", "Assigning", "Reconciling"}

// groupStates checks --state values and spells them as the broker does;
// case does not matter, as with kafka-consumer-groups.
func groupStates(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, s := range in {
		i := slices.IndexFunc(knownGroupStates, func(k string) bool { return strings.EqualFold(k, strings.TrimSpace(s)) })
		if i < 0 {
			return nil, fmt.Errorf("invalid --state %q: use %s", s, strings.Join(knownGroupStates, ", "))
		}
		out = append(out, knownGroupStates[i])
	}
	return out, nil
}

// describedOffset is one row of `group describe`.
type describedOffset struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	CurrentOffset *int64 `json:"current_offset"` // nil: nothing committed
	LogEndOffset  *int64 `json:"log_end_offset"`
	Lag           *int64 `json:"lag"`
	ConsumerID    string `json:"consumer_id,omitempty"`
	Host          string `json:"host,omitempty"`
	ClientID      string `json:"client_id,omitempty"`
}

type describedMember struct {
	ConsumerID string           `json:"consumer_id"`
	InstanceID string           `json:"instance_id,omitempty"`
	Host       string           `json:"host"`
	ClientID   string           `json:"client_id"`
	Assigned   map[string][]int `json:"assigned"`
}

type describedGroup struct {
	Group        string            `json:"group"`
	State        string            `json:"state"`
	ProtocolType string            `json:"protocol_type"`
	Protocol     string            `json:"protocol"`
	Coordinator  int32             `json:"coordinator"`
	Members      []describedMember `json:"members"`
	Offsets      []describedOffset `json:"offsets"`
}

func newGroupDescribeCommand(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "describe GROUP",
		Short: "Show a group's members, assignments, committed offsets and lag",
		Args:  exactArgs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, ctx, adm, done, err := g.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			d, err := describeGroup(ctx, adm, args[0])
			if err != nil {
				return err
			}
			if p.Format != FormatTable {
				return p.Object(d)
			}
			if len(d.Members) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "Consumer group '%s' has no active members.\n", d.Group)
			}
			cols := []string{"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"}
			rows := [][]string{}
			for _, o := range d.Offsets {
				rows = append(rows, []string{d.Group, o.Topic, strconv.Itoa(int(o.Partition)), optInt(o.CurrentOffset),
					optInt(o.LogEndOffset), optInt(o.Lag), dash(o.ConsumerID), dash(o.Host), dash(o.ClientID)})
			}
			for _, m := range d.Members {
				if len(m.Assigned) == 0 {
					rows = append(rows, []string{d.Group, "-", "-", "-", "-", "-", m.ConsumerID, m.Host, m.ClientID})
				}
			}
			return p.Table(cols, rows)
		},
	}
}

func optInt(v *int64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatInt(*v, 10)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// describeGroup gathers what `group describe` shows: the partitions the
// group committed for or is assigned, each with its committed offset, log
// end offset, lag and owner.
func describeGroup(ctx context.Context, adm *kadm.Client, group string) (*describedGroup, error) {
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("describing group %s: %w", group, err)
	}
	dg, ok := described[group]
	if !ok {
		return nil, fmt.Errorf("describing group %s: no answer", group)
	}
	if dg.Err != nil {
		return nil, fmt.Errorf("describing group %s: %w", group, dg.Err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("fetching offsets of group %s: %w", group, err)
	}
	if dg.State == "Dead" && len(committed) == 0 {
		return nil, fmt.Errorf("consumer group '%s' does not exist", group)
	}
	d := &describedGroup{
		Group: group, State: dg.State, ProtocolType: dg.ProtocolType, Protocol: dg.Protocol,
		Coordinator: dg.Coordinator.NodeID, Members: []describedMember{}, Offsets: []describedOffset{},
	}
	type tp struct {
		t string
		p int32
	}
	owner := map[tp]int{}
	for i, m := range dg.Members {
		dm := describedMember{ConsumerID: m.MemberID, Host: m.ClientHost, ClientID: m.ClientID, Assigned: map[string][]int{}}
		if m.InstanceID != nil {
			dm.InstanceID = *m.InstanceID
		}
		if a, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range a.Topics {
				for _, p := range t.Partitions {
					dm.Assigned[t.Topic] = append(dm.Assigned[t.Topic], int(p))
					owner[tp{t.Topic, p}] = i
				}
			}
		}
		d.Members = append(d.Members, dm)
	}
	rows := map[tp]*describedOffset{}
	topicSet := map[string]bool{}
	committed.Each(func(o kadm.OffsetResponse) {
		at := o.At
		rows[tp{o.Topic, o.Partition}] = &describedOffset{Topic: o.Topic, Partition: o.Partition, CurrentOffset: &at}
		topicSet[o.Topic] = true
	})
	for k := range owner {
		if rows[k] == nil {
			rows[k] = &describedOffset{Topic: k.t, Partition: k.p}
		}
		topicSet[k.t] = true
	}
	if len(topicSet) > 0 {
		topics := make([]string, 0, len(topicSet))
		for t := range topicSet {
			topics = append(topics, t)
		}
		ends, err := adm.ListEndOffsets(ctx, topics...)
		if err != nil {
			return nil, fmt.Errorf("listing end offsets: %w", err)
		}
		ends.Each(func(l kadm.ListedOffset) {
			r := rows[tp{l.Topic, l.Partition}]
			if r == nil || l.Err != nil {
				return
			}
			end := l.Offset
			r.LogEndOffset = &end
			if r.CurrentOffset != nil && *r.CurrentOffset >= 0 {
				lag := max(end-*r.CurrentOffset, 0)
				r.Lag = &lag
			}
		})
	}
	for k, r := range rows {
		if i, ok := owner[k]; ok {
			m := d.Members[i]
			r.ConsumerID, r.Host, r.ClientID = m.ConsumerID, m.Host, m.ClientID
		}
		d.Offsets = append(d.Offsets, *r)
	}
	sort.Slice(d.Offsets, func(i, j int) bool {
		a, b := d.Offsets[i], d.Offsets[j]
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		return a.Partition < b.Partition
	})
	return d, nil
}

func newGroupDeleteCommand(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete GROUP...",
		Short: "Delete empty groups and their committed offsets",
		Args:  minArgs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, ctx, adm, done, err := g.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.DeleteGroups(ctx, args...)
			if err != nil {
				return fmt.Errorf("deleting groups: %w", err)
			}
			rows := [][]string{}
			var failed []string
			for _, r := range resps.Sorted() {
				if r.Err != nil {
					failed = append(failed, fmt.Sprintf("%s: %v", r.Group, r.Err))
					continue
				}
				rows = append(rows, []string{r.Group, "deleted"})
			}
			// A table with no deleted group says nothing the error does not.
			if len(rows) > 0 || len(failed) == 0 {
				if err := p.Table([]string{"GROUP", "RESULT"}, rows); err != nil {
					return err
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("deleting group %s", strings.Join(failed, "; "))
			}
			return nil
		},
	}
}

// resetRow is one partition reset-offsets moved (or would move).
type resetRow struct {
	Group     string `json:"group"`
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	NewOffset int64  `json:"new_offset"`
}

// resetSpec is where reset-offsets moves partitions to; exactly one is set.
type resetSpec struct {
	earliest, latest bool
	offset           int64
	hasOffset        bool
	datetime         string
}

func newGroupResetCommand(g *Globals) *cobra.Command {
	var (
		topics    []string
		allTopics bool
		dryRun    bool
		spec      resetSpec
	)
	cmd := &cobra.Command{
		Use:   "reset-offsets GROUP (--topic TOPIC[:P,P...]... | --all-topics) (--to-earliest | --to-latest | --to-offset N | --to-datetime TIME)",
		Short: "Move a group's committed offsets (only while the group has no active members)",
		Long: `Move a group's committed offsets, as kafka-consumer-groups --reset-offsets
does. The group must have no active members: the broker refuses offset
changes from outside a live group. --to-offset is clamped to each
partition's earliest and latest offsets; --to-datetime takes RFC 3339
(2024-05-01T10:00:00Z) or Kafka's YYYY-MM-DDTHH:mm:SS[.sss] in local time,
and moves to the first offset at or after that time (the end if none).
--dry-run shows the new offsets without committing them.`,
		Args: exactArgs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec.hasOffset = cmd.Flags().Changed("to-offset")
			n := 0
			for _, set := range []bool{spec.earliest, spec.latest, spec.hasOffset, spec.datetime != ""} {
				if set {
					n++
				}
			}
			if n != 1 {
				return errors.New("give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime")
			}
			switch {
			case len(topics) == 0 && !allTopics:
				return errors.New("give --topic or --all-topics")
			case len(topics) > 0 && allTopics:
				return errors.New("give either --topic or --all-topics, not both")
			}
			p, ctx, adm, done, err := g.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			offsets, err := planReset(ctx, adm, args[0], topics, allTopics, spec)
			if err != nil {
				return err
			}
			if !dryRun {
				resp, err := adm.CommitOffsets(ctx, args[0], offsets)
				if err == nil {
					err = resp.Error()
				}
				if err != nil {
					return fmt.Errorf("committing offsets of group %s: %w", args[0], err)
				}
			}
			var reset []resetRow
			offsets.Each(func(o kadm.Offset) {
				reset = append(reset, resetRow{Group: args[0], Topic: o.Topic, Partition: o.Partition, NewOffset: o.At})
			})
			sort.Slice(reset, func(i, j int) bool {
				if reset[i].Topic != reset[j].Topic {
					return reset[i].Topic < reset[j].Topic
				}
				return reset[i].Partition < reset[j].Partition
			})
			if p.Format != FormatTable {
				return p.Object(reset)
			}
			rows := [][]string{}
			for _, r := range reset {
				rows = append(rows, []string{r.Group, r.Topic, strconv.Itoa(int(r.Partition)), strconv.FormatInt(r.NewOffset, 10)})
			}
			return p.Table([]string{"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"}, rows)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&topics, "topic", nil, "topic to reset, optionally with partitions (TOPIC:0,1); repeatable")
	f.BoolVar(&allTopics, "all-topics", false, "reset every topic the group has committed offsets for")
	f.BoolVar(&spec.earliest, "to-earliest", false, "move to the earliest offset")
	f.BoolVar(&spec.latest, "to-latest", false, "move to the latest offset (the log end)")
	f.Int64Var(&spec.offset, "to-offset", 0, "move to this offset")
	f.StringVar(&spec.datetime, "to-datetime", "", "move to the first offset at or after this time")
	f.BoolVar(&dryRun, "dry-run", false, "show the new offsets without committing them")
	return cmd
}

// parseTopicPartitions reads TOPIC or TOPIC:P,P,... arguments.
func parseTopicPartitions(args []string) (map[string][]int32, error) {
	out := map[string][]int32{}
	for _, a := range args {
		topic, parts, hasParts := strings.Cut(strings.TrimSpace(a), ":")
		if topic == "" {
			return nil, fmt.Errorf("invalid --topic %q", a)
		}
		if _, ok := out[topic]; !ok {
			out[topic] = nil
		}
		if !hasParts {
			continue
		}
		for _, s := range strings.Split(parts, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("invalid partition %q in --topic %q", s, a)
			}
			out[topic] = append(out[topic], int32(n))
		}
	}
	return out, nil
}

// parseDatetime accepts RFC 3339 and Kafka's YYYY-MM-DDTHH:mm:SS[.sss]
// (local time).
func parseDatetime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000", "2006-01-02T15:04:05", "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05.000Z0700"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid --to-datetime %q: use 2006-01-02T15:04:05[.000][Z07:00]", s)
}

// planReset checks that the group has no active members and computes the
// new offset of every selected partition.
func planReset(ctx context.Context, adm *kadm.Client, group string, topicArgs []string, allTopics bool, spec resetSpec) (kadm.Offsets, error) {
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("describing group %s: %w", group, err)
	}
	if dg := described[group]; dg.Err != nil {
		return nil, fmt.Errorf("describing group %s: %w", group, dg.Err)
	} else if dg.State != "Empty" && dg.State != "Dead" {
		return nil, fmt.Errorf("assignments can only be reset if the group '%s' is inactive, but the current state is %s", group, dg.State)
	}
	want := map[string][]int32{}
	if allTopics {
		committed, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			err = committed.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("fetching offsets of group %s: %w", group, err)
		}
		committed.Each(func(o kadm.OffsetResponse) { want[o.Topic] = append(want[o.Topic], o.Partition) })
		if len(want) == 0 {
			return nil, fmt.Errorf("group %s has no committed offsets: name the topics with --topic", group)
		}
	} else if want, err = parseTopicPartitions(topicArgs); err != nil {
		return nil, err
	}
	topics := make([]string, 0, len(want))
	for t := range want {
		topics = append(topics, t)
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("listing start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets: %w", err)
	}
	var byTime kadm.ListedOffsets
	if spec.datetime != "" {
		at, err := parseDatetime(spec.datetime)
		if err != nil {
			return nil, err
		}
		if byTime, err = adm.ListOffsetsAfterMilli(ctx, at.UnixMilli(), topics...); err != nil {
			return nil, fmt.Errorf("listing offsets by time: %w", err)
		}
	}
	out := kadm.Offsets{}
	for _, t := range topics {
		parts := want[t]
		if parts == nil { // every partition of the topic
			ends.Each(func(l kadm.ListedOffset) {
				if l.Topic == t && l.Partition >= 0 {
					parts = append(parts, l.Partition)
				}
			})
			if len(parts) == 0 {
				return nil, fmt.Errorf("topic %s does not exist", t)
			}
		}
		for _, p := range parts {
			start, ok1 := starts.Lookup(t, p)
			end, ok2 := ends.Lookup(t, p)
			if !ok1 || !ok2 || start.Err != nil || end.Err != nil {
				return nil, fmt.Errorf("partition %s/%d does not exist", t, p)
			}
			var at int64
			switch {
			case spec.earliest:
				at = start.Offset
			case spec.latest:
				at = end.Offset
			case spec.hasOffset:
				at = min(max(spec.offset, start.Offset), end.Offset)
			default:
				l, ok := byTime.Lookup(t, p)
				if !ok || l.Err != nil || l.Offset < 0 {
					at = end.Offset
				} else {
					at = l.Offset
				}
			}
			out.Add(kadm.Offset{Topic: t, Partition: p, At: at, LeaderEpoch: -1})
		}
	}
	return out, nil
}
