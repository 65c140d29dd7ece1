package demoapp

import (
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfigFlagsWinOverEnvironment(t *testing.T) {
	c, err := parseConfig([]string{"--exit-code", "3", "--drain", "2s"}, env(map[string]string{
		"TESTAPP_EXIT_CODE": "9", "TESTAPP_PRINT": "4", "TESTAPP_IGNORE_SIGTERM": "true", "PORT": "9000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.exitCode != 3 || !c.exitRequested || c.exitAfter != 0 || c.drain != 2*time.Second || c.print != 4 || !c.ignoreSigterm || c.listen != ":9000" {
		t.Errorf("%+v", c)
	}
}

func TestParseConfigDefaults(t *testing.T) {
	c, err := parseConfig(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != ":8080" || c.exitRequested || c.unhealthy || c.touch != "" {
		t.Errorf("%+v", c)
	}
	c, err = parseConfig(nil, env(map[string]string{"TESTAPP_EXIT_AFTER": "1s", "TESTAPP_LISTEN": "127.0.0.1:1"}))
	if err != nil || !c.exitRequested || c.exitAfter != time.Second || c.exitCode != 0 || c.listen != "127.0.0.1:1" {
		t.Errorf("%+v %v", c, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--exit-code", "x"}, nil},
		{[]string{"stray"}, nil},
		{nil, map[string]string{"TESTAPP_DRAIN": "soon"}},
		{[]string{"--no-such-flag"}, nil},
	} {
		if _, err := parseConfig(tc.args, env(tc.env)); err == nil {
			t.Errorf("%v %v accepted", tc.args, tc.env)
		}
	}
}
