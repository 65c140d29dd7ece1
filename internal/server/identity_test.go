package server

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testConfig(dir, region, account string) Config {
	env := map[string]string{EnvRootAccessKeyID: "AKIATESTKEY000000001", EnvRootSecretAccessKey: "testsecret/abcdefghijklmnopqrstuvwxyz0123"}
	return Config{DataDir: dir, Listen: "127.0.0.1:0", Region: region, AccountID: account, Getenv: func(k string) string { return env[k] }}
}

// A data dir records its identity when created, and a server started on it
// with another region or account refuses it with a message that says what
// the data dir holds.
func TestDataDirIdentity(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(context.Background(), testConfig(dir, "us-east-1", "123456789012"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Config{testConfig(dir, "eu-west-1", "123456789012"), testConfig(dir, "us-east-1", "210987654321")} {
		s, err := Start(context.Background(), bad)
		if err == nil {
			s.Close()
			t.Fatalf("region %s account %s: the server started on another identity's data dir", bad.Region, bad.AccountID)
		}
		if !strings.Contains(err.Error(), "holds state for partition aws, region us-east-1, account 123456789012") {
			t.Fatalf("error %q does not say what the data dir holds", err)
		}
	}
	s, err = Start(context.Background(), testConfig(dir, "us-east-1", "123456789012"))
	if err != nil {
		t.Fatalf("the same identity again: %v", err)
	}
	s.Close()
}

// A data dir written before identity files existed gets its identity from
// the ARNs in its state.
func TestLegacyDataDirIdentity(t *testing.T) {
	legacy := func(t *testing.T) string {
		dir := t.TempDir()
		src := filepath.Join("..", "raftnode", "testdata", "legacy-v1", "raft")
		err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, path)
			target := filepath.Join(dir, "raft", rel)
			if d.IsDir() {
				return os.MkdirAll(target, 0o700)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o600)
		})
		if err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir := legacy(t)
	s, err := Start(context.Background(), testConfig(dir, "eu-west-1", "123456789012"))
	if err == nil {
		s.Close()
		t.Fatal("the server replayed a us-east-1 data dir as eu-west-1")
	}
	if !strings.Contains(err.Error(), "region us-east-1") {
		t.Fatalf("error %q does not name the data dir's region", err)
	}
	if _, err := os.Stat(filepath.Join(dir, IdentityFile)); err == nil {
		t.Fatal("a refused start wrote the identity file")
	}
	s, err = Start(context.Background(), testConfig(dir, "us-east-1", "123456789012"))
	if err != nil {
		t.Fatalf("the legacy data dir with its own identity: %v", err)
	}
	if got := s.StateCounts()["services"]; got != 2 {
		t.Errorf("the legacy data dir has %d services after the start, want 2", got)
	}
	s.Close()
	if id, ok, err := readIdentity(dir); err != nil || !ok || id.Region != "us-east-1" {
		t.Fatalf("identity after the first start: %+v %v %v", id, ok, err)
	}
}
