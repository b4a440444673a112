package stream

import (
	"context"
	"strings"

	"github.com/segmentio/kafka-go"
)

// warnIfNotCompacted logs a warning when an alerts topic's cleanup.policy
// does not include compact: with delete only, the topic loses alerts by
// age instead of keeping the latest revision of each alert_id, and a
// restart restores less than --restore-lookback promises once retention
// is shorter. A broker that refuses DescribeConfigs (an ACL, an old or
// partial implementation) is noted at debug level: the check is advice.
func (p *Pipeline) warnIfNotCompacted(ctx context.Context, topic string) {
	resp, err := p.client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{"cleanup.policy"},
	}}})
	if err == nil && len(resp.Resources) == 1 {
		err = resp.Resources[0].Error
	}
	if err != nil || len(resp.Resources) != 1 {
		p.log.Debug("cannot tell whether the alerts topic is compacted (DescribeConfigs refused)", "topic", topic, "err", err)
		return
	}
	for _, e := range resp.Resources[0].ConfigEntries {
		if e.ConfigName == "cleanup.policy" && !strings.Contains(e.ConfigValue, "compact") {
			p.log.Warn("the alerts topic is not compacted: it keeps alerts by age, not the latest revision of each alert_id; set cleanup.policy=compact (kafka-configs.sh --alter --entity-type topics --entity-name "+topic+" --add-config cleanup.policy=compact)",
				"topic", topic, "cleanup.policy", e.ConfigValue)
		}
	}
}
