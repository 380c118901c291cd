package broker

// DescribeCluster (key 60), versions 0-1.
//
// v1 adds EndpointType (1 = brokers; 2 = controllers, which Strait does not
// expose separately, so it is refused with UNSUPPORTED_ENDPOINT_TYPE).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(60, 0, 1, handleDescribeCluster) }

func handleDescribeCluster(_ context.Context, b *Broker, _ *Session, kreq kmsg.Request) (Reply, error) {
	req := kreq.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.EndpointType = 1
	if req.Version >= 1 && req.EndpointType != 1 {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		msg := "only broker endpoints (endpoint type 1) are served"
		resp.ErrorMessage = &msg
		return Reply{Msg: resp}, nil
	}
	resp.ClusterID = b.ClusterID()
	resp.ControllerID = b.nodeID
	resp.ClusterAuthorizedOperations = -2147483648
	for _, br := range b.brokerList() {
		rb := kmsg.NewDescribeClusterResponseBroker()
		rb.NodeID, rb.Host, rb.Port = br.NodeID, br.Host, br.Port
		if br.Rack != "" {
			rack := br.Rack
			rb.Rack = &rack
		}
		resp.Brokers = append(resp.Brokers, rb)
	}
	return Reply{Msg: resp}, nil
}
