package harness

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go/logging"

	"berth.dev/berth/internal/sdkhttp"
)

// NewELBClient returns an ELBv2 client of s, signed with SigV4, one attempt
// per call (as NewClient's ECS client).
func NewELBClient(ctx context.Context, s *Server) (*elb.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(s.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }),
		config.WithLogger(logging.Nop{}),
	)
	if err != nil {
		return nil, err
	}
	return elb.NewFromConfig(cfg, func(o *elb.Options) {
		o.BaseEndpoint = aws.String(s.Endpoint)
		o.HTTPClient = sdkhttp.Wrap(awshttp.NewBuildableClient())
	}), nil
}
