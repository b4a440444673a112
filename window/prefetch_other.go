//go:build !amd64

package window

// prefetchBucket starts loading b, which is about to be read, from memory.
// Only amd64 has an implementation; elsewhere it does nothing.
func prefetchBucket(*bucket) {}
