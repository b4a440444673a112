package stream

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/detector"
	"github.com/msiguard/msiguard/internal/deadletter"
)

// Headers of a dead letter about its original, besides HeaderReason,
// HeaderError and the source headers: the original's length and SHA-256,
// "true" in HeaderTruncated when the value is only a prefix of it, and for
// an alert refused by the alerts topic its alert_id and revision.
const (
	HeaderOriginalBytes  = "msiguard-original-bytes"
	HeaderOriginalSHA256 = "msiguard-original-sha256"
	HeaderTruncated      = "msiguard-truncated"
	HeaderAlertID        = "msiguard-alert-id"
)

// deadLetter builds a dead letter for orig: key, the first deadLetterBytes
// of orig as its value, and headers saying why and what orig was. extra
// headers come first (the source's, or the alert's).
func (p *Pipeline) deadLetter(key string, orig []byte, reason detector.Reason, detail string, extra ...kafka.Header) kafka.Message {
	o := deadletter.Bound(orig, p.deadLetterBytes)
	if len(detail) > maxErrorHeader {
		detail = detail[:maxErrorHeader]
	}
	h := append(extra,
		kafka.Header{Key: HeaderReason, Value: []byte(reason)},
		kafka.Header{Key: HeaderError, Value: []byte(detail)},
		kafka.Header{Key: HeaderOriginalBytes, Value: strconv.AppendInt(nil, int64(o.Bytes), 10)},
		kafka.Header{Key: HeaderOriginalSHA256, Value: []byte(o.SHA256)},
		kafka.Header{Key: HeaderTruncated, Value: strconv.AppendBool(nil, o.Truncated)},
	)
	return kafka.Message{Topic: p.cfg.DLQTopic, Key: []byte(key), Value: append([]byte(nil), o.Prefix...), Headers: h}
}

// sourceHeaders name an input record.
func sourceHeaders(topic string, partition int32, offset int64) []kafka.Header {
	return []kafka.Header{
		{Key: HeaderSourceTopic, Value: []byte(topic)},
		{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(partition), 10)},
		{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, offset, 10)},
	}
}

// sourceKey is a dead letter's key for an input record: its position, so
// that copies of one dead letter (after a crash) share their key.
func sourceKey(topic string, partition int32, offset int64) string {
	return fmt.Sprintf("%s/%d/%d", topic, partition, offset)
}

// rejectAlert is the alerts producer's sink.Config.Reject: an alert the
// alerts topic refuses for its own sake (larger than it accepts, which
// the caps make rare: its max.message.bytes shrank since startup) becomes
// a dead letter of reason too_large keyed alert/<alert_id>/<revision>.
func (p *Pipeline) rejectAlert(m kafka.Message, why error) (kafka.Message, error) {
	if m.Topic == p.cfg.DLQTopic {
		return p.shrinkDeadLetter(m, why)
	}
	id, rev := string(m.Key), header(m, HeaderRevision)
	detail := fmt.Sprintf("topic %s refused alert %s revision %s of %d bytes: %v", m.Topic, id, rev, len(m.Value), why)
	p.log.Warn("alert dead-lettered: the alerts topic refused it", "alert_id", id, "revision", rev, "bytes", len(m.Value), "err", why)
	p.c.deadLetters[reasonIndex(detector.ReasonTooLarge)].Add(1)
	return p.deadLetter("alert/"+id+"/"+rev, m.Value, detector.ReasonTooLarge, detail,
		kafka.Header{Key: HeaderAlertID, Value: m.Key}, kafka.Header{Key: HeaderRevision, Value: []byte(rev)}), nil
}

// rejectRecord is the records producer's sink.Config.Reject: a match the
// matches topic refuses becomes a dead letter of reason too_large holding
// the match as JSON, keyed and headed by its input record; a dead letter
// the dead-letter topic refuses is shrunk.
func (p *Pipeline) rejectRecord(m kafka.Message, why error) (kafka.Message, error) {
	if m.Topic == p.cfg.DLQTopic {
		return p.shrinkDeadLetter(m, why)
	}
	var mr matchRecord
	if err := decodeMatch(m.Value, &mr); err != nil {
		return kafka.Message{}, fmt.Errorf("a refused match does not decode: %w", err)
	}
	vals := map[string]string{}
	if ri, ok := p.ruleIndex[mr.RuleID]; ok {
		outs := p.rules[ri].Program.Outputs()
		for i, v := range mr.Values {
			if i < len(outs) && v != "" {
				vals[outs[i]] = v
			}
		}
	}
	doc, _ := json.Marshal(struct {
		Host   string            `json:"host"`
		Time   string            `json:"time"`
		Values map[string]string `json:"values"`
	}{mr.Host, time.Unix(0, mr.Time).UTC().Format(time.RFC3339Nano), vals})
	detail := fmt.Sprintf("topic %s refused the match of this record (%d bytes): %v", m.Topic, len(m.Value), why)
	p.log.Warn("match dead-lettered: the matches topic refused it", "topic", mr.Topic, "partition", mr.Partition, "offset", mr.Offset, "bytes", len(m.Value), "err", why)
	p.c.deadLetters[reasonIndex(detector.ReasonTooLarge)].Add(1)
	return p.deadLetter(sourceKey(mr.Topic, mr.Partition, mr.Offset), doc, detector.ReasonTooLarge, detail,
		sourceHeaders(mr.Topic, mr.Partition, mr.Offset)...), nil
}

// shrunkBytes is what a dead letter keeps of its original once the
// dead-letter topic refused it at its planned size.
const shrunkBytes = 256

// shrinkDeadLetter cuts a refused dead letter to shrunkBytes of its
// original, once: a dead letter refused at that size is an error (the
// dead-letter topic accepts less than any dead letter needs).
func (p *Pipeline) shrinkDeadLetter(m kafka.Message, why error) (kafka.Message, error) {
	if len(m.Value) <= shrunkBytes {
		return kafka.Message{}, fmt.Errorf("the dead-letter topic %s refuses even a dead letter of %d bytes (raise its max.message.bytes): %w", m.Topic, len(m.Value)+len(m.Key), why)
	}
	m.Value = m.Value[:shrunkBytes]
	for i := range m.Headers {
		if m.Headers[i].Key == HeaderTruncated {
			m.Headers[i].Value = []byte("true")
		}
	}
	return m, nil
}

// header returns the value of m's header key, or "".
func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
