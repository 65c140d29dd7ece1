package cli

import (
	"errors"
	"testing"
)

func TestPrintedEndpoint(t *testing.T) {
	const ep = "http://127.0.0.1:4566"
	resolves := func(m map[string][]string) func(string) ([]string, error) {
		return func(h string) ([]string, error) {
			if a, ok := m[h]; ok {
				return a, nil
			}
			return nil, errors.New("no such host")
		}
	}
	for _, tc := range []struct {
		name string
		m    map[string][]string
		want string
	}{
		{"both resolve to loopback", map[string][]string{devHost: {"127.0.0.1", "::1"}, "data-" + devHost: {"127.0.0.1"}}, "http://berth.localhost:4566"},
		{"data- form missing", map[string][]string{devHost: {"127.0.0.1"}}, ep},
		{"nothing resolves", nil, ep},
		{"not loopback", map[string][]string{devHost: {"10.0.0.1"}, "data-" + devHost: {"10.0.0.1"}}, ep},
	} {
		if got := printedEndpoint(ep, resolves(tc.m)); got != tc.want {
			t.Errorf("%s: printedEndpoint = %s, want %s", tc.name, got, tc.want)
		}
	}
}
