package stream

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/msiguard/msiguard/internal/kafkatest"
	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/stream/streamtest"
)

// TestSASLOverTLS runs the pipeline against a broker that requires TLS and
// SASL: with the right credentials it publishes every expected alert; with
// a wrong password Run fails fast with a *kafkaio.FatalError that says to
// check the credentials and does not show the password.
func TestSASLOverTLS(t *testing.T) {
	for _, mech := range []struct{ broker, ours string }{
		{kafkatest.ScramSHA256, kafkaio.SASLSCRAMSHA256},
		{kafkatest.ScramSHA512, kafkaio.SASLSCRAMSHA512},
		{kafkatest.Plain, kafkaio.SASLPlain},
	} {
		t.Run(mech.ours, func(t *testing.T) {
			const user, pass = "msiguard", "correct horse battery staple"
			e := newEnv(t, 2, kafkatest.WithTLS(), kafkatest.WithSASL(mech.broker, user, pass))

			t.Run("right credentials", func(t *testing.T) {
				g := streamtest.New(streamtest.Options{Seed: 4, Hosts: 4})
				e.produce(g.Records(800))
				cfg := e.config()
				cfg.Cluster.SASL = kafkaio.SASL{Mechanism: mech.ours, Username: user, Password: pass}
				m := e.start(cfg)
				e.waitAlerts(e.expected(e.placed()), 60*time.Second)
				m.stop(t, 25*time.Second)
			})

			t.Run("wrong password", func(t *testing.T) {
				const wrong = "Tr0ub4dor&3"
				cfg := e.config()
				cfg.Group += "-wrong"
				cfg.Cluster.SASL = kafkaio.SASL{Mechanism: mech.ours, Username: user, Password: wrong}
				start := time.Now()
				err := runUntilFatal(t, cfg)
				var fe *kafkaio.FatalError
				if !errors.As(err, &fe) {
					t.Fatalf("Run = %v, want a *kafkaio.FatalError", err)
				}
				if !strings.Contains(err.Error(), "SASL") || !strings.Contains(err.Error(), "password") {
					t.Errorf("error does not say to check the SASL credentials: %v", err)
				}
				if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), pass) {
					t.Errorf("error shows a password: %v", err)
				}
				if d := time.Since(start); d > 15*time.Second {
					t.Errorf("Run took %v to give up on bad credentials", d)
				}
				t.Logf("error: %v", err)
			})

			t.Run("untrusted certificate", func(t *testing.T) {
				cfg := e.config()
				cfg.Cluster.TLS = &tls.Config{} // system roots: the test CA is not among them
				cfg.Cluster.SASL = kafkaio.SASL{Mechanism: mech.ours, Username: user, Password: pass}
				err := runUntilFatal(t, cfg)
				var fe *kafkaio.FatalError
				if !errors.As(err, &fe) || fe.Kind != kafkaio.KindCertUntrusted {
					t.Fatalf("Run = %v, want a *kafkaio.FatalError of kind KindCertUntrusted", err)
				}
			})
		})
	}
}

// TestMissingTopicIsFatal: a topic that does not exist ends Run at once
// with a *kafkaio.FatalError whose FieldError names the Config field to
// fix (cmd/msiguard turns it into the flag).
func TestMissingTopicIsFatal(t *testing.T) {
	e := newEnv(t, 1)
	for _, tc := range []struct {
		field string
		set   func(*Config)
	}{
		{"Topic", func(c *Config) { c.Topic = kafkatest.UniqueName(t, "nosuch") }},
		{"AlertsTopic", func(c *Config) { c.AlertsTopic = kafkatest.UniqueName(t, "nosuch") }},
		{"DLQTopic", func(c *Config) { c.DLQTopic = kafkatest.UniqueName(t, "nosuch") }},
	} {
		cfg := e.config()
		tc.set(&cfg)
		err := runUntilFatal(t, cfg)
		var fe *kafkaio.FatalError
		var field *kafkaio.FieldError
		if !errors.As(err, &fe) || fe.Kind != kafkaio.KindMissingTopic || !errors.As(err, &field) || field.Field != tc.field || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("%s missing: Run = %v, want a *kafkaio.FatalError of kind KindMissingTopic naming %s", tc.field, err, tc.field)
		}
	}
}

// runUntilFatal runs a pipeline of cfg, which a test expects to fail on
// its own, and returns what Run returned (within a minute).
func runUntilFatal(t *testing.T, cfg Config) error {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return p.Run(ctx)
}
