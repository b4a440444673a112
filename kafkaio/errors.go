package kafkaio

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// FatalError is a broker problem that retrying cannot fix: bad credentials,
// missing authorization, an untrusted certificate, a record the broker
// refuses for good. Its message says what to change.
type FatalError struct {
	// Hint says what the operator should check or change.
	Hint string
	Err  error
}

func (e *FatalError) Error() string { return e.Err.Error() + ": " + e.Hint }
func (e *FatalError) Unwrap() error { return e.Err }

// fatalCodes are the broker error codes that no retry can fix, with what to do.
var fatalCodes = map[kafka.Error]string{
	kafka.SASLAuthenticationFailed:           "check the SASL username, the password (--sasl-password-file or MSIGUARD_SASL_PASSWORD) and the mechanism: the broker must hold credentials for this user under --sasl-mechanism",
	kafka.UnsupportedSASLMechanism:           "the broker does not enable this --sasl-mechanism; use one listed in its sasl.enabled.mechanisms",
	kafka.IllegalSASLState:                   "SASL handshake out of order; check that the port is a SASL listener and --sasl-mechanism matches it",
	kafka.TopicAuthorizationFailed:           "the user lacks a topic ACL: it needs Read and Describe on --topic and --matches-topic, Write and Describe on --alerts-topic, --dlq-topic and --matches-topic, Read on --alerts-topic (restore)",
	kafka.GroupAuthorizationFailed:           "the user lacks Read on the consumer group named by --group",
	kafka.ClusterAuthorizationFailed:         "the user lacks a cluster ACL (Create, to create --matches-topic); create that topic yourself or grant Create",
	kafka.MessageSizeTooLarge:                "a record exceeds its topic's max.message.bytes (msiguard sizes alerts, matches and dead letters to the limits it reads at startup: did a topic's limit shrink since?)",
	kafka.InvalidTopic:                       "a topic name is invalid; check --topic, --alerts-topic, --dlq-topic and --matches-topic",
	kafka.InvalidRequiredAcks:                "the broker rejects acks=all",
	kafka.UnsupportedVersion:                 "the broker is too old for this client (Kafka 0.11 or later is needed)",
	kafka.TransactionalIDAuthorizationFailed: "the user lacks a transactional-id ACL",
}

// Classify returns a *FatalError for errors that retrying cannot fix, and
// err unchanged otherwise (nil for nil).
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var fe *FatalError
	if errors.As(err, &fe) {
		return err
	}
	var ke kafka.Error
	if errors.As(err, &ke) {
		if hint, ok := fatalCodes[ke]; ok {
			return &FatalError{Hint: hint, Err: err}
		}
	}
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if c := Classify(e); c != nil && IsFatal(c) {
				return c
			}
		}
		return err
	}
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &hostname):
		// Before the trust test: Go wraps a hostname mismatch in a
		// CertificateVerificationError too, and the CA is not the problem.
		return &FatalError{Hint: "the broker's TLS certificate does not list the address it was reached by among its names (SANs): connect by a name the certificate lists, pass that name with --tls-server-name, or reissue the certificate with this address", Err: err}
	case errors.As(err, &unknownAuthority), errors.As(err, &verify):
		return &FatalError{Hint: "the broker's TLS certificate is not trusted: pass its CA with --tls-ca (or, for testing only, --tls-insecure-skip-verify)", Err: err}
	case errors.As(err, &invalid):
		return &FatalError{Hint: "the broker's TLS certificate is invalid or expired", Err: err}
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return &FatalError{Hint: "the broker did not answer in TLS: is this port a TLS listener? drop --tls or use the TLS port", Err: err}
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return &FatalError{Hint: fmt.Sprintf("the broker refused the TLS handshake (%v): check --tls-cert and --tls-key if it requires client certificates", alert), Err: err}
	}
	return err
}

// IsFatal reports whether Classify(err) is a *FatalError.
func IsFatal(err error) bool {
	var fe *FatalError
	return errors.As(Classify(err), &fe)
}

// recordErrors are the broker error codes that refuse a record for its own
// sake: other records of the same topic are accepted.
var recordErrors = []kafka.Error{kafka.MessageSizeTooLarge, kafka.RecordListTooLarge, kafka.InvalidRecord, kafka.InvalidTimestamp}

// IsRecordError reports whether err refuses a record for its own sake (too
// large or invalid), rather than the topic, the connection or the client:
// such a record can be dead-lettered and the rest written on.
func IsRecordError(err error) bool {
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil && IsRecordError(e) {
				return true
			}
		}
		return false
	}
	var tl *RecordTooLargeError
	if errors.As(err, &tl) {
		return true
	}
	for _, code := range recordErrors {
		if errors.Is(err, code) {
			return true
		}
	}
	return false
}

// DefaultMaxRecordBytes is Kafka's default max.message.bytes (1 MiB plus
// the 12 bytes of a record batch's log overhead).
const DefaultMaxRecordBytes = 1048588

// RecordTooLargeError is what a producer hands its Reject for a record larger than
// its topic accepts, before it is sent.
type RecordTooLargeError struct {
	Topic string
	Bytes int // the record's size in a batch of its own, estimated
	Limit int // the topic's max.message.bytes
}

func (e *RecordTooLargeError) Error() string {
	return fmt.Sprintf("a record of %d bytes exceeds the max.message.bytes of topic %s (%d)", e.Bytes, e.Topic, e.Limit)
}
