package main

import (
	"testing"
	"time"
)

func TestParseConfigs(t *testing.T) {
	got, err := parseConfigs(" 100/200, 50/100,100/200,0/100")
	if err != nil {
		t.Fatal(err)
	}
	want := []config{{100, 200}, {50, 100}, {0, 100}}
	if len(got) != len(want) {
		t.Fatalf("parseConfigs = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("parseConfigs[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "100", "a/b", "101/200", "50/99", "50/201", "-1/100"} {
		if _, err := parseConfigs(bad); err == nil {
			t.Errorf("parseConfigs(%q) accepted", bad)
		}
	}
}

func TestMakePlan(t *testing.T) {
	for _, tc := range []struct {
		cfg                               config
		desired                           int
		minHealthy, maxLive, batch, waves int
		order                             string
		parallelism                       int
		exact                             bool
		floor                             time.Duration
	}{
		{config{100, 200}, 10, 10, 20, 10, 1, "start-first", 10, true, 5 * time.Second},
		{config{50, 100}, 10, 5, 10, 5, 2, "stop-first", 5, true, 10 * time.Second},
		{config{100, 150}, 10, 10, 15, 5, 2, "start-first", 5, true, 10 * time.Second},
		{config{0, 100}, 10, 0, 10, 10, 1, "stop-first", 10, true, 5 * time.Second},
		{config{90, 100}, 10, 9, 10, 1, 10, "stop-first", 1, true, 50 * time.Second},
		{config{50, 150}, 10, 5, 15, 10, 1, "start-first", 10, false, 5 * time.Second},
		{config{50, 100}, 3, 2, 3, 1, 3, "stop-first", 1, true, 15 * time.Second}, // ceil(1.5) = 2
		{config{100, 200}, 1, 1, 2, 1, 1, "start-first", 1, true, 5 * time.Second},
	} {
		p, err := makePlan(tc.cfg, tc.desired)
		if err != nil {
			t.Errorf("%v × %d: %v", tc.cfg, tc.desired, err)
			continue
		}
		if p.minHealthy != tc.minHealthy || p.maxLive != tc.maxLive || p.batch != tc.batch || p.waves != tc.waves ||
			p.swarmOrder != tc.order || p.swarmParallelism != tc.parallelism || p.exact != tc.exact {
			t.Errorf("%v × %d: %+v", tc.cfg, tc.desired, p)
		}
		if got := p.floor(5 * time.Second); got != tc.floor {
			t.Errorf("%v × %d: floor %s, want %s", tc.cfg, tc.desired, got, tc.floor)
		}
	}
	if _, err := makePlan(config{100, 100}, 10); err == nil {
		t.Error("100/100 (nothing can be replaced) accepted")
	}
	if _, err := makePlan(config{100, 200}, 0); err == nil {
		t.Error("0 tasks accepted")
	}
}
