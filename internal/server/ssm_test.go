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
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// A SecureString put through the API is never in the clear at rest: the
// raft log, the snapshots, the whole data dir and the server's log (at
// debug level) never hold it, while a String put beside it is found in
// the log and the snapshot (the search works), and the secret resolves
// after a restart.
func TestSecureStringNeverAtRestInTheClear(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	cfg := testConfig(dir, "us-east-1", "123456789012")
	cfg.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-Needle-7f0c2b9e4d1a"
	const plain = "plain-Needle-0a9b8c7d6e5f"
	creds := credentials.NewStaticCredentialsProvider(cfg.Getenv(EnvRootAccessKeyID), cfg.Getenv(EnvRootSecretAccessKey), "")
	client := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint()), Credentials: creds})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/db/password"), Value: aws.String(secret), Type: types.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/url"), Value: aws.String(plain), Type: types.ParameterTypeString}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*ssm.GetParameterInput{{Name: aws.String("/app/db/password")}, {Name: aws.String("/app/db/password"), WithDecryption: aws.Bool(true)}} {
		if _, err := client.GetParameter(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.DescribeParameters(ctx, &ssm.DescribeParametersInput{}); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Parameters().ResolveParameter(ctx, "/app/db/password"); err != nil || v != secret {
		t.Fatalf("resolve: %q %v", v, err)
	}
	if err := s.node.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	files, plainSeen := 0, 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(data, []byte(plain)) {
			plainSeen++
		}
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s holds the SecureString value", strings.TrimPrefix(path, dir))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if plainSeen < 2 || files < 3 {
		t.Fatalf("the String value is in %d of %d files, want the log and the snapshot: the search missed them", plainSeen, files)
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatal("the server's log holds the SecureString value")
	}
	s, err = Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Parameters().ResolveParameter(ctx, "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/password"); err != nil || v != secret {
		t.Fatalf("resolve after restart: %q %v", v, err)
	}
}
