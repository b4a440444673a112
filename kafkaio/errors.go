package kafkaio

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// Kind says what a FatalError is about, so that a program can say it in
// its own words (cmd/msiguard names its flags).
type Kind int

// Kinds of FatalError.
const (
	KindOther          Kind = iota
	KindSASLAuth            // credentials refused
	KindSASLMechanism       // mechanism not enabled on the broker
	KindSASLState           // handshake out of order: not a SASL listener?
	KindTopicACL            // a topic ACL is missing
	KindGroupACL            // the consumer group's ACL is missing
	KindClusterACL          // a cluster ACL (Create) is missing
	KindRecordTooLarge      // a record exceeds its topic's max.message.bytes
	KindInvalidTopic        // a topic name is invalid
	KindAcks                // acks=all refused
	KindTooOld              // the broker is too old
	KindTxnACL              // a transactional-id ACL is missing
	KindCertName            // the certificate does not name the address
	KindCertUntrusted       // the certificate's CA is not trusted
	KindCertInvalid         // the certificate is invalid or expired
	KindNotTLS              // the port does not speak TLS
	KindTLSRefused          // the broker refused the handshake (client certificate?)
	KindMissingTopic        // a topic that must exist does not
	KindTopicLimit          // a cap does not fit a topic's max.message.bytes
)

// FatalError is a broker problem that retrying cannot fix: bad credentials,
// missing authorization, an untrusted certificate, a record the broker
// refuses for good. Kind says which; Hint says what to change in terms of
// the Cluster fields and broker settings involved (a program with its own
// names for them, such as flags, says it by Kind instead).
type FatalError struct {
	Kind Kind
	Hint string
	Err  error
}

func (e *FatalError) Error() string { return e.Err.Error() + ": " + e.Hint }
func (e *FatalError) Unwrap() error { return e.Err }

// fatalCodes are the broker error codes that no retry can fix, with their
// kind and what to do.
var fatalCodes = map[kafka.Error]struct {
	kind Kind
	hint string
}{
	kafka.SASLAuthenticationFailed:           {KindSASLAuth, "check the SASL username, password and mechanism: the broker must hold credentials for this user under this mechanism"},
	kafka.UnsupportedSASLMechanism:           {KindSASLMechanism, "the broker does not enable this SASL mechanism; use one listed in its sasl.enabled.mechanisms"},
	kafka.IllegalSASLState:                   {KindSASLState, "SASL handshake out of order; check that the port is a SASL listener and the mechanism matches it"},
	kafka.TopicAuthorizationFailed:           {KindTopicACL, "the user lacks a topic ACL: Read and Describe on the input and matches topics, Write and Describe on the alerts, dead-letter and matches topics, Read on the alerts topic (restore)"},
	kafka.GroupAuthorizationFailed:           {KindGroupACL, "the user lacks Read on the consumer group"},
	kafka.ClusterAuthorizationFailed:         {KindClusterACL, "the user lacks a cluster ACL (Create, to create the matches topic); create that topic yourself or grant Create"},
	kafka.MessageSizeTooLarge:                {KindRecordTooLarge, "a record exceeds its topic's max.message.bytes (msiguard sizes alerts, matches and dead letters to the limits it reads at startup: did a topic's limit shrink since?)"},
	kafka.InvalidTopic:                       {KindInvalidTopic, "a topic name is invalid"},
	kafka.InvalidRequiredAcks:                {KindAcks, "the broker rejects acks=all"},
	kafka.UnsupportedVersion:                 {KindTooOld, "the broker is too old for this client (Kafka 0.11 or later is needed)"},
	kafka.TransactionalIDAuthorizationFailed: {KindTxnACL, "the user lacks a transactional-id ACL"},
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
		if c, ok := fatalCodes[ke]; ok {
			return &FatalError{Kind: c.kind, Hint: c.hint, Err: err}
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
		return &FatalError{Kind: KindCertName, Hint: "the broker's TLS certificate does not list the address it was reached by among its names (SANs): connect by a name the certificate lists, set that name as the TLS server name, or reissue the certificate with this address", Err: err}
	case errors.As(err, &unknownAuthority), errors.As(err, &verify):
		return &FatalError{Kind: KindCertUntrusted, Hint: "the broker's TLS certificate is not trusted: trust its CA", Err: err}
	case errors.As(err, &invalid):
		return &FatalError{Kind: KindCertInvalid, Hint: "the broker's TLS certificate is invalid or expired", Err: err}
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return &FatalError{Kind: KindNotTLS, Hint: "the broker did not answer in TLS: is this port a TLS listener?", Err: err}
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return &FatalError{Kind: KindTLSRefused, Hint: fmt.Sprintf("the broker refused the TLS handshake (%v): does it require a client certificate?", alert), Err: err}
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
