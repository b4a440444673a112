package window

import "unsafe"

// prefetch asks the CPU to bring the cache lines of [p, p+size) into its
// caches, without waiting for them (PREFETCHT0). size must be positive. It
// never faults and changes nothing but timing.
//
//go:noescape
func prefetch(p unsafe.Pointer, size uintptr)

// prefetchBucket starts loading b, which is about to be read, from memory.
func prefetchBucket(b *bucket) { prefetch(unsafe.Pointer(b), unsafe.Sizeof(*b)) }
