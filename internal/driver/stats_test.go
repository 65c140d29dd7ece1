package driver

import (
	"encoding/json"
	"testing"
	"time"
)

const netDevSample = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1234      10    0    0    0     0          0         0     1234      10    0    0    0     0       0          0
  eth0: 9876543     321    1    2    0     0          0         0   123456     99    3    4    0     0       0          0
`

func TestParseNetDev(t *testing.T) {
	got, err := ParseNetDev([]byte(netDevSample))
	if err != nil {
		t.Fatal(err)
	}
	want := NetworkStats{RxBytes: 9876543, RxPackets: 321, RxErrors: 1, RxDropped: 2, TxBytes: 123456, TxPackets: 99, TxErrors: 3, TxDropped: 4}
	if len(got) != 1 || got["eth0"] != want {
		t.Fatalf("got %+v", got)
	}
	if _, err := ParseNetDev([]byte("eth0: 1 2 3\n")); err == nil {
		t.Fatal("a short line parsed")
	}
}

func FuzzParseNetDev(f *testing.F) {
	f.Add([]byte(netDevSample))
	f.Add([]byte("eth0: 1 2 3\n"))
	f.Add([]byte(" x: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseNetDev(data)
		if err == nil {
			if _, ok := m["lo"]; ok {
				t.Fatal("loopback reported")
			}
		}
	})
}

func TestStatsHistoryFillsThePreviousSample(t *testing.T) {
	var h StatsHistory
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	first := Stats{Read: t0, ID: "c", CPUStats: CPUStats{CPUUsage: CPUUsage{TotalUsage: 100}},
		Networks: map[string]NetworkStats{"eth0": {RxBytes: 1000, TxBytes: 10}}}
	h.Fill("c", &first)
	if !first.PreRead.IsZero() || first.NetworkRate != nil {
		t.Fatalf("first sample has a previous one: %+v", first)
	}
	second := Stats{Read: t0.Add(2 * time.Second), ID: "c", CPUStats: CPUStats{CPUUsage: CPUUsage{TotalUsage: 300}},
		Networks: map[string]NetworkStats{"eth0": {RxBytes: 3000, TxBytes: 30}}}
	h.Fill("c", &second)
	if !second.PreRead.Equal(t0) || second.PreCPUStats.CPUUsage.TotalUsage != 100 {
		t.Fatalf("precpu not filled: %+v", second)
	}
	if r := second.NetworkRate; r == nil || r.RxBytesPerSecond != 1000 || r.TxBytesPerSecond != 10 {
		t.Fatalf("network rate %+v", second.NetworkRate)
	}
	b, err := json.Marshal(second)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"read", "preread", "cpu_stats", "precpu_stats", "memory_stats", "blkio_stats", "pids_stats", "networks", "network_rate_stats", "name", "id"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s in %s", k, b)
		}
	}
	h.Forget("c")
	third := Stats{Read: t0.Add(3 * time.Second)}
	h.Fill("c", &third)
	if !third.PreRead.IsZero() {
		t.Fatal("a forgotten sample was used")
	}
	// Old samples are dropped.
	h.Fill("old", &Stats{Read: t0})
	h.Fill("new", &Stats{Read: t0.Add(time.Hour)})
	if _, ok := h.prev["old"]; ok {
		t.Fatal("an hour-old sample was kept")
	}
}
