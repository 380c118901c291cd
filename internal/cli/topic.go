package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func init() { register(newTopicCommand) }

func newTopicCommand(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Manage, produce to and consume from topics (over Kafka at --bootstrap-server)",
	}
	cmd.AddCommand(newTopicCreate(g), newTopicList(g), newTopicDescribe(g), newTopicDelete(g), newTopicProduce(g), newTopicConsume(g))
	return cmd
}

// errTopicMissing names a topic the cluster does not have.
func errTopicMissing(topic string) error { return fmt.Errorf("topic %q does not exist", topic) }

// topicDetail reads one topic's metadata, internal topics included.
func topicDetail(ctx context.Context, adm *kadm.Client, topic string) (kadm.TopicDetail, error) {
	tds, err := adm.ListTopicsWithInternal(ctx, topic)
	if err != nil {
		return kadm.TopicDetail{}, err
	}
	td, ok := tds[topic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return kadm.TopicDetail{}, errTopicMissing(topic)
	}
	if td.Err != nil {
		return kadm.TopicDetail{}, fmt.Errorf("topic %q: %w", topic, td.Err)
	}
	return td, nil
}

// brokerMessageError is a Kafka error code with the broker's own message
// in place of the code's generic description.
type brokerMessageError struct {
	err *kerr.Error
	msg string
}

func (e *brokerMessageError) Error() string { return e.err.Message + ": " + e.msg }
func (e *brokerMessageError) Unwrap() error { return e.err }

// withBrokerMessage prints a Kafka error as "CODE: the broker's message"
// when the broker sent one ("INVALID_PARTITIONS: number of partitions must
// be larger than 0"), and as kerr prints it otherwise.
func withBrokerMessage(err error, msg string) error {
	var ke *kerr.Error
	if msg == "" || !errors.As(err, &ke) {
		return err
	}
	return &brokerMessageError{err: ke, msg: msg}
}

func newTopicCreate(g *Globals) *cobra.Command {
	var (
		partitions int32
		rf         int16
		cfg        configFlags
	)
	cmd := &cobra.Command{
		Use:     "create TOPIC",
		Short:   "Create a topic",
		Example: `  strait topic create orders --partitions 3 --config retention.ms=86400000`,
		Args:    exactArgs("TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			configs, err := cfg.collect()
			if err != nil {
				return err
			}
			kconfigs := make(map[string]*string, len(configs))
			for k, v := range configs {
				kconfigs[k] = &v
			}
			cl, adm, err := g.Kafka()
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := g.Context()
			defer cancel()
			resp, err := adm.CreateTopic(ctx, partitions, rf, kconfigs, args[0])
			if err != nil {
				return fmt.Errorf("creating topic %q: %w", args[0], withBrokerMessage(err, resp.ErrMessage))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created topic %q.\n", args[0])
			return nil
		},
	}
	cmd.Flags().Int32Var(&partitions, "partitions", -1, "number of partitions (default: the broker's num.partitions)")
	cmd.Flags().Int16Var(&rf, "replication-factor", -1, "replication factor (default: the broker's default.replication.factor)")
	cfg.add(cmd, "topic configs", false)
	return cmd
}

func newTopicList(g *Globals) *cobra.Command {
	var internal bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List topics",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, ctx, adm, done, err := g.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			list := adm.ListTopics
			if internal {
				list = adm.ListTopicsWithInternal
			}
			tds, err := list(ctx)
			if err != nil {
				return err
			}
			var rows [][]string
			for _, td := range tds.Sorted() {
				if td.Err != nil {
					continue
				}
				rows = append(rows, []string{td.Topic, strconv.FormatBool(td.IsInternal), strconv.Itoa(replicationOf(td)), strconv.Itoa(len(td.Partitions))})
			}
			return p.Table([]string{"Name", "Internal", "Replication Factor", "Partition Count"}, rows)
		},
	}
	cmd.Flags().BoolVar(&internal, "include-internal", false, "also list internal topics such as __consumer_offsets")
	return cmd
}

func replicationOf(td kadm.TopicDetail) int {
	rf := 0
	for _, p := range td.Partitions {
		rf = max(rf, len(p.Replicas))
	}
	return rf
}

// topicDescription is `topic describe -o json|yaml`.
type topicDescription struct {
	TopicName         string                 `json:"topic_name"`
	TopicID           string                 `json:"topic_id"`
	IsInternal        bool                   `json:"is_internal"`
	PartitionsCount   int                    `json:"partitions_count"`
	ReplicationFactor int                    `json:"replication_factor"`
	Partitions        []partitionDescription `json:"partitions"`
	Configs           []configDescription    `json:"configs"`
}

type partitionDescription struct {
	Partition      int32   `json:"partition"`
	Leader         int32   `json:"leader"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	LogStartOffset int64   `json:"log_start_offset"`
	HighWatermark  int64   `json:"high_watermark"`
}

type configDescription struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	Source      string `json:"source"`
	IsSensitive bool   `json:"is_sensitive"`
}

func newTopicDescribe(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "describe TOPIC",
		Short: "Describe a topic: partitions with leader, replicas and offsets, and configs",
		Args:  exactArgs("TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, ctx, adm, done, err := g.open(cmd)
			if err != nil {
				return err
			}
			defer done()
			d, err := describeTopic(ctx, adm, args[0])
			if err != nil {
				return err
			}
			if p.Format != FormatTable {
				return p.Object(d)
			}
			if err := printRecord(p, []string{"Topic", "ID", "Internal", "Partitions", "Replication Factor"},
				[]string{d.TopicName, d.TopicID, strconv.FormatBool(d.IsInternal), strconv.Itoa(d.PartitionsCount), strconv.Itoa(d.ReplicationFactor)}); err != nil {
				return err
			}
			var rows [][]string
			for _, pd := range d.Partitions {
				rows = append(rows, []string{strconv.Itoa(int(pd.Partition)), strconv.Itoa(int(pd.Leader)), joinInt32(pd.Replicas), joinInt32(pd.ISR),
					i64(pd.LogStartOffset), i64(pd.HighWatermark)})
			}
			fmt.Fprintln(p.W)
			if err := p.Table([]string{"Partition", "Leader", "Replicas", "ISR", "Log Start Offset", "High Watermark"}, rows); err != nil {
				return err
			}
			rows = rows[:0]
			for _, c := range d.Configs {
				rows = append(rows, []string{c.Name, c.Value, c.Source})
			}
			fmt.Fprintln(p.W)
			return p.Table([]string{"Config Name", "Config Value", "Source"}, rows)
		},
	}
}

func describeTopic(ctx context.Context, adm *kadm.Client, topic string) (topicDescription, error) {
	td, err := topicDetail(ctx, adm, topic)
	if err != nil {
		return topicDescription{}, err
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return topicDescription{}, fmt.Errorf("listing start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return topicDescription{}, fmt.Errorf("listing end offsets: %w", err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return topicDescription{}, fmt.Errorf("describing configs: %w", err)
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return topicDescription{}, fmt.Errorf("describing configs: %w", err)
	}
	d := topicDescription{
		TopicName: topic, TopicID: td.ID.String(), IsInternal: td.IsInternal,
		PartitionsCount: len(td.Partitions), ReplicationFactor: replicationOf(td),
		Partitions: []partitionDescription{}, Configs: []configDescription{},
	}
	offset := func(l kadm.ListedOffsets, p int32) int64 {
		if o, ok := l.Lookup(topic, p); ok && o.Err == nil {
			return o.Offset
		}
		return -1
	}
	for _, pd := range td.Partitions.Sorted() {
		d.Partitions = append(d.Partitions, partitionDescription{
			Partition: pd.Partition, Leader: pd.Leader, Replicas: nonNil(pd.Replicas), ISR: nonNil(pd.ISR),
			LogStartOffset: offset(starts, pd.Partition), HighWatermark: offset(ends, pd.Partition),
		})
	}
	for _, c := range rc.Configs {
		cd := configDescription{Name: c.Key, Value: c.MaybeValue(), Source: c.Source.String(), IsSensitive: c.Sensitive}
		if c.Sensitive {
			cd.Value = ""
		}
		d.Configs = append(d.Configs, cd)
	}
	return d, nil
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

func joinInt32(s []int32) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(int(v))
	}
	return strings.Join(parts, ",")
}

func newTopicDelete(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete TOPIC...",
		Short: "Delete topics",
		Args:  minArgs("TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, adm, err := g.Kafka()
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := g.Context()
			defer cancel()
			for _, t := range args {
				resp, err := adm.DeleteTopic(ctx, t)
				switch {
				case errors.Is(err, kerr.UnknownTopicOrPartition):
					return errTopicMissing(t)
				case err != nil:
					return fmt.Errorf("deleting topic %q: %w", t, withBrokerMessage(err, resp.ErrMessage))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted topic %q.\n", t)
			}
			return nil
		},
	}
}

func newTopicProduce(g *Globals) *cobra.Command {
	var keySep string
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Produce one record per line of standard input (acks=all)",
		Long: `Produce one record per line of standard input, with acks=all, until the end of
the input (Ctrl-D). With --key-separator each line is KEY<SEP>VALUE. Nothing is
printed on success; a record that fails prints one line on stderr, and the
command exits non-zero if any did. A mirror topic is read-only: producing into
one stops at the first refusal with that one error.`,
		Example: `  printf 'a\nb\n' | strait topic produce orders
  strait topic produce orders --key-separator :`,
		Args: exactArgs("TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return produceLines(cmd, g, args[0], keySep)
		},
	}
	cmd.Flags().StringVar(&keySep, "key-separator", "", "split each line into key and value at the first SEP")
	return cmd
}

func produceLines(cmd *cobra.Command, g *Globals, topic, keySep string) error {
	cl, adm, err := g.Kafka(kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(g.Timeout))
	if err != nil {
		return err
	}
	defer cl.Close()
	checkCtx, cancel := g.Context()
	_, err = topicDetail(checkCtx, adm, topic)
	cancel()
	if err != nil {
		return err
	}

	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex // guards failed and stderr
		failed int

		// franz-go drops the broker's error message, so a produce into a
		// read-only mirror topic reports only INVALID_REQUEST. On the
		// first one the REST API says whether the topic is such a
		// mirror; if it is, that is the command's one error.
		mirrorCheck sync.Once
		readOnly    atomic.Bool
	)
	fail := func(line int, err error) {
		if errors.Is(err, kerr.InvalidRequest) {
			mirrorCheck.Do(func() { readOnly.Store(isReadOnlyMirror(g, topic)) })
		}
		mu.Lock()
		defer mu.Unlock()
		failed++
		if !readOnly.Load() || !errors.Is(err, kerr.InvalidRequest) {
			fmt.Fprintf(stderr, "line %d: %v\n", line, err)
		}
	}
	in := bufio.NewReader(cmd.InOrStdin())
	lines := 0
	for {
		s, rerr := in.ReadString('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			wg.Wait()
			return fmt.Errorf("reading standard input: %w", rerr)
		}
		if s == "" && rerr != nil {
			break
		}
		lines++
		n := lines
		s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
		rec := &kgo.Record{Value: []byte(s)}
		if keySep != "" {
			k, v, ok := strings.Cut(s, keySep)
			if !ok {
				fail(n, fmt.Errorf("no key separator %q", keySep))
				continue
			}
			rec.Key, rec.Value = []byte(k), []byte(v)
		}
		wg.Add(1)
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				fail(n, err)
			}
		})
		if rerr != nil || readOnly.Load() {
			break
		}
	}
	wg.Wait()
	if readOnly.Load() {
		return &readOnlyMirrorError{topic: topic}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d records failed", failed, lines)
	}
	return nil
}

// readOnlyMirrorError is the broker's refusal of a produce into a mirror
// topic, which franz-go reports only as INVALID_REQUEST: the code with the
// message the broker sent.
type readOnlyMirrorError struct{ topic string }

func (e *readOnlyMirrorError) Error() string {
	return fmt.Sprintf("%s: Cannot append records to read-only mirror topic '%s'", kerr.InvalidRequest.Message, e.topic)
}

func (e *readOnlyMirrorError) Unwrap() error { return kerr.InvalidRequest }

// isReadOnlyMirror reports whether the REST API at --url lists topic as a
// mirror topic that is not STOPPED (and so refuses produce). A REST API
// that does not answer, or answers with an error, counts as "no".
func isReadOnlyMirror(g *Globals, topic string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), min(g.Timeout, 10*time.Second))
	defer cancel()
	rc := g.restClient()
	path, err := rc.clusterPath(ctx, "links", "-", "mirrors")
	if err != nil {
		return false
	}
	var l restList[restMirror]
	if err := rc.do(ctx, http.MethodGet, path, nil, nil, &l); err != nil {
		return false
	}
	for _, m := range l.Data {
		if m.MirrorTopicName == topic && m.MirrorStatus != "STOPPED" {
			return true
		}
	}
	return false
}

type consumeOptions struct {
	group         string
	fromBeginning bool
	printOffsets  bool
	printKey      bool
	keySep        string
	maxMessages   int
}

func newTopicConsume(g *Globals) *cobra.Command {
	var o consumeOptions
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print the records of a topic, one value per line",
		Long: `Print the records of every partition of a topic, one value per line, reading
the partitions directly (no consumer group). Without --from-beginning it starts
at the end and prints only new records. It runs until --max-messages records
were printed, or until Ctrl-C. With -o json each record is one JSON object per
line.

With --group it consumes as a member of that consumer group instead: it starts
at the group's committed offsets (or, for partitions without one, where
--from-beginning says) and, when it exits, commits exactly the records it
printed, so the next member of the group starts right after them.`,
		Example: `  strait topic consume orders --from-beginning
  strait topic consume orders --from-beginning --print-offsets --print-key --max-messages 10
  strait topic consume orders --group billing --from-beginning --max-messages 100`,
		Args: exactArgs("TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.maxMessages < 0 {
				return fmt.Errorf("invalid --max-messages %d", o.maxMessages)
			}
			return consume(cmd, g, args[0], o)
		},
	}
	cmd.Flags().BoolVar(&o.fromBeginning, "from-beginning", false, "start at the beginning of each partition instead of its end")
	cmd.Flags().BoolVar(&o.printOffsets, "print-offsets", false, "prefix each record with partition:P<TAB>offset:O<TAB>")
	cmd.Flags().BoolVar(&o.printKey, "print-key", false, "print KEY<SEP>VALUE")
	cmd.Flags().StringVar(&o.keySep, "key-separator", "\t", "separator between key and value with --print-key")
	cmd.Flags().IntVar(&o.maxMessages, "max-messages", 0, "exit after this many records (0: never)")
	cmd.Flags().StringVar(&o.group, "group", "", "consume as a member of this consumer group, starting at its committed offsets and committing exactly the records printed")
	return cmd
}

// consumedRecord is a record as -o json prints it.
type consumedRecord struct {
	Partition int32   `json:"partition"`
	Offset    int64   `json:"offset"`
	Timestamp int64   `json:"timestamp"`
	Key       *string `json:"key"`
	Value     *string `json:"value"`
}

func bytesOrNull(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

func consume(cmd *cobra.Command, g *Globals, topic string, o consumeOptions) error {
	p, err := g.Printer(cmd)
	if err != nil {
		return err
	}
	start := kgo.NewOffset().AtEnd()
	if o.fromBeginning {
		start = kgo.NewOffset().AtStart()
	}
	opts := []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(start)}
	if o.group != "" {
		opts = append(opts, kgo.ConsumerGroup(o.group), kgo.DisableAutoCommit())
	}
	cl, adm, err := g.Kafka(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	// With a group, exactly the printed records are committed on the way
	// out, so the next member starts right after the last printed one.
	var printedRecs []*kgo.Record
	if o.group != "" {
		defer func() {
			if len(printedRecs) == 0 {
				return
			}
			cctx, cancel := g.Context()
			defer cancel()
			if err := cl.CommitRecords(cctx, printedRecs...); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "strait: committing offsets of group %s: %v\n", o.group, err)
			}
		}()
	}
	checkCtx, cancel := g.Context()
	_, err = topicDetail(checkCtx, adm, topic)
	cancel()
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := bufio.NewWriter(p.W)
	defer w.Flush()
	enc := json.NewEncoder(w)
	printed := 0
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil // interrupted: a normal end
		}
		var ferr error
		fs.EachError(func(t string, part int32, err error) {
			if ferr == nil {
				ferr = fmt.Errorf("fetching %s partition %d: %w", t, part, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		for it := fs.RecordIter(); !it.Done(); {
			r := it.Next()
			if p.Format == FormatJSON {
				if err := enc.Encode(consumedRecord{r.Partition, r.Offset, r.Timestamp.UnixMilli(), bytesOrNull(r.Key), bytesOrNull(r.Value)}); err != nil {
					return err
				}
			} else {
				if o.printOffsets {
					fmt.Fprintf(w, "partition:%d\toffset:%d\t", r.Partition, r.Offset)
				}
				if o.printKey {
					w.WriteString(nullable(r.Key))
					w.WriteString(o.keySep)
				}
				w.WriteString(nullable(r.Value))
				w.WriteByte('\n')
			}
			printed++
			if o.group != "" {
				printedRecs = append(printedRecs, r)
			}
			if o.maxMessages > 0 && printed >= o.maxMessages {
				return w.Flush()
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
}

// nullable prints a null key or value as "null", as Kafka's console
// consumer does.
func nullable(b []byte) string {
	if b == nil {
		return "null"
	}
	return string(b)
}
