package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"

	"berth.dev/berth/internal/seal"
)

// syncBuffer is a log sink shared by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A certificate imported through the API keeps its private key out of
// everything the server writes: the raft log, the snapshots, the whole
// data dir and the server's log (at debug level) never hold the key's
// PEM body, yet the key opens again after a restart.
func TestCertificateKeyNeverAtRestInTheClear(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	cfg := testConfig(dir, "us-east-1", "123456789012")
	cfg.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM := selfSigned(t)
	creds := credentials.NewStaticCredentialsProvider(cfg.Getenv(EnvRootAccessKeyID), cfg.Getenv(EnvRootSecretAccessKey), "")
	client := acm.New(acm.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint()), Credentials: creds})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := client.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.CertificateArn)
	if _, key, ok := s.Certificates().Certificate(arn); !ok || !samePrivateKey(t, key, keyPEM) {
		t.Fatal("the certificate's key does not resolve")
	}
	if err := s.node.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	body := pemBody(keyPEM)
	der, _ := pem.Decode(keyPEM)
	needles := [][]byte{[]byte(body), []byte(body[:48]), []byte(body[len(body)-48:]), der.Bytes}
	files, certSeen := 0, 0
	certNeedle := []byte(pemBody(certPEM)[:48])
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(data, certNeedle) {
			certSeen++ // the search works: the certificate itself is there
		}
		for _, n := range needles {
			if bytes.Contains(data, n) {
				t.Errorf("%s holds the private key", strings.TrimPrefix(path, dir))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if certSeen < 2 {
		t.Fatalf("the certificate is in %d files, want the log and the snapshot: the search missed them", certSeen)
	}
	if files < 3 {
		t.Fatalf("only %d files in the data dir: no log or snapshot to search", files)
	}
	for _, n := range needles[:3] {
		if strings.Contains(logs.String(), string(n)) {
			t.Fatal("the server's log holds the private key")
		}
	}
	fi, err := os.Stat(filepath.Join(dir, seal.KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}

	// After a restart (snapshot + log), the key opens again.
	s, err = Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, key, ok := s.Certificates().Certificate(arn); !ok || !samePrivateKey(t, key, keyPEM) {
		t.Fatal("the key does not open after a restart")
	}
}

// An operator's key file is used instead of the data dir's; a loose one
// stops the server at start.
func TestStateKeyFile(t *testing.T) {
	dir, keys := t.TempDir(), t.TempDir()
	keyFile := filepath.Join(keys, "berth.key")
	if err := os.WriteFile(keyFile, bytes.Repeat([]byte{9}, seal.KeySize), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir, "us-east-1", "123456789012")
	cfg.StateKeyFile = keyFile
	if s, err := Start(context.Background(), cfg); err == nil {
		s.Close()
		t.Fatal("a 0644 key file was accepted")
	} else if !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("error %v", err)
	}
	os.Chmod(keyFile, 0o600)
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, seal.KeyFile)); err == nil {
		t.Fatal("the data dir got a key of its own although the operator gave one")
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "secret.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k})
}

func samePrivateKey(t *testing.T, got string, want []byte) bool {
	t.Helper()
	blk, _ := pem.Decode(want)
	gb, _ := pem.Decode([]byte(got))
	return gb != nil && blk != nil && bytes.Equal(gb.Bytes, blk.Bytes)
}

func pemBody(p []byte) string {
	var b strings.Builder
	for _, l := range strings.Split(string(p), "\n") {
		if !strings.HasPrefix(l, "-----") {
			b.WriteString(l)
		}
	}
	return b.String()
}
