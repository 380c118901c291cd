package bench

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
)

// This file is the small REST API v3 client the link benchmarks use: the
// destination cluster's links and mirror topics.

// restPrefix is the REST API v3 path below a broker's HTTP address.
const restPrefix = "/kafka/v3"

// Link configs that shape the mirror benchmarks; a created link sets them
// short so that a new mirror is noticed within a second and an idle
// fetcher answers new data within 100 ms.
const (
	linkMetadataMaxAge = "1000"
	linkFetchWaitMax   = "100"
)

// restError is an error answer of the REST API.
type restError struct {
	method, path string
	status, code int
	message      string
}

func (e *restError) Error() string {
	return fmt.Sprintf("bench: REST %s %s: %d %s (error_code %d)", e.method, e.path, e.status, e.message, e.code)
}

func (e *restError) Is(target error) bool { return target == ErrREST }

// restClient speaks to one cluster's REST API; the cluster ID is fetched
// once by newRESTClient.
type restClient struct {
	hc      *http.Client
	base    string // absolute URL of /kafka/v3
	cluster string
}

// newRESTClient checks that base (an HTTP listener, with or without the
// /kafka/v3 suffix) answers, and learns its cluster ID.
func newRESTClient(ctx context.Context, hc *http.Client, base string) (*restClient, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	b := strings.TrimRight(base, "/")
	if !strings.HasSuffix(b, restPrefix) {
		b += restPrefix
	}
	c := &restClient{hc: hc, base: b}
	var l struct {
		Data []struct {
			ClusterID string `json:"cluster_id"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/clusters", nil, nil, &l); err != nil {
		return nil, err
	}
	if len(l.Data) == 0 || l.Data[0].ClusterID == "" {
		return nil, fmt.Errorf("%w: %s lists no cluster", ErrREST, b)
	}
	c.cluster = l.Data[0].ClusterID
	return c, nil
}

// linkPath is /clusters/<id>/links/<link>/<more...>, escaped.
func (c *restClient) linkPath(link string, more ...string) string {
	p := "/clusters/" + url.PathEscape(c.cluster) + "/links/" + url.PathEscape(link)
	for _, m := range more {
		p += "/" + url.PathEscape(m)
	}
	return p
}

// do sends in as JSON (if not nil) and decodes a 2xx answer into out (if
// not nil). Error answers become *restError.
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
		return fmt.Errorf("%w: %v", ErrREST, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrREST, method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%w: %s %s: reading the answer: %w", ErrREST, method, u, err)
	}
	if resp.StatusCode >= 300 {
		e := &restError{method: method, path: path, status: resp.StatusCode, message: strings.TrimSpace(string(b))}
		var eb struct {
			ErrorCode int    `json:"error_code"`
			Message   string `json:"message"`
		}
		if json.Unmarshal(b, &eb) == nil && eb.Message != "" {
			e.code, e.message = eb.ErrorCode, eb.Message
		}
		return e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %s %s: decoding the answer: %w", ErrREST, method, u, err)
	}
	return nil
}

func isNotFound(err error) bool {
	var re *restError
	return errors.As(err, &re) && re.status == http.StatusNotFound
}

// linkSetup is what ensureLink found or made.
type linkSetup struct {
	Created bool
	// Configs holds the link configs that shape the measurements, as the
	// link reports them: bootstrap.servers, cluster.link.prefix,
	// metadata.max.age.ms, replica.fetch.wait.max.ms.
	Configs map[string]string
}

// reportedLinkConfigs are the link configs a benchmark reports.
var reportedLinkConfigs = []string{"bootstrap.servers", "cluster.link.prefix", "metadata.max.age.ms", "replica.fetch.wait.max.ms"}

// ensureLink reuses link if it exists and otherwise, if create allows,
// creates it towards source with the short periods above.
func (c *restClient) ensureLink(ctx context.Context, link string, source []string, create bool) (linkSetup, error) {
	var s linkSetup
	err := c.do(ctx, http.MethodGet, c.linkPath(link), nil, nil, nil)
	switch {
	case isNotFound(err) && create:
		body := struct {
			Configs []restConfig `json:"configs"`
		}{[]restConfig{
			{"bootstrap.servers", strings.Join(source, ",")},
			{"metadata.max.age.ms", linkMetadataMaxAge},
			{"replica.fetch.wait.max.ms", linkFetchWaitMax},
		}}
		q := url.Values{"link_name": {link}}
		if err := c.do(ctx, http.MethodPost, "/clusters/"+url.PathEscape(c.cluster)+"/links", q, body, nil); err != nil {
			return s, err
		}
		s.Created = true
	case isNotFound(err):
		return s, fmt.Errorf("%w: cluster link %q does not exist and link creation is off", ErrInvalidOption, link)
	case err != nil:
		return s, err
	}
	var l struct {
		Data []struct {
			Name  string  `json:"name"`
			Value *string `json:"value"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, c.linkPath(link, "configs"), nil, nil, &l); err != nil {
		return s, err
	}
	s.Configs = map[string]string{}
	for _, kv := range l.Data {
		for _, k := range reportedLinkConfigs {
			if kv.Name == k && kv.Value != nil {
				s.Configs[k] = *kv.Value
			}
		}
	}
	return s, nil
}

type restConfig struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// createMirror creates a mirror of sourceTopic named by the link's prefix.
func (c *restClient) createMirror(ctx context.Context, link, sourceTopic string) error {
	body := struct {
		SourceTopicName string `json:"source_topic_name"`
	}{sourceTopic}
	return c.do(ctx, http.MethodPost, c.linkPath(link, "mirrors"), nil, body, nil)
}

// restMirror is the part of KafkaMirrorData the benchmarks read.
type restMirror struct {
	MirrorTopicName  string `json:"mirror_topic_name"`
	SourceTopicName  string `json:"source_topic_name"`
	MirrorStatus     string `json:"mirror_status"`
	MirrorTopicError string `json:"mirror_topic_error"`
	StateTimeMs      int64  `json:"state_time_ms"`
	MirrorLags       []struct {
		Partition int32 `json:"partition"`
		Lag       int64 `json:"lag"`
	} `json:"mirror_lags"`
}

// listMirrors lists link's mirror topics, only those in status if it is
// not empty.
func (c *restClient) listMirrors(ctx context.Context, link, status string) ([]restMirror, error) {
	var q url.Values
	if status != "" {
		q = url.Values{"mirror_status": {status}}
	}
	var l struct {
		Data []restMirror `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, c.linkPath(link, "mirrors"), q, nil, &l); err != nil {
		return nil, err
	}
	return l.Data, nil
}

// restAlterResult is one topic's outcome of a mirror verb.
type restAlterResult struct {
	MirrorTopicName string  `json:"mirror_topic_name"`
	ErrorCode       *int    `json:"error_code"`
	ErrorMessage    *string `json:"error_message"`
}

// alterMirrors applies verb (promote, failover, ...) to topics in one call.
func (c *restClient) alterMirrors(ctx context.Context, link, verb string, topics []string) ([]restAlterResult, error) {
	body := struct {
		MirrorTopicNames []string `json:"mirror_topic_names"`
	}{topics}
	var l struct {
		Data []restAlterResult `json:"data"`
	}
	path := "/clusters/" + url.PathEscape(c.cluster) + "/links/" + url.PathEscape(link) + "/mirrors:" + verb
	if err := c.do(ctx, http.MethodPost, path, nil, body, &l); err != nil {
		return nil, err
	}
	return l.Data, nil
}
