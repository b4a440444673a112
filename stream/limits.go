package stream

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/rules"
	"github.com/msiguard/msiguard/window"
)

// Sizes of what the pipeline writes besides its payloads, as sink counts
// them against a topic's max.message.bytes: a record's estimated overhead
// in a batch of its own (sink's 72 bytes per record and 73 per batch),
// and the headers and key of an alert and of a dead letter at their
// largest.
const (
	recordOverhead     = 72 + 73
	maxErrorHeader     = 1024
	deadLetterOverhead = recordOverhead + 512 + maxErrorHeader
	// minDeadLetterBytes is the least prefix of an original worth keeping.
	minDeadLetterBytes = 1024
)

// TopicLimitError says that a cap does not fit the topic it writes to.
type TopicLimitError struct {
	Topic string
	// Field is the Config field of the cap (MaxAlertBytes,
	// Limits.MaxValueBytes, DeadLetterBytes).
	Field string
	// Limit is the topic's max.message.bytes; Need what the cap takes.
	Limit, Need int
	// What names what does not fit ("an alert of MaxAlertBytes").
	What string
}

func (e *TopicLimitError) Error() string {
	return fmt.Sprintf("%s takes up to %d bytes, but topic %s accepts records of at most %d (its max.message.bytes)", e.What, e.Need, e.Topic, e.Limit)
}

// topicLimits returns the max.message.bytes of each topic, as the brokers
// report it (the topic's own setting or the broker's default). A topic whose
// limit cannot be read (no DescribeConfigs ACL, an old broker) gets Kafka's
// default, with a log line saying so.
func (p *Pipeline) topicLimits(ctx context.Context, topics ...string) map[string]int {
	limits := make(map[string]int, len(topics))
	req := &kafka.DescribeConfigsRequest{}
	for _, t := range topics {
		limits[t] = kafkaio.DefaultMaxRecordBytes
		req.Resources = append(req.Resources, kafka.DescribeConfigRequestResource{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: t, ConfigNames: []string{"max.message.bytes"},
		})
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := p.client.DescribeConfigs(cctx, req)
	if err != nil {
		p.log.Info("could not read the topics' max.message.bytes; assuming Kafka's default", "default", kafkaio.DefaultMaxRecordBytes, "err", err)
		return limits
	}
	for _, r := range resp.Resources {
		if r.Error != nil {
			p.log.Info("could not read a topic's max.message.bytes; assuming Kafka's default", "topic", r.ResourceName, "default", kafkaio.DefaultMaxRecordBytes, "err", r.Error)
			continue
		}
		for _, e := range r.ConfigEntries {
			if n, err := strconv.Atoi(e.ConfigValue); err == nil && e.ConfigName == "max.message.bytes" && n > 0 {
				limits[r.ResourceName] = n
			}
		}
	}
	return limits
}

// sizeFor derives from the topics' limits what the pipeline may write and
// checks that the caps fit them: an alert of MaxAlertBytes in the alerts
// topic, a match of MaxValueBytes per field in the matches topic, a dead
// letter in the dead-letter topic. It sets p.limits and p.deadLetterBytes.
func (p *Pipeline) sizeFor(limits map[string]int) error {
	dl, err := p.sizes(limits, p.rules)
	if err != nil {
		return err
	}
	p.limits, p.deadLetterBytes = limits, dl
	return nil
}

// sizes checks that rs's records fit limits and returns the dead-letter
// prefix to keep.
func (p *Pipeline) sizes(limits map[string]int, rs []*rules.Compiled) (deadLetterBytes int, err error) {
	c := &p.cfg
	longestID, mostFields := 0, 0
	for _, r := range rs {
		longestID = max(longestID, len(r.Rule.ID))
		mostFields = max(mostFields, len(r.Program.Outputs()))
	}
	alertNeed := c.maxAlertBytes() + recordOverhead + alertIDLen + len(HeaderRuleID) + longestID + len(HeaderRevision) + 10 + len(HeaderRuleVersion) + 12
	for _, t := range c.alertsTopics() {
		if l := limits[t]; alertNeed > l {
			return 0, &TopicLimitError{Topic: t, Field: "MaxAlertBytes", Limit: l, Need: alertNeed, What: fmt.Sprintf("an alert of MaxAlertBytes %d", c.maxAlertBytes())}
		}
	}
	lim := c.Limits.WithDefaults()
	matchNeed := recordOverhead + 64 + len(c.Topic) + longestID + 2*lim.MaxHostBytes + mostFields*(lim.MaxValueBytes+binaryLenBytes)
	if l := limits[c.MatchesTopic]; matchNeed > l {
		return 0, &TopicLimitError{Topic: c.MatchesTopic, Field: "MaxValueBytes", Limit: l, Need: matchNeed,
			What: fmt.Sprintf("a match of %d fields of MaxValueBytes %d", mostFields, lim.MaxValueBytes)}
	}
	dl := c.DeadLetterBytes
	room := limits[c.DLQTopic] - deadLetterOverhead
	if dl == 0 {
		dl = min(DefaultDeadLetterBytes, room)
	}
	if dl < minDeadLetterBytes || dl > room {
		return 0, &TopicLimitError{Topic: c.DLQTopic, Field: "DeadLetterBytes", Limit: limits[c.DLQTopic], Need: max(dl, minDeadLetterBytes) + deadLetterOverhead,
			What: fmt.Sprintf("a dead letter keeping %d bytes of its original (DeadLetterBytes)", max(dl, minDeadLetterBytes))}
	}
	return dl, nil
}

// alertIDLen is the length of an alert_id, an alert record's key.
const alertIDLen = 32

// binaryLenBytes is what a match record adds to each value: its length,
// a varint of up to 3 bytes for MaxValueBytes below 2 MiB.
const binaryLenBytes = 3

func (c *Config) maxAlertBytes() int {
	if c.MaxAlertBytes == 0 {
		return window.DefaultMaxAlertBytes
	}
	return c.MaxAlertBytes
}
