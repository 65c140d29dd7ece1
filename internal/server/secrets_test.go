package server

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// A secret written through the API keeps its value out of everything the
// server writes: the raft log, the snapshots, the whole data dir and the
// server's log (at debug level) never hold it, yet it resolves again
// after a restart.
func TestSecretValueNeverAtRestInTheClear(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	cfg := testConfig(dir, "us-east-1", "123456789012")
	cfg.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	creds := credentials.NewStaticCredentialsProvider(cfg.Getenv(EnvRootAccessKeyID), cfg.Getenv(EnvRootSecretAccessKey), "")
	client := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint()), Credentials: creds})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const first, second = "Zq8-first-plaintext-3c1f9e0a7b", "Zq8-second-plaintext-77d2a4c6e1"
	const binary = "\x00\x01Zq8-binary-plaintext-5ab0"
	out, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/db-password"),
		Description: aws.String("searchable-description"), SecretString: aws.String(`{"password":"` + first + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ARN)
	if _, err := client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: out.ARN, SecretString: aws.String(second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bin"), SecretBinary: []byte(binary)}); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Secrets().ResolveSecretValue(ctx, arn+"::AWSPREVIOUS:"); err != nil || v != `{"password":"`+first+`"}` {
		t.Fatalf("resolve: %q %v", v, err)
	}
	if err := s.node.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	needles := []string{first, second, "Zq8-binary-plaintext"}
	files, seen := 0, 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(data, []byte("searchable-description")) {
			seen++ // the search works: the secret's description is there
		}
		for _, n := range needles {
			if bytes.Contains(data, []byte(n)) {
				t.Errorf("%s holds a secret value", strings.TrimPrefix(path, dir))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 2 {
		t.Fatalf("the description is in %d files, want the log and the snapshot: the search missed them", seen)
	}
	if files < 3 {
		t.Fatalf("only %d files in the data dir: no log or snapshot to search", files)
	}
	for _, n := range needles {
		if strings.Contains(logs.String(), n) {
			t.Fatal("the server's log holds a secret value")
		}
	}

	// After a restart (snapshot + log), the values open again.
	s, err = Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Secrets().ResolveSecretValue(ctx, arn); err != nil || v != second {
		t.Fatalf("after a restart: %q %v", v, err)
	}
	if v, err := s.Secrets().ResolveSecretValue(ctx, arn+":password:AWSPREVIOUS:"); err != nil || v != first {
		t.Fatalf("after a restart: %q %v", v, err)
	}
}
