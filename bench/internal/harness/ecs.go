package harness

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go/logging"

	"berth.dev/berth/internal/sdkhttp"
)

// NewClient returns an ECS client of s that signs with SigV4 and makes one
// attempt per call, so errors are counted, never hidden by a retry. conns
// is the size of its connection pool (0: the SDK's default). It sends
// through internal/sdkhttp, which avoids the SDK/net-http race that fails a
// call now and then with "use of closed network connection"
// (aws/aws-sdk-go-v2#2737).
func NewClient(ctx context.Context, s *Server, conns int) (*ecs.Client, error) {
	httpc := awshttp.NewBuildableClient()
	if s.NS != nil {
		dial := s.NS.Dialer()
		httpc = httpc.WithTransportOptions(func(tr *http.Transport) { tr.DialContext = dial })
	}
	if conns > 0 {
		httpc = httpc.WithTransportOptions(func(tr *http.Transport) {
			tr.MaxIdleConnsPerHost = conns
		}).WithTimeout(60 * time.Second)
	}
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(s.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, "")),
		config.WithRetryer(func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }),
		// The SDK's own warnings would interleave with the progress lines;
		// the errors are counted.
		config.WithLogger(logging.Nop{}),
	)
	if err != nil {
		return nil, err
	}
	return ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		o.BaseEndpoint = aws.String(s.Endpoint)
		// Set on the client, not in the configuration: the configuration
		// adds AWS_CA_BUNDLE's roots to its HTTP client, which only the
		// SDK's own client supports (the server is plain HTTP anyway).
		o.HTTPClient = sdkhttp.Wrap(httpc)
	}), nil
}

// WaitInstance waits until cluster has an ACTIVE container instance whose
// agent is connected, and returns it. a, when not nil, is the agent that is
// to register: its exit ends the wait.
func WaitInstance(ctx context.Context, c *ecs.Client, cluster string, a *Agent, timeout time.Duration) (types.ContainerInstance, error) {
	deadline := time.Now().Add(timeout)
	for {
		if a != nil && !a.Running() {
			return types.ContainerInstance{}, fmt.Errorf("%s exited (%v):\n%s", a.Name, a.Err, a.LogTail(4096))
		}
		list, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cluster)})
		if err == nil && len(list.ContainerInstanceArns) > 0 {
			out, err := c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{
				Cluster: aws.String(cluster), ContainerInstances: list.ContainerInstanceArns})
			if err == nil {
				for _, ci := range out.ContainerInstances {
					if ci.AgentConnected && aws.ToString(ci.Status) == "ACTIVE" {
						return ci, nil
					}
				}
			}
		}
		if time.Now().After(deadline) {
			return types.ContainerInstance{}, fmt.Errorf("no connected container instance in cluster %s after %s", cluster, timeout)
		}
		select {
		case <-ctx.Done():
			return types.ContainerInstance{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Resource is the integer value of the instance's resource name (CPU,
// MEMORY), registered or remaining; -1 when it has none.
func Resource(ci types.ContainerInstance, name string, registered bool) int32 {
	rs := ci.RemainingResources
	if registered {
		rs = ci.RegisteredResources
	}
	for _, r := range rs {
		if aws.ToString(r.Name) == name {
			return r.IntegerValue
		}
	}
	return -1
}
