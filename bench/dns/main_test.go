package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.systems, []string{"berth", "dnsmasq"}) || o.repeat != 3 || o.clients != 8 || o.duration != 5*time.Second || o.serverCores != 1 {
		t.Fatalf("defaults %+v", o)
	}
	if o, err = parseFlags([]string{"--systems", "dnsmasq,berth,dnsmasq"}); err != nil || !slices.Equal(o.systems, []string{"dnsmasq", "berth"}) {
		t.Fatalf("systems %v %v", o, err)
	}
	for _, bad := range [][]string{{"--systems", "bind"}, {"--clients", "0"}, {"--duration", "0s"}, {"extra"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("%s accepted", strings.Join(bad, " "))
		}
	}
}

func TestBenchConfigHasTenHealthyRecords(t *testing.T) {
	set := benchConfig().Zones[0].RRSets[0]
	if len(set.Records) != records || set.Name != svcName {
		t.Fatalf("%+v", set)
	}
	for _, r := range set.Records {
		if !r.Healthy {
			t.Fatalf("unhealthy %+v", r)
		}
	}
}
