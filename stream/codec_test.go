package stream

import (
	"bytes"
	"slices"
	"testing"
)

func TestMatchRecordRoundTrip(t *testing.T) {
	for _, m := range []matchRecord{
		{},
		{Topic: "sysmon", Partition: 3, Offset: 1 << 40, Floor: 17, Time: -5, Host: "WKS-001.corp.example",
			Values: []string{`CORP\alice`, "", `msiexec /q /i "x.msi"`, "ünïcode"}},
	} {
		b := appendMatch(nil, &m)
		var got matchRecord
		got.Values = make([]string, 0, 1)
		if err := decodeMatch(b, &got); err != nil {
			t.Fatalf("decode(%+v): %v", m, err)
		}
		if got.Topic != m.Topic || got.Partition != m.Partition || got.Offset != m.Offset || got.Floor != m.Floor ||
			got.Time != m.Time || got.Host != m.Host || !slices.Equal(got.Values, m.Values) && len(m.Values)+len(got.Values) > 0 {
			t.Errorf("round trip: got %+v, want %+v", got, m)
		}
	}
}

func TestDecodeMatchRejects(t *testing.T) {
	good := appendMatch(nil, &matchRecord{Topic: "t", Host: "h", Values: []string{"a"}})
	for name, b := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte{'x'}, good[1:]...),
		"version":   append([]byte{'m', 9}, good[2:]...),
		"truncated": good[:len(good)-1],
		"trailing":  append(bytes.Clone(good), 0),
		"huge count": append(appendMatch(nil, &matchRecord{Topic: "t", Host: "h"})[:len(appendMatch(nil, &matchRecord{Topic: "t", Host: "h"}))-1],
			0xff, 0xff, 0xff, 0xff, 0x0f),
	} {
		var m matchRecord
		if err := decodeMatch(b, &m); err == nil {
			t.Errorf("%s: decoded %q without error", name, b)
		}
	}
}

// FuzzDecodeMatch: decoding arbitrary bytes never panics, and whatever
// decodes survives a re-encoding unchanged.
func FuzzDecodeMatch(f *testing.F) {
	f.Add(appendMatch(nil, &matchRecord{Topic: "sysmon", Partition: 1, Offset: 2, Floor: 1, Time: 3, Host: "h", Values: []string{"a", ""}}))
	f.Add([]byte("m\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m matchRecord
		if err := decodeMatch(b, &m); err != nil {
			return
		}
		var m2 matchRecord
		if err := decodeMatch(appendMatch(nil, &m), &m2); err != nil {
			t.Fatalf("re-encoding of %q does not decode: %v", b, err)
		}
		if m2.Topic != m.Topic || m2.Partition != m.Partition || m2.Offset != m.Offset || m2.Floor != m.Floor ||
			m2.Time != m.Time || m2.Host != m.Host || !slices.Equal(m2.Values, m.Values) {
			t.Fatalf("decode(encode(decode(%q))) = %+v, want %+v", b, m2, m)
		}
	})
}
