package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth.dev/berth/internal/apierr"
)

// seen is what the test server observed for one request.
type seen struct {
	path, signedHeaders string
	id                  Identity
	err                 error
}

// verifyingServer answers ListClusters for requests that pass Verify and
// writes AWS-shaped errors for the rest. The clock is the real one: the
// clients sign with it.
func verifyingServer(t *testing.T) (*httptest.Server, func() []seen) {
	t.Helper()
	var mu sync.Mutex
	var log []seen
	v := testVerifier()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, err := v.Verify(r, body, time.Now())
		s := seen{path: r.URL.Path, id: id, err: err}
		if c, perr := parseAuthorization(r.Header.Get("Authorization")); perr == nil {
			s.signedHeaders = c.signedHeadersRaw
		}
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if e, ok := apierr.As(err); ok {
			w.Header().Set("X-Amzn-ErrorType", e.Code)
			w.WriteHeader(e.Status())
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
			return
		}
		_, _ = io.WriteString(w, `{"clusterArns":["arn:aws:ecs:eu-west-3:000000000000:cluster/default"]}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return append([]seen(nil), log...)
	}
}

func TestECSClientEndToEnd(t *testing.T) {
	srv, observed := verifyingServer(t)
	for _, base := range []string{srv.URL, srv.URL + "/berth/api"} {
		client := ecs.New(ecs.Options{
			Region:           "eu-west-3",
			BaseEndpoint:     aws.String(base),
			Credentials:      credentials.NewStaticCredentialsProvider(testKey, testSecret, ""),
			RetryMaxAttempts: 1,
		})
		out, err := client.ListClusters(context.Background(), &ecs.ListClustersInput{MaxResults: aws.Int32(10)})
		if err != nil {
			t.Fatalf("ListClusters via %s: got %v, want nil", base, err)
		}
		if got := len(out.ClusterArns); got != 1 {
			t.Errorf("cluster ARNs: got %v, want %v", got, 1)
		}
	}
	log := observed()
	if len(log) != 2 {
		t.Fatalf("requests seen: got %v, want %v", len(log), 2)
	}
	for i, wantPath := range []string{"/", "/berth/api"} {
		if log[i].path != wantPath {
			t.Errorf("path: got %v, want %v", log[i].path, wantPath)
		}
		if want := (Identity{AccessKeyID: testKey, Region: "eu-west-3"}); log[i].id != want {
			t.Errorf("identity: got %v, want %v", log[i].id, want)
		}
		if !strings.Contains(log[i].signedHeaders, "content-length") || !strings.Contains(log[i].signedHeaders, "amz-sdk-invocation-id") {
			t.Errorf("SDK SignedHeaders: got %v, want content-length and amz-sdk-* in it", log[i].signedHeaders)
		}
	}

	// A wrong secret surfaces in the SDK as InvalidSignatureException.
	client := ecs.New(ecs.Options{
		Region:           "eu-west-3",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(testKey, "wrong", ""),
		RetryMaxAttempts: 1,
	})
	_, err := client.ListClusters(context.Background(), &ecs.ListClustersInput{})
	var apiErr interface{ ErrorCode() string }
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != apierr.InvalidSignature {
		t.Errorf("wrong secret: got %v, want %v", err, apierr.InvalidSignature)
	}
}

// TestAWSCLIEndToEnd drives the real AWS CLI (botocore) when one is
// installed. BERTH_AWS_CLI overrides which binary is used.
func TestAWSCLIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the AWS CLI")
	}
	cli := os.Getenv("BERTH_AWS_CLI")
	if cli == "" {
		cli = "aws"
	}
	path, err := exec.LookPath(cli)
	if err != nil {
		t.Skipf("no AWS CLI: %v", err)
	}
	dir := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_ACCESS_KEY_ID=" + testKey,
		"AWS_DEFAULT_REGION=ap-northeast-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	}
	if err := exec.Command(path, "--version").Run(); err != nil {
		t.Skipf("AWS CLI %s does not run: %v", path, err)
	}
	srv, observed := verifyingServer(t)
	run := func(secret string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, path, "ecs", "list-clusters", "--endpoint-url", srv.URL+"/berth", "--output", "json")
		cmd.Env = append(env, "AWS_SECRET_ACCESS_KEY="+secret)
		return cmd.CombinedOutput()
	}
	out, err := run(testSecret)
	if err != nil {
		t.Fatalf("aws ecs list-clusters: got %v (%s), want success", err, out)
	}
	log := observed()
	if len(log) != 1 || log[0].err != nil {
		t.Fatalf("server saw: got %+v, want one verified request", log)
	}
	if got, want := log[0].signedHeaders, "content-type;host;x-amz-date;x-amz-target"; got != want {
		t.Errorf("CLI SignedHeaders: got %v, want %v", got, want)
	}
	if want := (Identity{AccessKeyID: testKey, Region: "ap-northeast-1"}); log[0].id != want {
		t.Errorf("identity: got %v, want %v", log[0].id, want)
	}

	out, err = run("wrong-secret")
	if err == nil || !strings.Contains(string(out), apierr.InvalidSignature) {
		t.Errorf("wrong secret: got %v (%s), want %v", err, out, apierr.InvalidSignature)
	}
}
