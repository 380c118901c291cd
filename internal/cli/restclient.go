package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// restBase is the REST API v3 prefix below --url.
const restBase = "/kafka/v3"

// APIError is an error answer of the REST API: its HTTP status and the
// body's error_code and message.
type APIError struct {
	Status  int
	Code    int
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("REST API answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return e.Message
}

// restClient speaks the REST API v3 of one cluster. The cluster ID is
// discovered with GET /kafka/v3/clusters on first use.
type restClient struct {
	base    string // absolute URL of /kafka/v3
	err     error  // a --url that is not usable; every request fails with it
	timeout time.Duration
	hc      *http.Client
	cluster string
}

// restClient returns a client for --url. A --url that already ends in
// /kafka/v3 is taken as is, and one without a scheme (HOST:PORT, as
// `strait serve` prints its HTTP address) means http://HOST:PORT.
func (g *Globals) restClient() *restClient {
	base, err := restBaseURL(g.URL)
	return &restClient{base: base, err: err, timeout: g.Timeout, hc: &http.Client{}}
}

// restBaseURL checks --url and returns the absolute URL of /kafka/v3.
func restBaseURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("--url is empty: give the cluster's HTTP address, such as http://127.0.0.1:8090")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("invalid --url %q: give the cluster's HTTP address, such as http://127.0.0.1:8090", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("invalid --url %q: the scheme must be http or https, not %s", raw, u.Scheme)
	}
	s = strings.TrimRight(s, "/")
	if !strings.HasSuffix(s, restBase) {
		s += restBase
	}
	return s, nil
}

// clusterPath is /clusters/<id>/<segments...>, each segment escaped.
func (c *restClient) clusterPath(ctx context.Context, segments ...string) (string, error) {
	if c.err != nil {
		return "", c.err
	}
	if c.cluster == "" {
		var l restList[struct {
			ClusterID string `json:"cluster_id"`
		}]
		if err := c.do(ctx, http.MethodGet, "/clusters", nil, nil, &l); err != nil {
			return "", err
		}
		if len(l.Data) == 0 || l.Data[0].ClusterID == "" {
			return "", fmt.Errorf("the REST API at %s lists no cluster", c.base)
		}
		c.cluster = l.Data[0].ClusterID
	}
	p := "/clusters/" + url.PathEscape(c.cluster)
	for _, s := range segments {
		p += "/" + url.PathEscape(s)
	}
	return p, nil
}

// do sends in (if not nil) as JSON and decodes a 2xx answer into out (if
// not nil). An error answer becomes an *APIError.
func (c *restClient) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("REST API at %s: reading the answer: %w", c.base, err)
	}
	if resp.StatusCode >= 300 {
		e := &APIError{Status: resp.StatusCode}
		var eb struct {
			ErrorCode int     `json:"error_code"`
			Message   *string `json:"message"`
		}
		if json.Unmarshal(b, &eb) == nil && eb.Message != nil {
			e.Code, e.Message = eb.ErrorCode, oneLine(*eb.Message)
		} else {
			// Not the REST API's error body: most likely --url names
			// something other than a Strait HTTP listener.
			e.Message = fmt.Sprintf("the server at %s answered %d %s to %s %s, not a REST API error (is --url the HTTP address of a Strait broker?)",
				c.base, resp.StatusCode, http.StatusText(resp.StatusCode), method, path)
			if first, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n"); first != "" {
				e.Message += ": " + truncate(first, 120)
			}
		}
		return e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("REST API at %s: decoding the answer to %s %s: %w", c.base, method, path, err)
	}
	return nil
}

// transportError says why a request got no HTTP answer at all.
func (c *restClient) transportError(method string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) && method != http.MethodGet:
		// The server may have the request and finish it after we stop
		// waiting (a link whose source is slow to validate, say).
		return fmt.Errorf("no answer from the REST API at %s within --timeout %v; the change may still be applied, so check before retrying", c.base, c.timeout)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer from the REST API at %s within --timeout %v", c.base, c.timeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		// net/http's own (unexported) error for a server that closed the
		// connection before answering anything.
		strings.Contains(err.Error(), "server closed idle connection"):
		return fmt.Errorf("the server at %s closed the connection without an HTTP answer (is --url the HTTP address of a Strait broker, not its Kafka address?)", c.base)
	}
	return unreachable("the REST API", c.base, "--url", err, c.timeout)
}

// truncate shortens s to at most n runes.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

// The REST documents the CLI reads. Decoding is lenient: fields the CLI
// does not know are ignored.

type restList[T any] struct {
	Data []T `json:"data"`
}

type restConfig struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

type restLink struct {
	LinkName             string   `json:"link_name"`
	ClusterLinkID        string   `json:"cluster_link_id"`
	SourceClusterID      *string  `json:"source_cluster_id"`
	DestinationClusterID *string  `json:"destination_cluster_id"`
	TopicNames           []string `json:"topic_names"`
	LinkState            string   `json:"link_state"`
	LinkError            string   `json:"link_error"`
	LinkErrorMessage     *string  `json:"link_error_message"`
	Tasks                []struct {
		TaskName string          `json:"task_name"`
		State    string          `json:"state"`
		Errors   []restTaskError `json:"errors"`
	} `json:"tasks"`
	CategoryCounts []struct {
		StateCategory string `json:"state_category"`
		Count         int    `json:"count"`
	} `json:"category_counts"`
}

type restTaskError struct {
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

type restLinkConfig struct {
	Name        string   `json:"name"`
	Value       *string  `json:"value"`
	IsReadOnly  bool     `json:"is_read_only"`
	IsSensitive bool     `json:"is_sensitive"`
	Source      string   `json:"source"`
	Synonyms    []string `json:"synonyms"`
}

type restMirrorLag struct {
	Partition             int32  `json:"partition"`
	Lag                   int64  `json:"lag"`
	LastSourceFetchOffset int64  `json:"last_source_fetch_offset"`
	TimeSinceLastFetchMs  *int64 `json:"time_since_last_fetch_ms"` // Strait's REST only
}

type restMirror struct {
	LinkName         string          `json:"link_name"`
	MirrorTopicName  string          `json:"mirror_topic_name"`
	SourceTopicName  string          `json:"source_topic_name"`
	NumPartitions    int             `json:"num_partitions"`
	MirrorLags       []restMirrorLag `json:"mirror_lags"`
	MirrorStatus     string          `json:"mirror_status"`
	MirrorTopicError string          `json:"mirror_topic_error"`
	StateTimeMs      int64           `json:"state_time_ms"`
}

type restAlterMirror struct {
	MirrorTopicName string          `json:"mirror_topic_name"`
	ErrorCode       *int            `json:"error_code"`
	ErrorMessage    *string         `json:"error_message"`
	MirrorLags      []restMirrorLag `json:"mirror_lags"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// shownError hides the "no error" values the REST API reports.
func shownError(e string) string {
	if e == "NO_ERROR" {
		return ""
	}
	return e
}
