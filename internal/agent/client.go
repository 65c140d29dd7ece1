package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth.dev/berth/internal/sdkhttp"
)

// newECSClient builds the agent's ECS client (SigV4, the standard retryer).
func newECSClient(ctx context.Context, cfg *Config) (*ecs.Client, aws.Credentials, error) {
	creds := aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey}
	awsCfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(cfg.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")),
	)
	if err != nil {
		return nil, creds, fmt.Errorf("configure ECS client: %w", err)
	}
	client := ecs.NewFromConfig(awsCfg, func(o *ecs.Options) {
		o.BaseEndpoint = aws.String(strings.TrimRight(cfg.Server, "/"))
		o.HTTPClient = sdkhttp.New()
	})
	return client, creds, nil
}

// signedRequest builds a SigV4-signed request to a berth agent endpoint.
func (a *Agent) signedRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.cfg.Server, "/")+path, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(payload)
	if err := v4.NewSigner().SignHTTP(ctx, a.creds, req, hex.EncodeToString(sum[:]), "ecs", a.cfg.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	return req, nil
}

// presignedURL is a query-signed URL (for bodies streamed after the
// request starts, such as log uploads).
func (a *Agent) presignedURL(ctx context.Context, method, pathAndQuery string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.cfg.Server, "/")+pathAndQuery, nil)
	if err != nil {
		return "", err
	}
	q := req.URL.Query()
	q.Set("X-Amz-Expires", "60")
	req.URL.RawQuery = q.Encode()
	url, _, err := v4.NewSigner().PresignHTTP(ctx, a.creds, req, "UNSIGNED-PAYLOAD", "ecs", a.cfg.Region, time.Now())
	if err != nil {
		return "", fmt.Errorf("presign request: %w", err)
	}
	return url, nil
}

// apiError reads a berth error body.
func apiError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil && e.Type != "" {
		return fmt.Errorf("%s: %s", e.Type, e.Message)
	}
	return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
}
