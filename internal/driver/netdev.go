package driver

import (
	"bytes"
	"fmt"
	"strconv"
)

// ParseNetDev reads /proc/PID/net/dev (the counters of the network
// namespace PID is in) into Stats.Networks: every interface but loopback.
// Lines that are not an interface's are skipped; an interface line with
// fewer than 16 counters, or one that is not a number, is an error.
func ParseNetDev(data []byte) (map[string]NetworkStats, error) {
	out := map[string]NetworkStats{}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		name, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if len(name) == 0 || bytes.ContainsAny(name, " |") {
			continue // a header
		}
		f := bytes.Fields(rest)
		if len(f) < 16 {
			return nil, fmt.Errorf("net/dev: interface %q: %d counters, want 16", name, len(f))
		}
		var v [16]uint64
		for i := range v {
			n, err := strconv.ParseUint(string(f[i]), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("net/dev: interface %q: %w", name, err)
			}
			v[i] = n
		}
		if string(name) == "lo" {
			continue
		}
		out[string(name)] = NetworkStats{RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDropped: v[11]}
	}
	return out, nil
}
