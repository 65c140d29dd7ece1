package sdapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// noHostPrefix is the per-operation option the README gives for
// aws-sdk-go-v2: DiscoverInstances then goes to the endpoint's own host
// instead of "data-" + it.
func noHostPrefix(o *servicediscovery.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("noHostPrefix",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
	})
}

func TestDiscoverInstances_HostPrefixDisabled(t *testing.T) {
	e := newEnv(t)
	must(e.c.CreateHttpNamespace(ctx, &servicediscovery.CreateHttpNamespaceInput{Name: aws.String("plain")}))
	_, err := e.c.DiscoverInstances(ctx, &servicediscovery.DiscoverInstancesInput{NamespaceName: aws.String("plain"),
		ServiceName: aws.String("none"), HealthStatus: types.HealthStatusFilterAll}, noHostPrefix)
	apiErr(t, err, "ServiceNotFound", "none")
	e.mu.Lock()
	defer e.mu.Unlock()
	last := e.hosts[len(e.hosts)-1]
	if !strings.HasPrefix(last, "berth.localhost:") {
		t.Fatalf("DiscoverInstances with the host prefix disabled went to %s", last)
	}
	// Without the option it goes to the data- host.
	e.mu.Unlock()
	_, err = e.c.DiscoverInstances(ctx, &servicediscovery.DiscoverInstancesInput{NamespaceName: aws.String("plain"), ServiceName: aws.String("none")})
	apiErr(t, err, "ServiceNotFound", "none")
	e.mu.Lock()
	if last := e.hosts[len(e.hosts)-1]; !strings.HasPrefix(last, "data-berth.localhost:") {
		t.Fatalf("DiscoverInstances went to %s", last)
	}
}
