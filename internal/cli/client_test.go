package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// The client signs for the local berth dev's region when it found that
// berth dev's endpoint in the data dir (the server refuses requests signed
// for another region), unless --region says otherwise; a remote endpoint
// keeps the usual variables.
func TestResolveClientRegion(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("endpoint", "http://127.0.0.1:4999\n")
	write("identity.json", `{"partition":"aws","region":"eu-west-1","account":"123456789012"}`)
	env := &Env{Getenv: func(k string) string {
		return map[string]string{"AWS_REGION": "us-west-2", "BERTH_ROOT_ACCESS_KEY_ID": "AKID", "BERTH_ROOT_SECRET_ACCESS_KEY": "secret"}[k]
	}}
	for _, tc := range []struct {
		flags clientFlags
		want  string
	}{
		{clientFlags{dataDir: dir}, "eu-west-1"},
		{clientFlags{dataDir: dir, region: "ap-south-1"}, "ap-south-1"},
		{clientFlags{dataDir: dir, endpoint: "http://remote:4566"}, "us-west-2"},
		{clientFlags{dataDir: t.TempDir()}, "us-west-2"},
	} {
		_, region, _, err := resolveClient(env, &tc.flags)
		if err != nil {
			t.Fatal(err)
		}
		if region != tc.want {
			t.Errorf("%+v: region %s, want %s", tc.flags, region, tc.want)
		}
	}
}
