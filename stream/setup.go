package stream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/kafkaio"
)

// startupPatience is how long setup retries unreachable brokers.
const startupPatience = 30 * time.Second

// metadata returns the metadata of topics, retrying transient errors for
// up to startupPatience.
func (p *Pipeline) metadata(ctx context.Context, topics ...string) (map[string]kafka.Topic, error) {
	var out map[string]kafka.Topic
	err := kafkaio.Retry(ctx, startupPatience, p.cfg.Cluster.Brokers, p.log, func() error {
		md, err := p.client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
		if err != nil {
			return err
		}
		out = make(map[string]kafka.Topic, len(md.Topics))
		for _, t := range md.Topics {
			out[t.Name] = t
		}
		return nil
	})
	return out, err
}

// probe opens one connection, TLS and SASL included, so that bad
// credentials or certificates are reported as such before anything else.
func (p *Pipeline) probe(ctx context.Context) error {
	return kafkaio.Retry(ctx, startupPatience, p.cfg.Cluster.Brokers, p.log, func() error {
		var err error
		for _, b := range p.cfg.Cluster.Brokers {
			var conn *kafka.Conn
			if conn, err = p.dialer.DialContext(ctx, "tcp", b); err == nil {
				conn.Close()
				return nil
			}
			if kafkaio.IsFatal(err) {
				return err
			}
		}
		return err
	})
}

// setup checks that the input, alerts and dead-letter topics exist and
// creates the matches topic when missing.
func (p *Pipeline) setup(ctx context.Context) error {
	c := &p.cfg
	if err := p.probe(ctx); err != nil {
		return err
	}
	alertsTopics := c.alertsTopics()
	md, err := p.metadata(ctx, append([]string{c.Topic, c.DLQTopic, c.MatchesTopic}, alertsTopics...)...)
	if err != nil {
		return err
	}
	missing := func(name string) (bool, error) {
		t, ok := md[name]
		if !ok || errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
			return true, nil
		}
		if t.Error != nil {
			return false, fmt.Errorf("topic %s: %w", name, kafkaio.Classify(t.Error))
		}
		return len(t.Partitions) == 0, nil
	}
	type topicNeed struct{ field, name, how string }
	need := []topicNeed{{"Topic", c.Topic, "it should be the topic your shippers write Sysmon events to"}}
	for i, t := range alertsTopics { // AlertsTopic first
		field := "AlertsTopic"
		if i > 0 {
			field = "RuleAlertsTopics"
		}
		need = append(need, topicNeed{field, t, "check its name or create it, compacted (cleanup.policy=compact), e.g. kafka-topics.sh --create --topic " + t + " --config cleanup.policy=compact"})
	}
	need = append(need, topicNeed{"DLQTopic", c.DLQTopic, "check its name or create it, e.g. kafka-topics.sh --create --topic " + c.DLQTopic})
	for _, t := range need {
		gone, err := missing(t.name)
		if err != nil {
			return err
		}
		if gone {
			return &kafkaio.FatalError{
				Kind: kafkaio.KindMissingTopic,
				Err:  &kafkaio.FieldError{Field: t.field, Problem: fmt.Sprintf("topic %q does not exist on %s", t.name, strings.Join(c.Cluster.Brokers, ","))},
				Hint: t.how,
			}
		}
	}
	for _, t := range alertsTopics {
		p.warnIfNotCompacted(ctx, t)
	}
	n := len(md[c.Topic].Partitions)
	gone, err := missing(c.MatchesTopic)
	if err != nil {
		return err
	}
	if gone {
		if err := p.createMatchesTopic(ctx, n); err != nil {
			return err
		}
	} else {
		n = len(md[c.MatchesTopic].Partitions)
	}
	p.matchesPartitions = n
	limits := p.topicLimits(ctx, append([]string{c.MatchesTopic, c.DLQTopic}, alertsTopics...)...)
	if err := p.sizeFor(limits); err != nil {
		return &kafkaio.FatalError{Kind: kafkaio.KindTopicLimit, Err: err, Hint: "lower the cap, or raise max.message.bytes of that topic (kafka-configs.sh --alter --entity-type topics --entity-name TOPIC --add-config max.message.bytes=N)"}
	}
	return nil
}

func (p *Pipeline) createMatchesTopic(ctx context.Context, n int) error {
	name := p.cfg.MatchesTopic
	p.log.Info("creating the matches topic", "topic", name, "partitions", n)
	for _, rf := range []int{-1, 3, 1} { // -1: the broker's default (Kafka 2.4+)
		resp, err := p.client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
			Topic: name, NumPartitions: n, ReplicationFactor: rf,
		}}})
		if err == nil {
			err = resp.Errors[name]
		}
		if err == nil || errors.Is(err, kafka.TopicAlreadyExists) {
			break
		}
		if errors.Is(err, kafka.InvalidReplicationFactor) || errors.Is(err, kafka.InvalidRequest) {
			continue
		}
		if c := kafkaio.Classify(err); kafkaio.IsFatal(c) {
			return fmt.Errorf("creating the matches topic %s: %w", name, c)
		}
		return fmt.Errorf("creating the matches topic %s (create it yourself with %d partitions, or name another: %w): %w", name, n, &kafkaio.FieldError{Field: "MatchesTopic", Problem: "could not be created"}, err)
	}
	// Wait until the topic's partitions have leaders.
	deadline := time.Now().Add(startupPatience)
	for {
		md, err := p.metadata(ctx, name)
		if err == nil {
			if t := md[name]; t.Error == nil && len(t.Partitions) == n {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the matches topic %s was created but has no leaders after %v", name, startupPatience)
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
