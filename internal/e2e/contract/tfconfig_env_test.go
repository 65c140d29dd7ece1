package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/server"
)

// cfgProvider mirrors the Terraform AWS provider's configuration
// resources (internal/service/secretsmanager, ssm, iam, logs): each
// method is one of its functions, with the same calls, inputs and
// decisions on their answers.
type cfgProvider struct {
	sm   *secretsmanager.Client
	ssm  *ssm.Client
	iam  *iam.Client
	logs *cloudwatchlogs.Client
	ecs  *ecs.Client
}

// propagationTimeout is the provider's IAM and Secrets Manager
// propagation timeout (2 minutes); the retries below poll faster than
// the provider's backoff.
const propagationTimeout = 2 * time.Minute

// newCfgProvider starts a server (no agent: these resources need none)
// and the provider's clients of it.
func newCfgProvider(t *testing.T) *cfgProvider {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the server runs on Linux")
	}
	t.Parallel()
	srv, err := server.Start(context.Background(), server.Config{
		DataDir: t.TempDir(), Listen: "127.0.0.1:0", Region: region, AccountID: account,
		Getenv: func(k string) string {
			return map[string]string{server.EnvRootAccessKeyID: keyID, server.EnvRootSecretAccessKey: secret}[k]
		},
		Log: logger("server"),
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(keyID, secret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }),
		config.WithBaseEndpoint(srv.Endpoint()))
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	cfg.HTTPClient = sdkhttp.New()
	return &cfgProvider{sm: secretsmanager.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg),
		logs: cloudwatchlogs.NewFromConfig(cfg), ecs: ecs.NewFromConfig(cfg)}
}

// retryValue mirrors tfresource.RetryWhen (with a result): f again while retryable(err),
// until timeout.
func retryValue[T any](c context.Context, timeout time.Duration, f func() (T, error), retryable func(error) bool) (T, error) {
	deadline := time.Now().Add(timeout)
	for {
		v, err := f()
		if err == nil || !retryable(err) || time.Now().After(deadline) {
			return v, err
		}
		select {
		case <-c.Done():
			return v, c.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// retryUntilNotFound mirrors tfresource.RetryUntilNotFound: f until it
// answers errNotFound.
func retryUntilNotFound[T any](c context.Context, timeout time.Duration, f func() (T, error)) error {
	_, err := retryValue(c, timeout, func() (T, error) {
		v, err := f()
		if err == nil {
			return v, errStillThere
		}
		return v, err
	}, func(err error) bool { return errors.Is(err, errStillThere) })
	if errors.Is(err, errNotFound) {
		return nil
	}
	if err == nil {
		return errors.New("unexpected success")
	}
	return err
}

var errStillThere = errors.New("still there")

// isCode reports whether err is an API error of that code.
func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// policiesEquivalent mirrors verify.PolicyToSet's decision: the document
// read back is the configured one when their JSON is equivalent (an
// inequivalent one is a perpetual diff).
func policiesEquivalent(a, b string) error {
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		return fmt.Errorf("configured policy: %w", err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		return fmt.Errorf("policy read back: %w", err)
	}
	if !reflect.DeepEqual(x, y) {
		return fmt.Errorf("policy read back %s differs from the configured %s", b, a)
	}
	return nil
}

// wantNoDiff is `terraform plan` after a refresh: every attribute read
// back must equal the configuration's, or the plan would show a diff.
func wantNoDiff(t *testing.T, what string, config, state map[string]any) {
	t.Helper()
	for k, want := range config {
		if got := state[k]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: plan shows a diff on %s: read back %#v, configured %#v", what, k, got, want)
		}
	}
}
