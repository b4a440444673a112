package kafkatest

import "github.com/twmb/franz-go/pkg/kmsg"

// RefuseProduce builds kfake's answer to req that fails every partition of
// every topic in it with the Kafka error code (a kerr.Error's Code), for
// fault injection with (*kfake.Cluster).ControlKey on kmsg.Produce:
//
//	c.Fake().ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
//		return kafkatest.RefuseProduce(req.(*kmsg.ProduceRequest), kerr.NotLeaderForPartition.Code), nil, true
//	})
func RefuseProduce(req *kmsg.ProduceRequest, code int16) *kmsg.ProduceResponse {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		rt.TopicID = t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = p.Partition
			rp.ErrorCode = code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}
