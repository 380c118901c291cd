package partition

import (
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"
)

// encodeTopicID renders a topic ID the way Kafka prints it: URL-safe base64
// without padding.
func encodeTopicID(id uuid.UUID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

func decodeTopicID(s string) (uuid.UUID, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return uuid.Nil, fmt.Errorf("partition: bad topic id %q", s)
	}
	var id uuid.UUID
	copy(id[:], b)
	return id, nil
}
