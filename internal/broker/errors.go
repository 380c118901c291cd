package broker

import (
	"errors"
	"io/fs"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
)

// codeTable maps internal sentinel errors to Kafka error codes. It is the one
// place such a mapping lives; errors.Is sees through wrapping.
var codeTable = []struct {
	err  error
	code *kerr.Error
}{
	{metadata.ErrTopicExists, kerr.TopicAlreadyExists},
	{metadata.ErrTopicNotFound, kerr.UnknownTopicOrPartition},
	{metadata.ErrInvalid, kerr.InvalidRequest},
	{metadata.ErrUnavailable, kerr.KafkaStorageError},
	{storage.ErrOffsetOutOfRange, kerr.OffsetOutOfRange},
	{storage.ErrClosed, kerr.NotLeaderForPartition},
	{storage.ErrFailed, kerr.KafkaStorageError},
	{storage.ErrDamaged, kerr.KafkaStorageError},
	{config.ErrUnknownConfig, kerr.InvalidConfig},
	{config.ErrInvalidConfig, kerr.InvalidConfig},
	{record.ErrCorrupt, kerr.CorruptMessage},
	{record.ErrShort, kerr.CorruptMessage},
	{record.ErrInvalid, kerr.InvalidRecord},
}

// errorCode returns the Kafka error code for err (0 for nil).
func errorCode(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	for _, e := range codeTable {
		if errors.Is(err, e.err) {
			return e.code.Code
		}
	}
	// A failed file operation (no space, an I/O error, too many open
	// files) is the disk's problem, which clients retry.
	var pe *fs.PathError
	var errno syscall.Errno
	if errors.As(err, &pe) || errors.As(err, &errno) {
		return kerr.KafkaStorageError.Code
	}
	return kerr.UnknownServerError.Code
}

// errorMessage returns a message for response fields that carry one, or nil.
func errorMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}
