package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/stream"
)

// The libraries name Config fields; the operator reads flags. Each typed
// error the libraries return comes out of operatorMessage with the flag to
// change, and nothing of the Go name is left where a flag exists.
func TestOperatorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want []string
		not  []string
	}{
		{&kafkaio.FieldError{Field: "Brokers", Problem: "none given"}, []string{"--brokers: none given"}, []string{"Brokers"}},
		{fmt.Errorf("wrapped: %w", &kafkaio.FieldError{Field: "RestoreLookback", Problem: "1h must exceed Retain (2h)", Related: []string{"Retain"}}),
			[]string{"wrapped: --restore-lookback: 1h must exceed --retain (2h)"}, []string{"RestoreLookback", "Retain "}},
		{&kafkaio.FatalError{Kind: kafkaio.KindMissingTopic, Err: &kafkaio.FieldError{Field: "AlertsTopic", Problem: `topic "a" does not exist`}, Hint: "create it"},
			[]string{`--alerts-topic: topic "a" does not exist: create it`}, []string{"AlertsTopic"}},
		{kafkaio.Classify(fmt.Errorf("dial: %w", kafkaerrSASL())), []string{"--sasl-username", "--sasl-mechanism"}, nil},
		{&stream.TopicLimitError{Topic: "al", Field: "MaxAlertBytes", Limit: 100, Need: 200, What: "an alert of MaxAlertBytes 190"}, []string{"an alert of --max-alert-bytes 190"}, []string{"MaxAlertBytes"}},
		{&kafkaio.UnreachableError{Brokers: []string{"k:1"}, Last: fmt.Errorf("refused")}, []string{"check --brokers"}, nil},
	} {
		got := operatorMessage(tc.err)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("operatorMessage(%v) = %q, want it to contain %q", tc.err, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("operatorMessage(%v) = %q still says %q", tc.err, got, n)
			}
		}
	}
}

// kafkaerrSASL is the broker's answer to bad SASL credentials.
func kafkaerrSASL() error { return kafka.SASLAuthenticationFailed }
