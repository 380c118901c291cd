package metadata

// This file holds the checks shared by both stores. Names end up in etcd
// keys, so what is stored is restricted to what Kafka itself allows.

import (
	"fmt"
	"github.com/google/uuid"
	"strconv"
)

// maxTopicNameLen is Kafka's limit (249).
const maxTopicNameLen = 249

func validTopicNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// validateTopicName applies Kafka's topic name rule: 1 to 249 characters of
// [a-zA-Z0-9._-], and not "." or "..".
func validateTopicName(name string) error {
	if name == "" || len(name) > maxTopicNameLen || name == "." || name == ".." {
		return fmt.Errorf("%w: topic name %q", ErrInvalid, name)
	}
	for i := 0; i < len(name); i++ {
		if !validTopicNameByte(name[i]) {
			return fmt.Errorf("%w: topic name %q has illegal character %q", ErrInvalid, name, name[i])
		}
	}
	return nil
}

// configsNode maps a BrokerConfigs node to its key segment: "" is the
// cluster default ("default"); anything else must be a broker ID in
// canonical decimal form.
func configsNode(node string) (string, error) {
	if node == "" {
		return "default", nil
	}
	n, err := strconv.ParseInt(node, 10, 32)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != node {
		return "", fmt.Errorf("%w: broker config node %q is neither \"\" nor a broker ID", ErrInvalid, node)
	}
	return node, nil
}

func validateBroker(b Broker) error {
	if b.NodeID < 0 {
		return fmt.Errorf("%w: broker node ID %d", ErrInvalid, b.NodeID)
	}
	return nil
}

func validateSpec(spec TopicSpec) error {
	if err := validateTopicName(spec.Name); err != nil {
		return err
	}
	if len(spec.Partitions) == 0 {
		return fmt.Errorf("%w: topic %q needs at least one partition", ErrInvalid, spec.Name)
	}
	return nil
}

// specID is the ID a new topic gets: the spec's, or a new random one.
func specID(spec TopicSpec) uuid.UUID {
	if spec.ID != uuid.Nil {
		return spec.ID
	}
	return newTopicID()
}

// validateLinkName applies the cluster link name rule: 1-200 characters of
// [a-zA-Z0-9._-], not "." or "..".
func validateLinkName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 200 {
		return fmt.Errorf("%w: link name %q", ErrInvalid, name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: link name %q", ErrInvalid, name)
		}
	}
	return nil
}
