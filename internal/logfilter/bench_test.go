package logfilter

import (
	"fmt"
	"testing"
)

// BenchmarkMatch measures one pattern of each kind on bench/logs' lines
// (go test -bench Match -cpuprofile cpu.out ./internal/logfilter).
func BenchmarkMatch(b *testing.B) {
	jsonLine := func(i int) string {
		level, status := "info", 200
		if i%1000 == 999 {
			level, status = "error", 500
		}
		return fmt.Sprintf(`{"level":"%s","id":%d,"path":"/api/i/%d","status":%d,"latency":%d}`, level, i, i%977, status, i%250)
	}
	accessLine := func(i int) string {
		return fmt.Sprintf(`10.0.%d.%d - user%d [06/Dec/2026:00:00:%02d +0000] "GET /api/i/%d HTTP/1.1" %d %d`,
			i/256%256, i%256, i%97, i%60, i%977, 200+300*btoi(i%1000 == 999), i%2000)
	}
	var js, acc []string
	for i := 0; i < 4096; i++ {
		js, acc = append(js, jsonLine(i)), append(acc, accessLine(i))
	}
	for _, c := range []struct {
		name, pat string
		lines     []string
	}{
		{"phrase", `"error"`, js}, {"alternatives", `?error ?warn`, js}, {"exclusion", `latency -info`, js},
		{"json-string-eq", `{ $.level = "error" }`, js}, {"json-number-eq", `{ $.status = 500 }`, js},
		{"json-gt", `{ $.latency > 245 }`, js}, {"json-and-or", `{ ($.latency > 248 && $.id < 500000) || $.status = 500 }`, js},
		{"space", `[ip, ident, user, ..., status = 5*, bytes]`, acc},
	} {
		p, err := Parse(c.pat)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				p.Match(c.lines[i%len(c.lines)])
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
