package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"berth.dev/berth/internal/sdkhttp"
)

// The server serves CloudWatch Logs from DATA-DIR/logs, and its events
// outlive a restart.
func TestLogsServedAndKept(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, "us-east-1", "123456789012")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := func(s *Server) *cwl.Client {
		creds := credentials.NewStaticCredentialsProvider(cfg.Getenv(EnvRootAccessKeyID), cfg.Getenv(EnvRootSecretAccessKey), "")
		return cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint()), Credentials: creds, HTTPClient: sdkhttp.New()})
	}
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := client(s)
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/ecs/app")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("/ecs/app"), LogStreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("/ecs/app"), LogStreamName: aws.String("s"),
		LogEvents: []types.InputLogEvent{{Message: aws.String("hello"), Timestamp: aws.Int64(time.Now().UnixMilli())}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "logs", "meta.json")); err != nil {
		t.Fatal(err)
	}
	s, err = Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := client(s).GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("/ecs/app"), LogStreamName: aws.String("s")})
	if err != nil || len(out.Events) != 1 || *out.Events[0].Message != "hello" {
		t.Fatalf("after restart: %v %+v", err, out)
	}
}
