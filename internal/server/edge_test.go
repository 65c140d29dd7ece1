package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// A request for an AWS service berth does not serve gets an error in that
// service's own protocol that says so: a signed CloudWatch Query request
// (XML) and a signed Kinesis request (JSON 1.1) each get
// an error they parse, never a signature or parse error; ECS still works.
func TestUnservedServicesAnswerInTheirProtocol(t *testing.T) {
	cfg := testConfig(t.TempDir(), "us-east-1", "123456789012")
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	creds := credentials.NewStaticCredentialsProvider(cfg.Getenv(EnvRootAccessKeyID), cfg.Getenv(EnvRootSecretAccessKey), "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// CloudWatch's legacy Query protocol (signing name monitoring).
	form := []byte("Action=ListMetrics&Version=2010-08-01")
	qreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint()+"/", bytes.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	qreq.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	qsum := sha256.Sum256(form)
	qc, _ := creds.Retrieve(ctx)
	if err := v4.NewSigner().SignHTTP(ctx, qc, qreq, hex.EncodeToString(qsum[:]), "monitoring", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	qresp, err := http.DefaultClient.Do(qreq)
	if err != nil {
		t.Fatal(err)
	}
	qbody, _ := io.ReadAll(qresp.Body)
	qresp.Body.Close()
	if qresp.StatusCode != http.StatusBadRequest || !strings.Contains(string(qbody), "<Code>InvalidAction</Code>") ||
		!strings.Contains(string(qbody), "berth does not serve the monitoring API yet (ListMetrics)") {
		t.Fatalf("CloudWatch ListMetrics: got %d %s, want InvalidAction saying berth does not serve monitoring", qresp.StatusCode, qbody)
	}

	body := []byte(`{"StreamName":"events"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint()+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.DescribeStream")
	sum := sha256.Sum256(body)
	c, _ := creds.Retrieve(ctx)
	if err := v4.NewSigner().SignHTTP(ctx, c, req, hex.EncodeToString(sum[:]), "kinesis", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" ||
		out.Type != "UnknownOperationException" || !strings.Contains(out.Message, "berth does not serve the kinesis API yet (Kinesis_20131202.DescribeStream)") {
		t.Fatalf("Kinesis: got %d %s %+v", resp.StatusCode, resp.Header.Get("Content-Type"), out)
	}

	ecsClient := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint()), Credentials: creds})
	if _, err := ecsClient.ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("ECS after the refusals: %v", err)
	}
}
