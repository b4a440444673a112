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
// partitions, and comparing a partition number (then a topic string,
// usually the same pointer) beats hashing.
const scanParts = 16

// ref returns the compact form of a known (non-zero) source. A Kafka
// source is first looked up by its partition number in partHint: records
// of several partitions arrive interleaved, so a scan would stop at a
// different entry each time and the CPU would mispredict its exit.
func (w *Window) ref(s Source) srcRef {
	if s.File == "" {
		if h := w.partHint[s.Partition&15]; h != 0 {
			if p := &w.parts[h-1]; p.partition == s.Partition && !p.file && p.name == s.Topic {
				return srcRef{part: h - 1, pos: s.Offset}
			}
		}
	}
	e, pos := partEntry{name: s.Topic, partition: s.Partition}, s.Offset
	if s.File != "" {
		e, pos = partEntry{name: s.File, file: true}, s.Line
	}
	i, ok := uint32(0), false
	for k := range min(len(w.parts), scanParts) {
		if p := &w.parts[k]; p.partition == e.partition && p.file == e.file && p.name == e.name {
			i, ok = uint32(k), true
			break
		}
	}
	if !ok {
		i, ok = w.partIdx[e]
	}
	if !ok {
		i = uint32(len(w.parts))
		w.parts = append(w.parts, e)
		w.partIdx[e] = i
	}
	if !e.file {
		w.partHint[e.partition&15] = i + 1
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
