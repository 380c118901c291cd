package rest

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/strait-kafka/strait/internal/link"
)

// linkData is Confluent's KafkaLinkData (ListLinksResponseData).
type linkData struct {
	Kind                 string          `json:"kind"`
	Metadata             resourceMeta    `json:"metadata"`
	SourceClusterID      *string         `json:"source_cluster_id"`
	DestinationClusterID *string         `json:"destination_cluster_id"`
	LinkName             string          `json:"link_name"`
	LinkID               string          `json:"link_id,omitempty"` // deprecated UUID form of cluster_link_id
	ClusterLinkID        string          `json:"cluster_link_id"`
	TopicNames           []string        `json:"topic_names"`
	LinkState            string          `json:"link_state"`
	LinkError            string          `json:"link_error"`
	LinkErrorMessage     *string         `json:"link_error_message"`
	Tasks                *[]linkTask     `json:"tasks,omitempty"` // only with include_tasks=true
	CategoryCounts       []categoryCount `json:"category_counts"`
}

type linkTask struct {
	TaskName string       `json:"task_name"`
	State    string       `json:"state"`
	Errors   []errorEntry `json:"errors"`
}

// errorEntry is Confluent's LinkTaskError, also used for mirror state
// transition errors.
type errorEntry struct {
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

type categoryCount struct {
	StateCategory string `json:"state_category"`
	Count         int    `json:"count"`
}

// linkConfigData is Confluent Cloud's KafkaLinkConfigData.
type linkConfigData struct {
	Kind        string       `json:"kind"`
	Metadata    resourceMeta `json:"metadata"`
	ClusterID   string       `json:"cluster_id"`
	Name        string       `json:"name"`
	Value       *string      `json:"value"` // null when sensitive
	IsDefault   bool         `json:"is_default"`
	IsReadOnly  bool         `json:"is_read_only"`
	IsSensitive bool         `json:"is_sensitive"`
	Source      string       `json:"source"`
	Synonyms    []string     `json:"synonyms"`
	LinkName    string       `json:"link_name"`
}

// createLinkBody is CreateLinkRequestData. Only destination-initiated
// links are served; the other IDs are decoded so that their use gets a
// clear error instead of "unknown field".
type createLinkBody struct {
	SourceClusterID      string       `json:"source_cluster_id"`
	DestinationClusterID string       `json:"destination_cluster_id"`
	RemoteClusterID      string       `json:"remote_cluster_id"`
	ClusterLinkID        string       `json:"cluster_link_id"`
	Configs              []configData `json:"configs"`
}

type updateLinkConfigBody struct {
	Value *string `json:"value"`
}

// alterLinkConfigsBody is AlterConfigBatchRequestData.
type alterLinkConfigsBody struct {
	Data         []alterConfigEntry `json:"data"`
	ValidateOnly bool               `json:"validate_only"`
}

type alterConfigEntry struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"`
	Operation *string `json:"operation"` // SET (default) or DELETE
}

// stateCategoryOrder orders category_counts; unknown categories follow,
// alphabetically.
var stateCategoryOrder = []string{"ACTIVE", "PAUSED", "PENDING", "IN_ERROR", "NOT_APPLICABLE"}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// legacyLinkID is the UUID form of a 22-character base64 cluster link ID,
// or "" when the ID is not one.
func legacyLinkID(id string) string {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != 16 {
		return ""
	}
	return uuid.UUID(b).String()
}

func (s *Server) linkData(r *http.Request, li link.LinkInfo, includeTasks bool) linkData {
	d := linkData{
		Kind:                 "KafkaLinkData",
		Metadata:             resourceMeta{Self: selfURL(r, pathOf("clusters", s.clusterID(), "links", li.Name))},
		SourceClusterID:      optString(li.SourceClusterID),
		DestinationClusterID: optString(li.DestinationClusterID),
		LinkName:             li.Name,
		LinkID:               legacyLinkID(li.ID),
		ClusterLinkID:        li.ID,
		TopicNames:           slices.Clone(li.Topics),
		LinkState:            li.State,
		LinkError:            cmp.Or(li.Error, "NO_ERROR"),
		LinkErrorMessage:     optString(li.ErrorMessage),
		CategoryCounts:       []categoryCount{},
	}
	if d.TopicNames == nil {
		d.TopicNames = []string{}
	}
	slices.Sort(d.TopicNames)
	if includeTasks {
		tasks := make([]linkTask, 0, len(li.Tasks))
		for _, t := range li.Tasks {
			tasks = append(tasks, linkTask{TaskName: t.Name, State: t.State, Errors: errorEntries(t.Errors)})
		}
		d.Tasks = &tasks
	}
	for c, n := range li.MirrorStateCounts {
		d.CategoryCounts = append(d.CategoryCounts, categoryCount{StateCategory: c, Count: n})
	}
	rank := func(c string) int {
		if i := slices.Index(stateCategoryOrder, c); i >= 0 {
			return i
		}
		return len(stateCategoryOrder)
	}
	slices.SortFunc(d.CategoryCounts, func(a, b categoryCount) int {
		return cmp.Or(cmp.Compare(rank(a.StateCategory), rank(b.StateCategory)), strings.Compare(a.StateCategory, b.StateCategory))
	})
	return d
}

func errorEntries(es []link.TaskError) []errorEntry {
	out := make([]errorEntry, 0, len(es))
	for _, e := range es {
		out = append(out, errorEntry{ErrorCode: e.Code, ErrorMessage: e.Message})
	}
	return out
}

func (s *Server) listLinks(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	infos, err := svc.ListLinks(r.Context())
	if err != nil {
		return err
	}
	out := make([]linkData, 0, len(infos))
	for _, li := range infos {
		out = append(out, s.linkData(r, li, false))
	}
	slices.SortFunc(out, func(a, b linkData) int { return strings.Compare(a.LinkName, b.LinkName) })
	writeJSON(w, http.StatusOK, newList("KafkaLinkDataList", selfURL(r, pathOf("clusters", s.clusterID(), "links")), out))
	return nil
}

func (s *Server) createLink(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	name := q.Get("link_name")
	if name == "" {
		return badRequest("link_name is required")
	}
	validateOnly, err := queryBool(q, "validate_only", false)
	if err != nil {
		return err
	}
	validateLink, err := queryBool(q, "validate_link", true)
	if err != nil {
		return err
	}
	var body createLinkBody
	if err := decodeBody(r, &body, true); err != nil {
		return err
	}
	switch {
	case body.DestinationClusterID != "":
		return badRequest("destination_cluster_id is for source-initiated links, which Strait does not serve: only DESTINATION links are served; give source_cluster_id")
	case body.RemoteClusterID != "":
		return badRequest("remote_cluster_id is for bidirectional links, which Strait does not serve: only DESTINATION links are served; give source_cluster_id")
	case body.ClusterLinkID != "":
		return badRequest("cluster_link_id is for bidirectional links, which Strait does not serve: only DESTINATION links are served")
	}
	configs, err := configMap("configs", body.Configs)
	if err != nil {
		return err
	}
	err = svc.CreateLink(r.Context(), link.CreateLinkRequest{
		Name:            name,
		SourceClusterID: body.SourceClusterID,
		Configs:         configs,
		ValidateOnly:    validateOnly,
		SkipValidation:  !validateLink,
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getLink(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	includeTasks, err := queryBool(r.URL.Query(), "include_tasks", false)
	if err != nil {
		return err
	}
	li, err := svc.DescribeLink(r.Context(), r.PathValue("link_name"), includeTasks)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.linkData(r, li, includeTasks))
	return nil
}

func (s *Server) deleteLink(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	force, err := queryBool(q, "force", false)
	if err != nil {
		return err
	}
	validateOnly, err := queryBool(q, "validate_only", false)
	if err != nil {
		return err
	}
	if err := svc.DeleteLink(r.Context(), r.PathValue("link_name"), force, validateOnly); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) linkConfigData(r *http.Request, linkName string, c link.ConfigEntry) linkConfigData {
	id := s.clusterID()
	d := linkConfigData{
		Kind:        "KafkaLinkConfigData",
		Metadata:    resourceMeta{Self: selfURL(r, pathOf("clusters", id, "links", linkName, "configs", c.Name))},
		ClusterID:   id,
		Name:        c.Name,
		Value:       c.Value,
		IsDefault:   c.IsDefault,
		IsReadOnly:  c.ReadOnly,
		IsSensitive: c.Sensitive,
		Source:      c.Source,
		Synonyms:    slices.Clone(c.Synonyms),
		LinkName:    linkName,
	}
	if c.Sensitive {
		d.Value = nil
	}
	if d.Synonyms == nil {
		d.Synonyms = []string{}
	}
	return d
}

func (s *Server) listLinkConfigs(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	name := r.PathValue("link_name")
	entries, err := svc.LinkConfigs(r.Context(), name)
	if err != nil {
		return err
	}
	out := make([]linkConfigData, 0, len(entries))
	for _, c := range entries {
		out = append(out, s.linkConfigData(r, name, c))
	}
	slices.SortFunc(out, func(a, b linkConfigData) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, newList("KafkaLinkConfigDataList", selfURL(r, pathOf("clusters", s.clusterID(), "links", name, "configs")), out))
	return nil
}

func (s *Server) getLinkConfig(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	name, cfg := r.PathValue("link_name"), r.PathValue("config_name")
	entries, err := svc.LinkConfigs(r.Context(), name)
	if err != nil {
		return err
	}
	for _, c := range entries {
		if c.Name == cfg {
			writeJSON(w, http.StatusOK, s.linkConfigData(r, name, c))
			return nil
		}
	}
	return notFound("Config '%s' not found for cluster link '%s'.", cfg, name)
}

func (s *Server) updateLinkConfig(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	var body updateLinkConfigBody
	if err := decodeBody(r, &body, false); err != nil {
		return err
	}
	if body.Value == nil {
		return badRequest("value is required")
	}
	name, cfg := r.PathValue("link_name"), r.PathValue("config_name")
	if err := svc.AlterLinkConfigs(r.Context(), name, map[string]string{cfg: *body.Value}, nil, false); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) resetLinkConfig(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	name, cfg := r.PathValue("link_name"), r.PathValue("config_name")
	if err := svc.AlterLinkConfigs(r.Context(), name, nil, []string{cfg}, false); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) alterLinkConfigs(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.links()
	if err != nil {
		return err
	}
	validateOnly, err := queryBool(r.URL.Query(), "validate_only", false)
	if err != nil {
		return err
	}
	var body alterLinkConfigsBody
	if err := decodeBody(r, &body, false); err != nil {
		return err
	}
	set, reset, err := splitAlterations(body.Data)
	if err != nil {
		return err
	}
	if err := svc.AlterLinkConfigs(r.Context(), r.PathValue("link_name"), set, reset, validateOnly || body.ValidateOnly); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// splitAlterations turns a batch into configs to set and configs to reset.
func splitAlterations(data []alterConfigEntry) (map[string]string, []string, error) {
	if len(data) == 0 {
		return nil, nil, badRequest("data is required: give at least one {name, value, operation}")
	}
	set := map[string]string{}
	var reset []string
	seen := map[string]bool{}
	for i, e := range data {
		if e.Name == "" {
			return nil, nil, badRequest("data[%d].name is required", i)
		}
		if seen[e.Name] {
			return nil, nil, badRequest("data: config %q is given twice", e.Name)
		}
		seen[e.Name] = true
		op := "SET"
		if e.Operation != nil && *e.Operation != "" {
			op = strings.ToUpper(*e.Operation)
		}
		switch op {
		case "SET":
			if e.Value == nil {
				return nil, nil, badRequest("data[%d].value is required to SET config %q", i, e.Name)
			}
			set[e.Name] = *e.Value
		case "DELETE":
			reset = append(reset, e.Name)
		default:
			return nil, nil, badRequest("data[%d].operation: invalid value %q (use SET or DELETE)", i, *e.Operation)
		}
	}
	return set, reset, nil
}
