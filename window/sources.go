package window

// partEntry is one entry of the window's partition table: a Kafka topic and
// partition, or a file. Buckets refer to it by index (srcRef). The table
// only grows; it holds one entry per partition or file ever seen.
type partEntry struct {
	name      string
	partition int32
	file      bool
}

func (p partEntry) asPartition() Partition { return Partition{Topic: p.name, Partition: p.partition} }

// scanParts is how many partition-table entries ref compares one by one
// before it consults the map: a window usually reads a handful of
// partitions, interleaved record by record, and comparing a partition
// number (then a topic string, usually the same pointer) beats hashing.
const scanParts = 16

// ref returns the compact form of a known (non-zero) source.
func (w *Window) ref(s Source) srcRef {
	e, pos := partEntry{name: s.Topic, partition: s.Partition}, s.Offset
	if s.File != "" {
		e, pos = partEntry{name: s.File, file: true}, s.Line
	}
	for i := range min(len(w.parts), scanParts) {
		if p := &w.parts[i]; p.partition == e.partition && p.file == e.file && p.name == e.name {
			return srcRef{part: uint32(i), pos: pos}
		}
	}
	i, ok := w.partIdx[e]
	if !ok {
		i = uint32(len(w.parts))
		w.parts = append(w.parts, e)
		w.partIdx[e] = i
	}
	return srcRef{part: i, pos: pos}
}

// source expands a compact source.
func (w *Window) source(r srcRef) Source {
	e := w.parts[r.part]
	if e.file {
		return Source{File: e.name, Line: r.pos}
	}
	return Source{Topic: e.name, Partition: e.partition, Offset: r.pos}
}

// setSource stores the expansion of r in *s, writing its strings only if
// they differ.
func (w *Window) setSource(s *Source, r srcRef) {
	e := w.parts[r.part]
	topic, file := e.name, ""
	s.Partition, s.Offset, s.Line = e.partition, r.pos, 0
	if e.file {
		topic, file = "", e.name
		s.Partition, s.Offset, s.Line = 0, 0, r.pos
	}
	if !sameString(s.Topic, topic) {
		s.Topic = topic
	}
	if !sameString(s.File, file) {
		s.File = file
	}
}
