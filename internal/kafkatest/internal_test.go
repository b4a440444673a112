package kafkatest

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestCreateTopicWrongCountFailsFast(t *testing.T) {
	c := Start(t)
	name := UniqueName(t, "count")
	c.CreateTopic(t, name, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	err := c.createTopic(ctx, name, 3, nil)
	if err == nil || !strings.Contains(err.Error(), "already exists with 2 partitions, want 3") {
		t.Fatalf("createTopic with another count: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v: should fail at once", d)
	}
}

func TestUniqueNameIsATopicName(t *testing.T) {
	t.Run("sub/test with spaces & ünïcode", func(t *testing.T) {
		n := UniqueName(t, "p")
		if len(n) > 249 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
			t.Fatalf("%q is not a legal Kafka topic name", n)
		}
		if !strings.HasPrefix(n, "p-TestUniqueNameIsATopicName_sub_test_with_spaces") {
			t.Fatalf("%q", n)
		}
	})
}
