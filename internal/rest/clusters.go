package rest

import (
	"net/http"
)

// clusterData is Confluent's KafkaCluster, limited to what Strait serves.
type clusterData struct {
	Kind      string       `json:"kind"`
	Metadata  resourceMeta `json:"metadata"`
	ClusterID string       `json:"cluster_id"`
	Topics    related      `json:"topics"`
	Links     related      `json:"links"`
}

func (s *Server) cluster(r *http.Request) clusterData {
	id := s.clusterID()
	return clusterData{
		Kind:      "KafkaCluster",
		Metadata:  resourceMeta{Self: selfURL(r, pathOf("clusters", id)), ResourceName: crn("kafka=" + id)},
		ClusterID: id,
		Topics:    related{selfURL(r, pathOf("clusters", id, "topics"))},
		Links:     related{selfURL(r, pathOf("clusters", id, "links"))},
	}
}

func (s *Server) listClusters(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, newList("KafkaClusterList", selfURL(r, pathOf("clusters")), []clusterData{s.cluster(r)}))
	return nil
}

func (s *Server) getCluster(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.cluster(r))
	return nil
}
