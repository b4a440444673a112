package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A match record is what stage A writes to the matches topic for every
// record the rule selected; stage B reads it back. Its key is the host, its
// value this binary encoding (version 2):
//
//	byte     'm' (0x6d), then version 2
//	uvarint  length of the rule id, then its bytes
//	uvarint  length of the input topic, then its bytes
//	varint   input partition
//	varint   input offset
//	varint   floor: the input partition's committable offset when the
//	         record was produced (every match of an input record below it
//	         was acknowledged earlier; stage B uses it to discard copies)
//	varint   event time, Unix nanoseconds
//	uvarint  length of the host, then its bytes
//	uvarint  number of values, then each value as uvarint length + bytes,
//	         in the order of the rule's outputs ("" = absent)
//
// Version 1, written before rules were data, had no rule id: a reader
// takes its matches for the seed rule's (24143.44553).
//
// Varints are encoding/binary's. A reader rejects other magic bytes or
// versions, so a later format can coexist during an upgrade.
type matchRecord struct {
	RuleID    string
	Topic     string
	Partition int32
	Offset    int64
	Floor     int64
	Time      int64
	Host      string
	Values    []string
}

const (
	matchMagic   = 'm'
	matchVersion = 2
	// seedRuleID is the rule of a version 1 record.
	seedRuleID = "24143.44553"
)

var errBadMatch = errors.New("malformed match record")

// appendMatch appends the encoding of m to dst.
func appendMatch(dst []byte, m *matchRecord) []byte {
	dst = append(dst, matchMagic, matchVersion)
	dst = binary.AppendUvarint(dst, uint64(len(m.RuleID)))
	dst = append(dst, m.RuleID...)
	dst = binary.AppendUvarint(dst, uint64(len(m.Topic)))
	dst = append(dst, m.Topic...)
	dst = binary.AppendVarint(dst, int64(m.Partition))
	dst = binary.AppendVarint(dst, m.Offset)
	dst = binary.AppendVarint(dst, m.Floor)
	dst = binary.AppendVarint(dst, m.Time)
	dst = binary.AppendUvarint(dst, uint64(len(m.Host)))
	dst = append(dst, m.Host...)
	dst = binary.AppendUvarint(dst, uint64(len(m.Values)))
	for _, v := range m.Values {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// decodeMatch decodes b into m, reusing m.Values' storage. Strings are
// copied out of b.
func decodeMatch(b []byte, m *matchRecord) error {
	if len(b) < 2 || b[0] != matchMagic {
		return fmt.Errorf("%w: bad magic byte", errBadMatch)
	}
	if b[1] != matchVersion && b[1] != 1 {
		return fmt.Errorf("%w: version %d, this build reads 1 and %d", errBadMatch, b[1], matchVersion)
	}
	d := decoder{b: b[2:]}
	m.RuleID = seedRuleID
	if b[1] == matchVersion {
		m.RuleID = d.str()
	}
	m.Topic = d.str()
	m.Partition = int32(d.varint())
	m.Offset = d.varint()
	m.Floor = d.varint()
	m.Time = d.varint()
	m.Host = d.str()
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return fmt.Errorf("%w: %d values in %d bytes", errBadMatch, n, len(d.b))
	}
	m.Values = m.Values[:0]
	for range n {
		m.Values = append(m.Values, d.str())
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errBadMatch, len(d.b))
	}
	return nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: truncated", errBadMatch)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// varint undoes binary.AppendVarint's zig-zag encoding of a uvarint.
func (d *decoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%w: string of %d bytes in %d", errBadMatch, n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
