package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/server"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
	testKeyID   = "AKIATESTKEY000000001"
	testSecret  = "testsecret/abcdefghijklmnopqrstuvwxyz0123"
)

// env is one running berth server and clients for it.
type env struct {
	t        *testing.T
	srv      *server.Server
	dataDir  string
	endpoint string
	ecs      *ecs.Client
}

// start runs a server in this process with fixed root credentials.
func start(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	return startIn(t, dir)
}

func startIn(t *testing.T, dir string) *env {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("BERTH_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := server.Start(context.Background(), server.Config{
		DataDir: dir, Listen: "127.0.0.1:0", Region: testRegion, AccountID: testAccount,
		Getenv: fixedEnv(map[string]string{
			server.EnvRootAccessKeyID:     testKeyID,
			server.EnvRootSecretAccessKey: testSecret,
		}),
		Log: log,
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &env{t: t, srv: srv, dataDir: dir, endpoint: srv.Endpoint()}
	e.ecs = newClient(t, e.endpoint, testKeyID, testSecret)
	return e
}

func fixedEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// newClient returns an ECS client that makes exactly one attempt per call,
// so a test never passes thanks to a retry.
func newClient(t *testing.T, endpoint, id, secret string) *ecs.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(testRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }),
	)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = sdkhttp.New()
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantAPIError checks that err is the typed SDK error T with code and, when
// msg is not empty, a message containing msg.
func wantAPIError[T error](t *testing.T, err error, msg string) T {
	t.Helper()
	var typed T
	if !errors.As(err, &typed) {
		t.Fatalf("got error %v (%T), want %T", err, err, typed)
	}
	var api smithy.APIError
	if msg != "" && (!errors.As(err, &api) || !strings.Contains(api.ErrorMessage(), msg)) {
		t.Fatalf("got message %q, want it to contain %q", errMessage(err), msg)
	}
	return typed
}

// wantCode checks an error's API code for errors the SDK does not type.
func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("got error %v, want API error %s", err, code)
	}
	if api.ErrorCode() != code {
		t.Fatalf("got code %s (%s), want %s", api.ErrorCode(), api.ErrorMessage(), code)
	}
	if msg != "" && !strings.Contains(api.ErrorMessage(), msg) {
		t.Fatalf("got message %q, want it to contain %q", api.ErrorMessage(), msg)
	}
}

func errMessage(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorMessage()
	}
	return err.Error()
}

// rawResponse is a decoded raw HTTP answer.
type rawResponse struct {
	Status    int
	Header    http.Header
	Body      []byte
	Type      string // __type of an error body
	Message   string
	RequestID string
}

// raw sends body to operation op, signed like the Go SDK signs (all headers),
// or unsigned when sign is false. mutate may change the request after signing.
func (e *env) raw(op string, body []byte, sign bool, mutate func(*http.Request)) rawResponse {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if op != "" {
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+op)
	}
	if sign {
		sum := sha256.Sum256(body)
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
			req, hex.EncodeToString(sum[:]), "ecs", testRegion, time.Now())
		if err != nil {
			e.t.Fatal(err)
		}
	}
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("raw %s: %v", op, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b, RequestID: resp.Header.Get("x-amzn-RequestId")}
	var eb struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &eb) == nil {
		out.Type, out.Message = eb.Type, eb.Message
	}
	return out
}

// stateCounts returns the number of records per state table.
func (e *env) stateCounts() map[string]int {
	return e.srv.StateCounts()
}
