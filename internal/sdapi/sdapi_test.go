package sdapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/sdapi"
	"berth.dev/berth/internal/sigv4"
)

const (
	region  = "us-east-1"
	account = "123456789012"
	keyID   = "AKIDEXAMPLE"
	secret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var namer = arn.Namer{Partition: "aws", Region: region, Account: account}

type sigAuth struct{}

func (sigAuth) Authenticate(r *http.Request, body []byte, signingName string) (string, error) {
	v := sigv4.Verifier{Service: signingName, Region: region, Lookup: func(id string) (string, bool) { return secret, id == keyID }}
	if _, err := v.Verify(r, body, time.Now()); err != nil {
		e, _ := apierr.As(err)
		return "", awsproto.WithStatus(e.Status(), e.Code, e.Message)
	}
	return namer.Root(), nil
}

type proposer struct {
	mu sync.Mutex
	m  *fsm.Machine
	n  uint64
}

func (p *proposer) Apply(_ context.Context, c wire.Command) (any, error) {
	entry, err := wire.Encode(c)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	r := p.m.Apply(p.n, entry)
	return r.Value, r.Err
}

// seq is a deterministic random source.
type seq struct {
	mu sync.Mutex
	n  uint64
}

func (s *seq) Read(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range b {
		s.n = s.n*6364136223846793005 + 1442695040888963407
		b[i] = byte(s.n >> 56)
	}
	return len(b), nil
}

type env struct {
	c     *servicediscovery.Client
	m     *fsm.Machine
	addr  string
	hosts []string
	mu    sync.Mutex
}

func newEnv(t *testing.T) *env {
	t.Helper()
	m := fsm.New(namer, slog.New(slog.DiscardHandler))
	api := sdapi.New(sdapi.Config{Region: region, Account: account, State: m, Proposer: &proposer{m: m}, Rand: &seq{}})
	edge := awsproto.NewEdge(awsproto.Config{Services: []awsproto.Service{api.Service()}, Auth: sigAuth{}})
	e := &env{m: m}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.hosts = append(e.hosts, r.Host)
		e.mu.Unlock()
		edge.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	e.addr = u.Host
	_, port, _ := net.SplitHostPort(u.Host)
	// The SDK sends DiscoverInstances to "data-" + the endpoint's host:
	// the transport dials the test server whatever the host.
	dialer := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, e.addr)
	}}}
	e.c = servicediscovery.New(servicediscovery.Options{Region: region, BaseEndpoint: aws.String("http://berth.localhost:" + port),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""), RetryMaxAttempts: 1, HTTPClient: hc})
	return e
}

var ctx = context.Background()

func apiErr(t *testing.T, err error, code, msgPart string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msgPart) {
		t.Fatalf("want %s containing %q, got %s: %s", code, msgPart, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// must returns v, panicking (failing the test) on err.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (e *env) waitOp(t *testing.T, id *string) *types.Operation {
	t.Helper()
	out := must(e.c.GetOperation(ctx, &servicediscovery.GetOperationInput{OperationId: id}))
	return out.Operation
}

func (e *env) privateNamespace(t *testing.T, name string) string {
	t.Helper()
	out := must(e.c.CreatePrivateDnsNamespace(ctx, &servicediscovery.CreatePrivateDnsNamespaceInput{Name: aws.String(name), Vpc: aws.String("vpc-1"),
		CreatorRequestId: aws.String("req-" + name)}))
	op := e.waitOp(t, out.OperationId)
	if op.Status != types.OperationStatusSuccess {
		t.Fatalf("operation %+v", op)
	}
	return op.Targets["NAMESPACE"]
}

func TestFullFlow(t *testing.T) {
	e := newEnv(t)
	out := must(e.c.CreatePrivateDnsNamespace(ctx, &servicediscovery.CreatePrivateDnsNamespaceInput{Name: aws.String("example.local"),
		Vpc: aws.String("vpc-1"), CreatorRequestId: aws.String("tf-1"),
		Properties: &types.PrivateDnsNamespaceProperties{DnsProperties: &types.PrivateDnsPropertiesMutable{SOA: &types.SOA{TTL: aws.Int64(30)}}}}))
	op := e.waitOp(t, out.OperationId)
	if op.Status != types.OperationStatusSuccess || op.Type != types.OperationTypeCreateNamespace || !strings.HasPrefix(op.Targets["NAMESPACE"], "ns-") ||
		len(*op.Id) != 41 || op.CreateDate == nil {
		t.Fatalf("operation %+v", op)
	}
	nsID := op.Targets["NAMESPACE"]
	ns := must(e.c.GetNamespace(ctx, &servicediscovery.GetNamespaceInput{Id: &nsID})).Namespace
	if *ns.Name != "example.local" || ns.Type != types.NamespaceTypeDnsPrivate || *ns.Properties.DnsProperties.SOA.TTL != 30 ||
		*ns.Properties.HttpProperties.HttpName != "example.local" || *ns.Arn != "arn:aws:servicediscovery:us-east-1:123456789012:namespace/"+nsID ||
		ns.Properties.DnsProperties.HostedZoneId == nil {
		t.Fatalf("namespace %+v", ns)
	}
	// An idempotent retry names the same namespace.
	again := must(e.c.CreatePrivateDnsNamespace(ctx, &servicediscovery.CreatePrivateDnsNamespaceInput{Name: aws.String("example.local"),
		Vpc: aws.String("vpc-1"), CreatorRequestId: aws.String("tf-1")}))
	if op2 := e.waitOp(t, again.OperationId); op2.Targets["NAMESPACE"] != nsID || op2.Status != types.OperationStatusSuccess {
		t.Fatalf("retry %+v", op2)
	}
	// Another request for the same name fails its operation, as Route 53
	// refuses the zone.
	dup := must(e.c.CreatePrivateDnsNamespace(ctx, &servicediscovery.CreatePrivateDnsNamespaceInput{Name: aws.String("example.local"),
		Vpc: aws.String("vpc-1"), CreatorRequestId: aws.String("other")}))
	if op3 := e.waitOp(t, dup.OperationId); op3.Status != types.OperationStatusFail || *op3.ErrorCode != "CANNOT_CREATE_HOSTED_ZONE" ||
		!strings.Contains(*op3.ErrorMessage, "ConflictingDomainExists") {
		t.Fatalf("duplicate %+v", op3)
	}

	svc := must(e.c.CreateService(ctx, &servicediscovery.CreateServiceInput{Name: aws.String("web"), NamespaceId: &nsID,
		CreatorRequestId: aws.String("svc-1"),
		DnsConfig: &types.DnsConfig{RoutingPolicy: types.RoutingPolicyMultivalue, DnsRecords: []types.DnsRecord{
			{Type: types.RecordTypeA, TTL: aws.Int64(10)}, {Type: types.RecordTypeSrv, TTL: aws.Int64(10)}}},
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{FailureThreshold: aws.Int32(1)}})).Service
	if !strings.HasPrefix(*svc.Id, "srv-") || len(*svc.Id) != 20 || svc.Type != types.ServiceTypeDnsHttp || *svc.InstanceCount != 0 {
		t.Fatalf("service %+v", svc)
	}
	// Idempotent create.
	svc2 := must(e.c.CreateService(ctx, &servicediscovery.CreateServiceInput{Name: aws.String("web"), NamespaceId: &nsID, CreatorRequestId: aws.String("svc-1"),
		DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(10)}}}})).Service
	if *svc2.Id != *svc.Id {
		t.Fatalf("retry made %s", *svc2.Id)
	}
	_, err := e.c.CreateService(ctx, &servicediscovery.CreateServiceInput{Name: aws.String("web"), NamespaceId: &nsID,
		DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(10)}}}})
	apiErr(t, err, "ServiceAlreadyExists", "web")
	var sae *types.ServiceAlreadyExists
	if !errors.As(err, &sae) || sae.ServiceId == nil || *sae.ServiceId != *svc.Id || *sae.CreatorRequestId != "svc-1" {
		t.Fatalf("members of %v", err)
	}

	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		attrs := map[string]string{"AWS_INSTANCE_IPV4": ip, "AWS_INSTANCE_PORT": "8080", "color": []string{"blue", "green", "blue"}[i]}
		reg := must(e.c.RegisterInstance(ctx, &servicediscovery.RegisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-" + ip[len(ip)-1:]), Attributes: attrs}))
		if o := e.waitOp(t, reg.OperationId); o.Type != types.OperationTypeRegisterInstance || o.Targets["INSTANCE"] == "" || o.Targets["SERVICE"] != *svc.Id {
			t.Fatalf("register %+v", o)
		}
	}
	list := must(e.c.ListInstances(ctx, &servicediscovery.ListInstancesInput{ServiceId: svc.Id, MaxResults: aws.Int32(2)}))
	if len(list.Instances) != 2 || list.NextToken == nil {
		t.Fatalf("page 1 %+v", list)
	}
	list2 := must(e.c.ListInstances(ctx, &servicediscovery.ListInstancesInput{ServiceId: svc.Id, NextToken: list.NextToken}))
	if len(list2.Instances) != 1 || *list2.Instances[0].Id != "i-3" || list2.NextToken != nil {
		t.Fatalf("page 2 %+v", list2)
	}
	hs := must(e.c.GetInstancesHealthStatus(ctx, &servicediscovery.GetInstancesHealthStatusInput{ServiceId: svc.Id}))
	if len(hs.Status) != 3 || hs.Status["i-1"] != types.HealthStatusHealthy {
		t.Fatalf("health %+v", hs.Status)
	}
	must(e.c.UpdateInstanceCustomHealthStatus(ctx, &servicediscovery.UpdateInstanceCustomHealthStatusInput{ServiceId: svc.Id, InstanceId: aws.String("i-2"),
		Status: types.CustomHealthStatusUnhealthy}))
	hs = must(e.c.GetInstancesHealthStatus(ctx, &servicediscovery.GetInstancesHealthStatusInput{ServiceId: svc.Id, Instances: []string{"i-2"}}))
	if len(hs.Status) != 1 || hs.Status["i-2"] != types.HealthStatusUnhealthy {
		t.Fatalf("health %+v", hs.Status)
	}

	ids := func(out *servicediscovery.DiscoverInstancesOutput) string {
		var s []string
		for _, i := range out.Instances {
			s = append(s, *i.InstanceId)
		}
		sort.Strings(s)
		return strings.Join(s, ",")
	}
	d := must(e.c.DiscoverInstances(ctx, &servicediscovery.DiscoverInstancesInput{NamespaceName: aws.String("example.local"), ServiceName: aws.String("web")}))
	if ids(d) != "i-1,i-3" || *d.InstancesRevision != 3 || d.Instances[0].HealthStatus != types.HealthStatusHealthy {
		t.Fatalf("discover healthy: %s rev %d", ids(d), *d.InstancesRevision)
	}
	d = must(e.c.DiscoverInstances(ctx, &servicediscovery.DiscoverInstancesInput{NamespaceName: aws.String("example.local"), ServiceName: aws.String("web"),
		HealthStatus: types.HealthStatusFilterAll, QueryParameters: map[string]string{"color": "blue"}}))
	if ids(d) != "i-1,i-3" {
		t.Fatalf("discover blue: %s", ids(d))
	}
	d = must(e.c.DiscoverInstances(ctx, &servicediscovery.DiscoverInstancesInput{NamespaceName: aws.String("example.local"), ServiceName: aws.String("web"),
		HealthStatus: types.HealthStatusFilterUnhealthy}))
	if ids(d) != "i-2" {
		t.Fatalf("discover unhealthy: %s", ids(d))
	}
	d = must(e.c.DiscoverInstances(ctx, &servicediscovery.DiscoverInstancesInput{NamespaceName: aws.String("example.local"), ServiceName: aws.String("web"),
		HealthStatus: types.HealthStatusFilterAll, OptionalParameters: map[string]string{"color": "green"}}))
	if ids(d) != "i-2" {
		t.Fatalf("discover optional: %s", ids(d))
	}
	d = must(e.c.DiscoverInstances(ctx, &servicediscovery.DiscoverInstancesInput{NamespaceName: aws.String("example.local"), ServiceName: aws.String("web"),
		HealthStatus: types.HealthStatusFilterAll, OptionalParameters: map[string]string{"color": "red"}}))
	if ids(d) != "i-1,i-2,i-3" {
		t.Fatalf("discover optional fallback: %s", ids(d))
	}
	rev := must(e.c.DiscoverInstancesRevision(ctx, &servicediscovery.DiscoverInstancesRevisionInput{NamespaceName: aws.String("example.local"), ServiceName: aws.String("web")}))
	if *rev.InstancesRevision != 3 {
		t.Fatalf("revision %d", *rev.InstancesRevision)
	}
	sawData := false
	e.mu.Lock()
	for _, h := range e.hosts {
		if strings.HasPrefix(h, "data-berth.localhost:") {
			sawData = true
		}
	}
	e.mu.Unlock()
	if !sawData {
		t.Fatal("DiscoverInstances did not go to the data- host")
	}

	_, err = e.c.DeleteNamespace(ctx, &servicediscovery.DeleteNamespaceInput{Id: &nsID})
	apiErr(t, err, "ResourceInUse", "contains services")
	_, err = e.c.DeleteService(ctx, &servicediscovery.DeleteServiceInput{Id: svc.Id})
	apiErr(t, err, "ResourceInUse", "instances")
	for _, id := range []string{"i-1", "i-2", "i-3"} {
		dr := must(e.c.DeregisterInstance(ctx, &servicediscovery.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String(id)}))
		if o := e.waitOp(t, dr.OperationId); o.Type != types.OperationTypeDeregisterInstance {
			t.Fatalf("deregister %+v", o)
		}
	}
	_, err = e.c.DeregisterInstance(ctx, &servicediscovery.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
	apiErr(t, err, "InstanceNotFound", "i-1")
	must(e.c.DeleteService(ctx, &servicediscovery.DeleteServiceInput{Id: svc.Id}))
	del := must(e.c.DeleteNamespace(ctx, &servicediscovery.DeleteNamespaceInput{Id: &nsID}))
	if o := e.waitOp(t, del.OperationId); o.Type != types.OperationTypeDeleteNamespace || o.Status != types.OperationStatusSuccess {
		t.Fatalf("delete %+v", o)
	}
	_, err = e.c.GetNamespace(ctx, &servicediscovery.GetNamespaceInput{Id: &nsID})
	apiErr(t, err, "NamespaceNotFound", nsID)
	ops := must(e.c.ListOperations(ctx, &servicediscovery.ListOperationsInput{Filters: []types.OperationFilter{
		{Name: types.OperationFilterNameType, Condition: types.FilterConditionIn, Values: []string{"REGISTER_INSTANCE", "DEREGISTER_INSTANCE"}}}}))
	if len(ops.Operations) != 6 {
		t.Fatalf("operations %d", len(ops.Operations))
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	nsID := e.privateNamespace(t, "bad.local")
	httpOut := must(e.c.CreateHttpNamespace(ctx, &servicediscovery.CreateHttpNamespaceInput{Name: aws.String("apps")}))
	httpID := e.waitOp(t, httpOut.OperationId).Targets["NAMESPACE"]
	a := []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(10)}}
	cases := []struct {
		name string
		call func() error
		code string
		msg  string
	}{
		{"public namespace", func() error {
			_, err := e.c.CreatePublicDnsNamespace(ctx, &servicediscovery.CreatePublicDnsNamespaceInput{Name: aws.String("example.com")})
			return err
		}, "InvalidInput", "Public DNS namespaces are not supported"},
		{"update public namespace", func() error {
			_, err := e.c.UpdatePublicDnsNamespace(ctx, &servicediscovery.UpdatePublicDnsNamespaceInput{Id: &nsID, Namespace: &types.PublicDnsNamespaceChange{Description: aws.String("x")}})
			return err
		}, "InvalidInput", "Public DNS namespaces are not supported"},
		{"arn namespace name", func() error {
			_, err := e.c.CreateHttpNamespace(ctx, &servicediscovery.CreateHttpNamespaceInput{Name: aws.String("arn:aws:x")})
			return err
		}, "InvalidInput", "Member must satisfy regular expression pattern: ^(?!arn:)[!-~]{1,1024}$"},
		{"space in namespace name", func() error {
			_, err := e.c.CreatePrivateDnsNamespace(ctx, &servicediscovery.CreatePrivateDnsNamespaceInput{Name: aws.String("a b"), Vpc: aws.String("vpc-1")})
			return err
		}, "InvalidInput", "at 'name' failed to satisfy constraint"},
		{"long private name", func() error {
			_, err := e.c.CreatePrivateDnsNamespace(ctx, &servicediscovery.CreatePrivateDnsNamespaceInput{Name: aws.String(strings.Repeat("a", 254)), Vpc: aws.String("vpc-1")})
			return err
		}, "InvalidInput", "Member must have length between 1 and 253"},
		{"http namespace taken", func() error {
			_, err := e.c.CreateHttpNamespace(ctx, &servicediscovery.CreateHttpNamespaceInput{Name: aws.String("apps")})
			return err
		}, "NamespaceAlreadyExists", "Namespace apps already exists."},
		{"negative SOA TTL", func() error {
			_, err := e.c.CreatePrivateDnsNamespace(ctx, &servicediscovery.CreatePrivateDnsNamespaceInput{Name: aws.String("x.local"), Vpc: aws.String("vpc-1"),
				Properties: &types.PrivateDnsNamespaceProperties{DnsProperties: &types.PrivateDnsPropertiesMutable{SOA: &types.SOA{TTL: aws.Int64(-1)}}}})
			return err
		}, "InvalidInput", "Member must have value between 0 and 2147483647"},
		{"unknown namespace", func() error {
			_, err := e.c.GetNamespace(ctx, &servicediscovery.GetNamespaceInput{Id: aws.String("ns-doesnotexist0000")})
			return err
		}, "NamespaceNotFound", "ns-doesnotexist0000"},
		{"long namespace id", func() error {
			_, err := e.c.GetNamespace(ctx, &servicediscovery.GetNamespaceInput{Id: aws.String(strings.Repeat("n", 65))})
			return err
		}, "InvalidInput", "Member must have length less than or equal to 64"},
		{"bad service name", func() error {
			_, err := e.c.CreateService(ctx, &servicediscovery.CreateServiceInput{Name: aws.String("-web"), NamespaceId: &nsID, DnsConfig: &types.DnsConfig{DnsRecords: a}})
			return err
		}, "InvalidInput", "at 'name' failed to satisfy constraint"},
		{"service in unknown namespace", func() error {
			_, err := e.c.CreateService(ctx, &servicediscovery.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String("ns-nope"), DnsConfig: &types.DnsConfig{DnsRecords: a}})
			return err
		}, "NamespaceNotFound", "ns-nope"},
		{"route 53 health check", func() error {
			_, err := e.c.CreateService(ctx, &servicediscovery.CreateServiceInput{Name: aws.String("web"), NamespaceId: &nsID, DnsConfig: &types.DnsConfig{DnsRecords: a},
				HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp}})
			return err
		}, "InvalidInput", "HealthCheckConfig (Route 53 health checks) is supported only for services in public DNS namespaces"},
		{"dns config in http namespace", func() error {
			_, err := e.c.CreateService(ctx, &servicediscovery.CreateServiceInput{Name: aws.String("web"), NamespaceId: &httpID, DnsConfig: &types.DnsConfig{DnsRecords: a}})
			return err
		}, "InvalidInput", "HTTP namespace"},
		{"cname multivalue", func() error {
			_, err := e.c.CreateService(ctx, &servicediscovery.CreateServiceInput{Name: aws.String("web"), NamespaceId: &nsID,
				DnsConfig: &types.DnsConfig{RoutingPolicy: types.RoutingPolicyMultivalue, DnsRecords: []types.DnsRecord{{Type: types.RecordTypeCname, TTL: aws.Int64(1)}}}})
			return err
		}, "InvalidInput", "CNAME records require the WEIGHTED routing policy"},
		{"unknown service", func() error {
			_, err := e.c.GetService(ctx, &servicediscovery.GetServiceInput{Id: aws.String("srv-nope")})
			return err
		}, "ServiceNotFound", "srv-nope"},
		{"unknown operation", func() error {
			_, err := e.c.GetOperation(ctx, &servicediscovery.GetOperationInput{OperationId: aws.String("nope")})
			return err
		}, "OperationNotFound", "nope"},
		{"list max results", func() error {
			_, err := e.c.ListNamespaces(ctx, &servicediscovery.ListNamespacesInput{MaxResults: aws.Int32(101)})
			return err
		}, "InvalidInput", "Member must have value between 1 and 100"},
		{"bad next token", func() error {
			_, err := e.c.ListNamespaces(ctx, &servicediscovery.ListNamespacesInput{NextToken: aws.String("!!!")})
			return err
		}, "InvalidInput", "NextToken"},
		{"bad filter condition", func() error {
			_, err := e.c.ListServices(ctx, &servicediscovery.ListServicesInput{Filters: []types.ServiceFilter{{Name: types.ServiceFilterNameNamespaceId,
				Condition: types.FilterConditionBetween, Values: []string{"a", "b"}}}})
			return err
		}, "InvalidInput", "BETWEEN"},
		{"untagged resource", func() error {
			_, err := e.c.ListTagsForResource(ctx, &servicediscovery.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:servicediscovery:us-east-1:123456789012:service/srv-x")})
			return err
		}, "ResourceNotFoundException", "srv-x"},
		{"discover unknown namespace", func() error {
			_, err := e.c.DiscoverInstances(ctx, &servicediscovery.DiscoverInstancesInput{NamespaceName: aws.String("nope"), ServiceName: aws.String("web")})
			return err
		}, "NamespaceNotFound", "nope"},
		{"discover max results", func() error {
			_, err := e.c.DiscoverInstances(ctx, &servicediscovery.DiscoverInstancesInput{NamespaceName: aws.String("apps"), ServiceName: aws.String("web"), MaxResults: aws.Int32(1001)})
			return err
		}, "ServiceNotFound", "web"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { apiErr(t, c.call(), c.code, c.msg) })
	}

	_, err := e.c.CreateHttpNamespace(ctx, &servicediscovery.CreateHttpNamespaceInput{Name: aws.String("apps")})
	var nae *types.NamespaceAlreadyExists
	if !errors.As(err, &nae) || nae.NamespaceId == nil || *nae.NamespaceId != httpID {
		t.Fatalf("members of %v", err)
	}
	svc := must(e.c.CreateService(ctx, &servicediscovery.CreateServiceInput{Name: aws.String("web"), NamespaceId: &nsID, DnsConfig: &types.DnsConfig{DnsRecords: a}})).Service
	instCases := []struct {
		name  string
		id    string
		attrs map[string]string
		code  string
		msg   string
	}{
		{"bad instance id", "a b", map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}, "InvalidInput", "^[0-9a-zA-Z_/:.@-]+$"},
		{"long instance id", strings.Repeat("i", 65), map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}, "InvalidInput", "less than or equal to 64"},
		{"missing ipv4", "i-1", map[string]string{"x": "y"}, "InvalidInput", "AWS_INSTANCE_IPV4"},
		{"bad init health", "i-1", map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INIT_HEALTH_STATUS": "MAYBE"}, "InvalidInput", "AWS_INIT_HEALTH_STATUS must be HEALTHY or UNHEALTHY."},
	}
	for _, c := range instCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.c.RegisterInstance(ctx, &servicediscovery.RegisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String(c.id), Attributes: c.attrs})
			apiErr(t, err, c.code, c.msg)
		})
	}
	many := map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}
	for i := 0; i < 31; i++ {
		many["k"+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	_, err = e.c.RegisterInstance(ctx, &servicediscovery.RegisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1"), Attributes: many})
	apiErr(t, err, "InvalidInput", "at most 30")
	must(e.c.RegisterInstance(ctx, &servicediscovery.RegisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1"), Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}}))
	_, err = e.c.UpdateInstanceCustomHealthStatus(ctx, &servicediscovery.UpdateInstanceCustomHealthStatusInput{ServiceId: svc.Id, InstanceId: aws.String("i-1"), Status: types.CustomHealthStatusHealthy})
	apiErr(t, err, "CustomHealthNotFound", *svc.Id)
	_, err = e.c.GetInstance(ctx, &servicediscovery.GetInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-9")})
	apiErr(t, err, "InstanceNotFound", "i-9")
	// Without a health check every instance is UNKNOWN and returned.
	d := must(e.c.DiscoverInstances(ctx, &servicediscovery.DiscoverInstancesInput{NamespaceName: aws.String("bad.local"), ServiceName: aws.String("web"),
		HealthStatus: types.HealthStatusFilterUnhealthy}))
	if len(d.Instances) != 1 || d.Instances[0].HealthStatus != types.HealthStatusUnknown {
		t.Fatalf("discover %+v", d.Instances)
	}
}

func TestTagsAndAttributes(t *testing.T) {
	e := newEnv(t)
	nsID := e.privateNamespace(t, "tags.local")
	ns := must(e.c.GetNamespace(ctx, &servicediscovery.GetNamespaceInput{Id: &nsID})).Namespace
	must(e.c.TagResource(ctx, &servicediscovery.TagResourceInput{ResourceARN: ns.Arn, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}}))
	var tags []types.Tag
	for i := 0; i < 50; i++ {
		tags = append(tags, types.Tag{Key: aws.String("k" + string(rune('A'+i%26)) + string(rune('A'+i/26))), Value: aws.String("v")})
	}
	_, err := e.c.TagResource(ctx, &servicediscovery.TagResourceInput{ResourceARN: ns.Arn, Tags: tags})
	apiErr(t, err, "TooManyTagsException", *ns.Arn)
	var tm *types.TooManyTagsException
	if !errors.As(err, &tm) || tm.ResourceName == nil || *tm.ResourceName != *ns.Arn {
		t.Fatalf("ResourceName of %v", err)
	}
	must(e.c.UntagResource(ctx, &servicediscovery.UntagResourceInput{ResourceARN: ns.Arn, TagKeys: []string{"zzz"}}))
	lt := must(e.c.ListTagsForResource(ctx, &servicediscovery.ListTagsForResourceInput{ResourceARN: ns.Arn}))
	if len(lt.Tags) != 1 || *lt.Tags[0].Key != "a" {
		t.Fatalf("tags %+v", lt.Tags)
	}
	svc := must(e.c.CreateService(ctx, &servicediscovery.CreateServiceInput{Name: aws.String("api"), NamespaceId: &nsID, Type: types.ServiceTypeOptionHttp})).Service
	if svc.Type != types.ServiceTypeHttp {
		t.Fatalf("type %s", svc.Type)
	}
	must(e.c.UpdateServiceAttributes(ctx, &servicediscovery.UpdateServiceAttributesInput{ServiceId: svc.Id, Attributes: map[string]string{"a": "1", "b": "2"}}))
	must(e.c.DeleteServiceAttributes(ctx, &servicediscovery.DeleteServiceAttributesInput{ServiceId: svc.Id, Attributes: []string{"a"}}))
	ga := must(e.c.GetServiceAttributes(ctx, &servicediscovery.GetServiceAttributesInput{ServiceId: svc.Id}))
	if len(ga.ServiceAttributes.Attributes) != 1 || ga.ServiceAttributes.Attributes["b"] != "2" {
		t.Fatalf("attributes %+v", ga.ServiceAttributes)
	}
	ls := must(e.c.ListServices(ctx, &servicediscovery.ListServicesInput{Filters: []types.ServiceFilter{{Name: types.ServiceFilterNameNamespaceId, Values: []string{nsID}}}}))
	if len(ls.Services) != 1 {
		t.Fatalf("services %+v", ls.Services)
	}
	ln := must(e.c.ListNamespaces(ctx, &servicediscovery.ListNamespacesInput{Filters: []types.NamespaceFilter{{Name: types.NamespaceFilterNameType, Values: []string{"HTTP"}}}}))
	if len(ln.Namespaces) != 0 {
		t.Fatalf("namespaces %+v", ln.Namespaces)
	}
	up := must(e.c.UpdatePrivateDnsNamespace(ctx, &servicediscovery.UpdatePrivateDnsNamespaceInput{Id: &nsID, Namespace: &types.PrivateDnsNamespaceChange{Description: aws.String("d")}}))
	if o := e.waitOp(t, up.OperationId); o.Type != types.OperationTypeUpdateNamespace {
		t.Fatalf("update %+v", o)
	}
	us := must(e.c.UpdateService(ctx, &servicediscovery.UpdateServiceInput{Id: svc.Id, Service: &types.ServiceChange{Description: aws.String("d")}}))
	if o := e.waitOp(t, us.OperationId); o.Type != types.OperationTypeUpdateService || o.Targets["SERVICE"] != *svc.Id {
		t.Fatalf("update service %+v", o)
	}
}

// The edge routes by X-Amz-Target whatever the Host header says.
func TestAnyHost(t *testing.T) {
	e := newEnv(t)
	e.privateNamespace(t, "host.local")
	for _, host := range []string{"data-servicediscovery.us-east-1.amazonaws.com", "example.invalid", "10.1.2.3:9"} {
		c := servicediscovery.New(servicediscovery.Options{Region: region, BaseEndpoint: aws.String("http://" + host),
			Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""), RetryMaxAttempts: 1,
			HTTPClient: &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, e.addr)
			}}}})
		out, err := c.ListNamespaces(ctx, &servicediscovery.ListNamespacesInput{})
		if err != nil || len(out.Namespaces) != 1 {
			t.Fatalf("%s: %v %+v", host, err, out)
		}
	}
	_ = bytes.MinRead
}
