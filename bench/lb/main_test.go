package main

import (
	"testing"
	"time"
)

func TestParseFlagsDefaults(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.parts) != 2 || len(o.systems) != 3 || o.repeat != 3 || o.conns != 64 || o.backends != 4 || o.duration != 10*time.Second {
		t.Fatalf("defaults: %+v", o)
	}
	if got := o.floor(); got != 5*time.Second {
		t.Fatalf("floor %s, want 5s (the deregistration delay)", got)
	}
}

func TestParseFlagsRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"--parts", "proxy,bogus"},
		{"--systems", ""},
		{"--health-interval", "2s"},
		{"--deregistration-delay", "1500ms"},
		{"--runtime", "podman"},
		{"--lb-addresses", "10.0.0.0/24"},
		{"--nginx-address", "192.168.1.1"},
		{"--conns", "0"},
		{"extra"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestList(t *testing.T) {
	got, err := list(" berth, nginx,berth,,direct", "direct", "berth", "nginx")
	if err != nil || len(got) != 3 || got[0] != "berth" || got[1] != "nginx" || got[2] != "direct" {
		t.Fatalf("list: %q %v", got, err)
	}
}
