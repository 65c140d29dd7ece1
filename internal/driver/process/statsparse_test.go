package process

import "testing"

func TestStatsParsers(t *testing.T) {
	if m := parseKeyed([]byte("usage_usec 12\nbad\nx y\nuser_usec 3\n")); len(m) != 2 || m["usage_usec"] != 12 || m["user_usec"] != 3 {
		t.Errorf("keyed %v", m)
	}
	if v, ok := parseValue([]byte("max\n")); ok || v != 0 {
		t.Errorf("max read as %d", v)
	}
	if v, ok := parseValue([]byte("42\n")); !ok || v != 42 {
		t.Errorf("value %d %v", v, ok)
	}
	io := parseIOStat([]byte("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\nbad line\n259:1 rbytes=7\n"))
	if len(io) != 2 || io[0] != (ioStat{Major: 8, RBytes: 1, WBytes: 2, RIOs: 3, WIOs: 4}) || io[1].Major != 259 || io[1].RBytes != 7 {
		t.Errorf("io.stat %+v", io)
	}
	ticks, cpus := parseProcStatCPU([]byte("cpu  10 20 30 40 0 0 0 0 0 0\ncpu0 5 10 15 20\ncpu1 5 10 15 20\nintr 1 2\n"))
	if ticks != 100 || cpus != 2 {
		t.Errorf("/proc/stat: %d ticks, %d cpus", ticks, cpus)
	}
	s, ok := parsePidStat([]byte("42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 4 0 1234 1000000 250 18446744073709551615"))
	if !ok || s.Pgrp != 42 || s.UTime != 7 || s.STime != 3 || s.Threads != 4 || s.RSSPages != 250 {
		t.Errorf("pid stat %+v %v", s, ok)
	}
	if _, ok := parsePidStat([]byte("42 (a) S 1")); ok {
		t.Error("a short stat parsed")
	}
	if n := parseMemTotal([]byte("MemTotal:       2048 kB\nMemFree: 1 kB\n")); n != 2048<<10 {
		t.Errorf("MemTotal %d", n)
	}
}

func FuzzParseKeyed(f *testing.F) {
	f.Add([]byte("usage_usec 12\nuser_usec 3\n"))
	f.Add([]byte("anon 4096\nfile -1\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) { parseKeyed(data); parseValue(data) })
}

func FuzzParseIOStat(f *testing.F) {
	f.Add([]byte("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n"))
	f.Add([]byte("8: rbytes==1\n:0\n"))
	f.Fuzz(func(t *testing.T, data []byte) { parseIOStat(data) })
}

func FuzzParseProcStatCPU(f *testing.F) {
	f.Add([]byte("cpu  10 20 30 40 0 0 0 0 0 0\ncpu0 5 10 15 20\n"))
	f.Add([]byte("cpu\ncpux\n"))
	f.Fuzz(func(t *testing.T, data []byte) { parseProcStatCPU(data) })
}

func FuzzParsePidStat(f *testing.F) {
	f.Add([]byte("42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 4 0 1234 1000000 250 18446744073709551615"))
	f.Add([]byte("1 ((((( S"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, ok := parsePidStat(data); ok && s.Pgrp < 0 {
			t.Fatalf("negative process group %d", s.Pgrp)
		}
	})
}

func FuzzParseMemTotal(f *testing.F) {
	f.Add([]byte("MemTotal:       2048 kB\n"))
	f.Add([]byte("MemTotal:\n"))
	f.Fuzz(func(t *testing.T, data []byte) { parseMemTotal(data) })
}
