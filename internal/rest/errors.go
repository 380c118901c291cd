package rest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-kafka/strait/internal/link"
)

// Error codes of the Confluent REST API that are not plain HTTP statuses.
const (
	codeKafkaBadRequest = 40002 // Kafka rejected the request (also: already exists)
	codeUnknownTopic    = 40403 // topic or partition not found
	codeKafkaRetriable  = 50003 // Kafka answered with a retriable error
)

// errorBody is every failure's body.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// badRequest is a 400 whose message names the offending input.
func badRequest(format string, args ...any) *link.Error {
	return link.Errorf(http.StatusBadRequest, http.StatusBadRequest, format, args...)
}

func notFound(format string, args ...any) *link.Error {
	return link.Errorf(http.StatusNotFound, http.StatusNotFound, format, args...)
}

// writeError writes err as the error body: a *link.Error keeps its status
// and code, anything else is 500/500. Server-side failures are logged here
// and nowhere else.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := http.StatusInternalServerError, errorBody{ErrorCode: http.StatusInternalServerError, Message: err.Error()}
	var le *link.Error
	if errors.As(err, &le) {
		status, body = le.HTTPStatus, errorBody{ErrorCode: le.Code, Message: le.Message}
		if status < 400 || status > 599 {
			status = http.StatusInternalServerError
		}
	}
	if status >= 500 {
		s.lg.Warn("rest request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, body)
}

// writeJSON writes v with status. It sets Content-Length, so that an
// answer flushed before the handler returns (refuseBody) is complete on the
// wire and not waiting for the end of a chunked body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{ErrorCode: status, Message: "encoding response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// kafkaError maps an error from the Kafka admin client to a REST error:
// unknown topics are 404/40403, an existing topic and other non-retriable
// Kafka errors 400/40002, retriable ones 500/50003, the rest 500.
func kafkaError(err error, topic string) error {
	var ke *kerr.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		return link.Errorf(http.StatusNotFound, codeUnknownTopic, "Topic '%s' not found.", topic)
	case errors.Is(err, kerr.TopicAlreadyExists):
		return link.Errorf(http.StatusBadRequest, codeKafkaBadRequest, "Topic '%s' already exists.", topic)
	case errors.Is(err, kerr.InvalidTopicException) && topic != "":
		return link.Errorf(http.StatusBadRequest, codeKafkaBadRequest,
			"Topic name '%s' is not valid: a topic name is 1 to 249 ASCII letters, digits, '.', '_' and '-', and not '.' or '..'.", topic)
	case errors.As(err, &ke) && ke.Retriable:
		return link.Errorf(http.StatusInternalServerError, codeKafkaRetriable, "%s: %s", ke.Message, ke.Description)
	case errors.As(err, &ke):
		return link.Errorf(http.StatusBadRequest, codeKafkaBadRequest, "%s: %s", ke.Message, ke.Description)
	}
	return err
}

// kafkaErrorMessage is kafkaError with the broker's own error message, when
// it sent one, in place of the generic description.
func kafkaErrorMessage(err error, msg, topic string) error {
	mapped := kafkaError(err, topic)
	var le *link.Error
	if msg != "" && errors.As(mapped, &le) && le.Code == codeKafkaBadRequest && !errors.Is(err, kerr.TopicAlreadyExists) {
		return link.Errorf(le.HTTPStatus, le.Code, "%s", msg)
	}
	return mapped
}

// internalError is a 500 for a broker answer that breaks the protocol.
func internalError(format string, args ...any) *link.Error {
	return link.Errorf(http.StatusInternalServerError, http.StatusInternalServerError, format, args...)
}
