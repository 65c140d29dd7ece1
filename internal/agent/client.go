package agent

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/sdkhttp"
)

// controlPlane is everything the agent asks of the server. Each part is
// defined where it is used (registrar, streamer, reportSink, logSink);
// serverClient is the real one, tests use a fake.
type controlPlane interface {
	registrar
	streamer
	reportSink
	logSink
	secretSource
	credentialSource
}

// serverClient talks to a berth server: the ECS API through the SDK
// (SigV4, the standard retryer), and the agent endpoints of package
// agentproto with signed HTTP requests.
type serverClient struct {
	*ecs.Client
	endpoint string
	region   string
	creds    aws.Credentials
	http     *http.Client
}

var _ controlPlane = (*serverClient)(nil)

// dialServer builds the client of the server cfg names.
func dialServer(ctx context.Context, cfg *Config) (controlPlane, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(cfg.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")),
	)
	if err != nil {
		return nil, fmt.Errorf("configure ECS client: %w", err)
	}
	endpoint := strings.TrimRight(cfg.Server, "/")
	client := ecs.NewFromConfig(awsCfg, func(o *ecs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = sdkhttp.New()
	})
	return &serverClient{Client: client, endpoint: endpoint, region: cfg.Region,
		creds: aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey}, http: &http.Client{}}, nil
}

// OpenStream opens the instance's push stream.
func (c *serverClient) OpenStream(ctx context.Context, req agentproto.StreamRequest) (messageStream, error) {
	hreq, err := c.signedRequest(ctx, http.MethodPost, agentproto.PathStream, req)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		err := apiError(resp)
		if resp.StatusCode == http.StatusBadRequest {
			return nil, fmt.Errorf("%w: %w", errDeregistered, err)
		}
		return nil, err
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	return &httpStream{body: resp.Body, sc: sc}, nil
}

// httpStream reads the stream's NDJSON lines.
type httpStream struct {
	body io.ReadCloser
	sc   *bufio.Scanner
}

func (s *httpStream) Next() ([]byte, error) {
	if s.sc.Scan() {
		return append([]byte(nil), s.sc.Bytes()...), nil
	}
	if err := s.sc.Err(); err != nil {
		return nil, err
	}
	return nil, errors.New("stream closed by the server")
}

func (s *httpStream) Close() error { return s.body.Close() }

// ReportHealth sends a task's container health.
func (c *serverClient) ReportHealth(ctx context.Context, rep agentproto.HealthReport) error {
	req, err := c.signedRequest(ctx, http.MethodPost, agentproto.PathHealth, rep)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("report health: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return apiError(resp)
	}
	return nil
}

// UploadLogs streams body (NDJSON log lines) as the answer to log request
// id, until body ends.
func (c *serverClient) UploadLogs(ctx context.Context, id string, body io.Reader) error {
	u, err := c.presignedURL(ctx, http.MethodPost, agentproto.PathLogs+"?request="+url.QueryEscape(id))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	if err != nil {
		return fmt.Errorf("upload log: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("upload log: %w", err)
	}
	resp.Body.Close()
	return nil
}

// signedRequest builds a SigV4-signed request to a berth agent endpoint.
func (c *serverClient) signedRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(payload)
	if err := v4.NewSigner().SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "ecs", c.region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	return req, nil
}

// presignedURL is a query-signed URL (for bodies streamed after the
// request starts, such as log uploads).
func (c *serverClient) presignedURL(ctx context.Context, method, pathAndQuery string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+pathAndQuery, nil)
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	q := req.URL.Query()
	q.Set("X-Amz-Expires", "60")
	req.URL.RawQuery = q.Encode()
	u, _, err := v4.NewSigner().PresignHTTP(ctx, c.creds, req, "UNSIGNED-PAYLOAD", "ecs", c.region, time.Now())
	if err != nil {
		return "", fmt.Errorf("presign request: %w", err)
	}
	return u, nil
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
