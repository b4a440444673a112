package main

import (
	"errors"
	"strings"

	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/stream"
)

// flagOf names the flag of each configuration field the libraries name in
// their errors (kafkaio.FieldError, stream.TopicLimitError): the libraries
// know their Go fields, only the command knows its flags.
var flagOf = map[string]string{
	"Brokers":        "--brokers",
	"DialTimeout":    "the dial timeout",
	"SASL.Mechanism": "--sasl-mechanism",
	"SASL.Username":  "--sasl-username",
	"SASL.Password":  "--sasl-password-file (or MSIGUARD_SASL_PASSWORD)",

	"Topic":            "--topic",
	"Group":            "--group",
	"AlertsTopic":      "--alerts-topic",
	"DLQTopic":         "--dlq-topic",
	"MatchesTopic":     "--matches-topic",
	"RuleAlertsTopics": "--rule-alerts-topic",
	"Shape":            "--shape",
	"Partitions":       "--partitions",
	"From":             "--from",
	"To":               "--to",

	"Grace":             "--grace",
	"IdleTimeout":       "--idle-timeout",
	"Retain":            "--retain",
	"RestoreLookback":   "--restore-lookback",
	"CommitInterval":    "--commit-interval",
	"ShutdownTimeout":   "--shutdown-timeout",
	"SessionTimeout":    "--session-timeout",
	"HeartbeatInterval": "--heartbeat-interval",
	"RebalanceTimeout":  "--rebalance-timeout",

	"RetainBuckets":   "--retain-buckets",
	"MaxSources":      "--max-sources",
	"MaxValues":       "--max-values",
	"MaxAlertBytes":   "--max-alert-bytes",
	"MaxValueBytes":   "--max-value-bytes",
	"MaxHostBytes":    "--max-host-bytes",
	"Limits":          "--max-value-bytes or --max-host-bytes",
	"DeadLetterBytes": "--dead-letter-bytes",
	"WindowMemory":    "--window-memory",
}

// kindHint says what to change for each kind of kafkaio.FatalError, in
// terms of msiguard's flags.
var kindHint = map[kafkaio.Kind]string{
	kafkaio.KindSASLAuth:       "check --sasl-username, the password (--sasl-password-file or MSIGUARD_SASL_PASSWORD) and --sasl-mechanism: the broker must hold credentials for this user under this mechanism",
	kafkaio.KindSASLMechanism:  "the broker does not enable this --sasl-mechanism; use one listed in its sasl.enabled.mechanisms",
	kafkaio.KindSASLState:      "SASL handshake out of order; check that the port is a SASL listener and --sasl-mechanism matches it",
	kafkaio.KindTopicACL:       "the user lacks a topic ACL: it needs Read and Describe on --topic and --matches-topic, Write and Describe on --alerts-topic (and every --rule-alerts-topic), --dlq-topic and --matches-topic, Read on the alerts topics (restore)",
	kafkaio.KindGroupACL:       "the user lacks Read on the consumer group named by --group",
	kafkaio.KindClusterACL:     "the user lacks a cluster ACL (Create, to create --matches-topic); create that topic yourself or grant Create",
	kafkaio.KindInvalidTopic:   "a topic name is invalid; check --topic, --alerts-topic, --dlq-topic and --matches-topic",
	kafkaio.KindCertName:       "the broker's TLS certificate does not list the address it was reached by among its names (SANs): connect by a name the certificate lists, pass that name with --tls-server-name, or reissue the certificate with this address",
	kafkaio.KindCertUntrusted:  "the broker's TLS certificate is not trusted: pass its CA with --tls-ca (or, for testing only, --tls-insecure-skip-verify)",
	kafkaio.KindNotTLS:         "the broker did not answer in TLS: is this port a TLS listener? drop --tls or use the TLS port",
	kafkaio.KindTLSRefused:     "the broker refused the TLS handshake: check --tls-cert and --tls-key if it requires client certificates",
	kafkaio.KindRecordTooLarge: "a record exceeds its topic's max.message.bytes (msiguard sizes alerts, matches and dead letters to the limits it reads at startup: did a topic's limit shrink since?)",
}

// operatorMessage is err as the operator should read it: the libraries'
// field names replaced by msiguard's flags and their hints by ones that
// name the flags to change.
func operatorMessage(err error) string {
	msg := err.Error()
	walkErrors(err, func(e error) {
		switch e := e.(type) {
		case *kafkaio.FatalError:
			if h, ok := kindHint[e.Kind]; ok && e.Hint != "" {
				msg = strings.Replace(msg, e.Hint, h, 1)
			}
		case *kafkaio.FieldError:
			msg = strings.Replace(msg, e.Error(), fieldMessage(e), 1)
		case *stream.TopicLimitError:
			if f, ok := flagOf[e.Field]; ok {
				msg = strings.Replace(msg, e.Field, f, 1)
			}
		case *kafkaio.UnreachableError:
			msg = strings.Replace(msg, "(a TLS listener answers nothing to plaintext)", "(check --brokers, the network, and --tls: a TLS listener answers nothing to plaintext)", 1)
		}
	})
	if errors.Is(err, kafkaio.ErrRecordsDeleted) {
		msg += " (start later with --from)"
	}
	return msg
}

// fieldMessage is a FieldError with its field, and those its problem
// names, as flags.
func fieldMessage(fe *kafkaio.FieldError) string {
	f, ok := flagOf[fe.Field]
	if !ok {
		return fe.Error()
	}
	problem := fe.Problem
	for _, r := range fe.Related {
		if rf, ok := flagOf[r]; ok {
			problem = strings.ReplaceAll(problem, r, rf)
		}
	}
	return f + ": " + problem
}

// walkErrors calls fn for err and every error it wraps, depth first.
func walkErrors(err error, fn func(error)) {
	if err == nil {
		return
	}
	fn(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walkErrors(u.Unwrap(), fn)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walkErrors(e, fn)
		}
	}
}
