package scheduler

import "sync"

// scratch holds the per-call buffers of a placement, sized to the cluster.
// Calls reuse them through a pool so that placing against a large cluster
// does not allocate (and make the collector scan) a few hundred kilobytes
// per request. Nothing in a Plan points into a scratch.
type scratch struct {
	placed  []int32 // all zero between calls
	touched []int32 // indices whose placed entry is not zero
	cands   []int32
	t0, buf []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch(n int) *scratch {
	s := scratchPool.Get().(*scratch)
	if cap(s.placed) < n {
		s.placed = make([]int32, n)
	}
	s.placed = s.placed[:n]
	return s
}

// release zeroes what the call changed and returns the buffers to the pool.
func (s *scratch) release() {
	for _, i := range s.touched {
		s.placed[i] = 0
	}
	s.touched = s.touched[:0]
	scratchPool.Put(s)
}

// grow returns buf emptied, with room for n elements.
func grow(buf []int32, n int) []int32 {
	if cap(buf) < n {
		return make([]int32, 0, n)
	}
	return buf[:0]
}
