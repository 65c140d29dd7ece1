package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
)

func TestReadManifest_ServiceDiscovery(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "m.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const head = "service: api\ndesiredCount: 2\n"
	const bridge = "taskDefinition:\n  networkMode: bridge\n  containerDefinitions:\n" +
		"    - {name: side, image: busybox, memory: 32}\n" +
		"    - {name: app, image: demo, memory: 64, portMappings: [{containerPort: 8080}, {containerPort: 9090}]}\n"
	const awsvpc = "taskDefinition:\n  networkMode: awsvpc\n  containerDefinitions:\n" +
		"    - {name: app, image: demo, memory: 64, portMappings: [{containerPort: 8080}]}\n"

	// awsvpc: A records, no container; the ECS service's name; TTL 10,
	// MULTIVALUE, custom health.
	m, _, err := readManifest(write(head + awsvpc + "serviceDiscovery: {namespace: app.internal}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := m.ServiceDiscovery
	if s.Service != "api" || strings.Join(s.RecordTypes, ",") != "A" || aws.ToInt64(s.TTL) != 10 || s.RoutingPolicy != "MULTIVALUE" ||
		!aws.ToBool(s.CustomHealth) || s.srv || s.ContainerName != "" || s.ContainerPort != nil {
		t.Errorf("awsvpc defaults: %+v", s)
	}
	if m.network == nil || m.network.AwsvpcConfiguration == nil || strings.Join(m.network.AwsvpcConfiguration.Subnets, ",") != "subnet-berth" {
		t.Errorf("awsvpc: the default network configuration: %+v", m.network)
	}
	// bridge: SRV at the first container with a port mapping, its first port.
	m, _, err = readManifest(write(head + bridge + "serviceDiscovery: {namespace: app.internal}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := m.ServiceDiscovery; strings.Join(s.RecordTypes, ",") != "SRV" || !s.srv || s.ContainerName != "app" || aws.ToInt32(s.ContainerPort) != 8080 {
		t.Errorf("bridge defaults: %+v", s)
	}
	// Everything given.
	m, _, err = readManifest(write(head + awsvpc + `serviceDiscovery:
  namespace: app.internal
  service: backend
  recordTypes: [a, SRV]
  ttl: 60
  routingPolicy: WEIGHTED
  customHealth: false
  containerName: app
  containerPort: 8080
`))
	if err != nil {
		t.Fatal(err)
	}
	if s := m.ServiceDiscovery; s.Service != "backend" || strings.Join(s.RecordTypes, ",") != "A,SRV" || aws.ToInt64(s.TTL) != 60 ||
		s.RoutingPolicy != "WEIGHTED" || aws.ToBool(s.CustomHealth) || !s.srv || s.ContainerName != "app" || aws.ToInt32(s.ContainerPort) != 8080 {
		t.Errorf("given: %+v", s)
	}

	for _, c := range []struct{ td, sd, want string }{
		{awsvpc, "{}", "serviceDiscovery.namespace is required"},
		{awsvpc, "{namespace: app.internal, nmespace: x}", "serviceDiscovery.nmespace: unknown member"},
		{awsvpc, "{namespace: .app.internal}", `serviceDiscovery.namespace: ".app.internal" is not a DNS name`},
		{awsvpc, "{namespace: " + strings.Repeat("a", 64) + ".internal}", "is longer than 63 characters"},
		{awsvpc, "{namespace: app.internal, service: a.b}", `serviceDiscovery.service: "a.b" is not a DNS label`},
		{awsvpc, "{namespace: app.internal, recordTypes: [CNAME]}", `serviceDiscovery.recordTypes[0]: "CNAME" is not A, AAAA or SRV`},
		{awsvpc, "{namespace: app.internal, recordTypes: [A, a]}", "serviceDiscovery.recordTypes: A is given twice"},
		{bridge, "{namespace: app.internal, recordTypes: [A]}", "tasks in the bridge network mode can only be registered with SRV records"},
		{awsvpc, "{namespace: app.internal, ttl: -1}", "serviceDiscovery.ttl: -1 is not between"},
		{awsvpc, "{namespace: app.internal, routingPolicy: ROUND_ROBIN}", `serviceDiscovery.routingPolicy: "ROUND_ROBIN" is not MULTIVALUE or WEIGHTED`},
		{awsvpc, "{namespace: app.internal, containerPort: 8080}", "containerName and containerPort are for SRV records"},
		{bridge, "{namespace: app.internal, containerName: db}", "serviceDiscovery.containerName: taskDefinition has no container db"},
		{bridge, "{namespace: app.internal, containerName: side}", "serviceDiscovery.containerPort: container side has no port mapping"},
		{bridge, "{namespace: app.internal, containerPort: 80}", "serviceDiscovery.containerPort: container app maps no containerPort 80"},
	} {
		_, _, err := readManifest(write(head + c.td + "serviceDiscovery: " + c.sd + "\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %s", c.sd, err, c.want)
		}
	}
}

// fakeSD is an in-memory Cloud Map with what berth deploy calls; every
// operation completes at once, as on berth, unless pending is set (then
// GetOperation answers PENDING that many times first).
type fakeSD struct {
	namespaces map[string]sdtypes.Namespace // by ID
	services   map[string]sdtypes.Service   // by ID
	ops        map[string]sdtypes.Operation
	pending    int
	calls      []string
	n          int
}

func newFakeSD() *fakeSD {
	return &fakeSD{namespaces: map[string]sdtypes.Namespace{}, services: map[string]sdtypes.Service{}, ops: map[string]sdtypes.Operation{}}
}

func (f *fakeSD) id(prefix string) string { f.n++; return fmt.Sprintf("%s%016d", prefix, f.n) }

func (f *fakeSD) op(typ sdtypes.OperationType, target sdtypes.OperationTargetType, id string) *string {
	opID := f.id("op-")
	f.ops[opID] = sdtypes.Operation{Id: aws.String(opID), Type: typ, Status: sdtypes.OperationStatusSuccess,
		Targets: map[string]string{string(target): id}}
	return aws.String(opID)
}

func (f *fakeSD) ListNamespaces(_ context.Context, in *sd.ListNamespacesInput, _ ...func(*sd.Options)) (*sd.ListNamespacesOutput, error) {
	f.calls = append(f.calls, "ListNamespaces")
	out := &sd.ListNamespacesOutput{}
	for _, ns := range f.namespaces {
		if len(in.Filters) == 1 && in.Filters[0].Name == sdtypes.NamespaceFilterNameName && aws.ToString(ns.Name) != in.Filters[0].Values[0] {
			continue
		}
		out.Namespaces = append(out.Namespaces, sdtypes.NamespaceSummary{Id: ns.Id, Name: ns.Name, Type: ns.Type, Arn: ns.Arn})
	}
	return out, nil
}

func (f *fakeSD) CreatePrivateDnsNamespace(_ context.Context, in *sd.CreatePrivateDnsNamespaceInput, _ ...func(*sd.Options)) (*sd.CreatePrivateDnsNamespaceOutput, error) {
	f.calls = append(f.calls, "CreatePrivateDnsNamespace")
	id := f.id("ns-")
	f.namespaces[id] = sdtypes.Namespace{Id: aws.String(id), Name: in.Name, Type: sdtypes.NamespaceTypeDnsPrivate,
		Arn: aws.String("arn:aws:servicediscovery:us-east-1:0:namespace/" + id)}
	return &sd.CreatePrivateDnsNamespaceOutput{OperationId: f.op(sdtypes.OperationTypeCreateNamespace, sdtypes.OperationTargetTypeNamespace, id)}, nil
}

func (f *fakeSD) GetOperation(_ context.Context, in *sd.GetOperationInput, _ ...func(*sd.Options)) (*sd.GetOperationOutput, error) {
	f.calls = append(f.calls, "GetOperation")
	op, ok := f.ops[aws.ToString(in.OperationId)]
	if !ok {
		return nil, &sdtypes.OperationNotFound{Message: aws.String("no such operation")}
	}
	if f.pending > 0 {
		f.pending--
		op.Status = sdtypes.OperationStatusPending
	}
	return &sd.GetOperationOutput{Operation: &op}, nil
}

func (f *fakeSD) ListServices(_ context.Context, in *sd.ListServicesInput, _ ...func(*sd.Options)) (*sd.ListServicesOutput, error) {
	f.calls = append(f.calls, "ListServices")
	out := &sd.ListServicesOutput{}
	for _, s := range f.services {
		if len(in.Filters) == 1 && aws.ToString(s.NamespaceId) != in.Filters[0].Values[0] {
			continue
		}
		out.Services = append(out.Services, sdtypes.ServiceSummary{Id: s.Id, Name: s.Name, Arn: s.Arn})
	}
	return out, nil
}

func (f *fakeSD) GetService(_ context.Context, in *sd.GetServiceInput, _ ...func(*sd.Options)) (*sd.GetServiceOutput, error) {
	f.calls = append(f.calls, "GetService")
	s, ok := f.services[aws.ToString(in.Id)]
	if !ok {
		return nil, &sdtypes.ServiceNotFound{Message: aws.String("no such service")}
	}
	return &sd.GetServiceOutput{Service: &s}, nil
}

func (f *fakeSD) CreateService(_ context.Context, in *sd.CreateServiceInput, _ ...func(*sd.Options)) (*sd.CreateServiceOutput, error) {
	f.calls = append(f.calls, "CreateService")
	id := f.id("srv-")
	s := sdtypes.Service{Id: aws.String(id), Name: in.Name, NamespaceId: in.NamespaceId, DnsConfig: in.DnsConfig,
		HealthCheckCustomConfig: in.HealthCheckCustomConfig, Arn: aws.String("arn:aws:servicediscovery:us-east-1:0:service/" + id)}
	f.services[id] = s
	return &sd.CreateServiceOutput{Service: &s}, nil
}

func (f *fakeSD) UpdateService(_ context.Context, in *sd.UpdateServiceInput, _ ...func(*sd.Options)) (*sd.UpdateServiceOutput, error) {
	f.calls = append(f.calls, "UpdateService")
	s := f.services[aws.ToString(in.Id)]
	s.DnsConfig = &sdtypes.DnsConfig{RoutingPolicy: s.DnsConfig.RoutingPolicy, DnsRecords: in.Service.DnsConfig.DnsRecords}
	f.services[aws.ToString(in.Id)] = s
	return &sd.UpdateServiceOutput{OperationId: f.op(sdtypes.OperationTypeUpdateService, sdtypes.OperationTargetTypeService, aws.ToString(in.Id))}, nil
}

func TestApplyServiceDiscovery(t *testing.T) {
	ctx := context.Background()
	oldPoll := sdOperationPoll
	sdOperationPoll = 0
	t.Cleanup(func() { sdOperationPoll = oldPoll })
	f := newFakeSD()
	f.pending = 2 // the namespace's creation is seen PENDING twice, then SUCCESS
	s := &manifestSD{Namespace: "app.internal", Service: "api", RecordTypes: []string{"A", "SRV"}, TTL: aws.Int64(10),
		RoutingPolicy: "MULTIVALUE", CustomHealth: aws.Bool(true), ContainerName: "app", ContainerPort: aws.Int32(8080), srv: true}
	var w bytes.Buffer
	regs, err := applyServiceDiscovery(ctx, f, &w, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.namespaces) != 1 || len(f.services) != 1 {
		t.Fatalf("created %d namespaces, %d services", len(f.namespaces), len(f.services))
	}
	var svc sdtypes.Service
	for _, v := range f.services {
		svc = v
	}
	if svc.DnsConfig.RoutingPolicy != sdtypes.RoutingPolicyMultivalue || recordsText(svc.DnsConfig.DnsRecords) != "A 10s, SRV 10s" ||
		svc.HealthCheckCustomConfig == nil || aws.ToString(svc.Name) != "api" {
		t.Errorf("created service: %+v", svc)
	}
	want := []ecstypes.ServiceRegistry{{RegistryArn: svc.Arn, ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}
	if !sameRegistries(regs, want) {
		t.Errorf("registries: %+v", regs)
	}
	if got := strings.Count(strings.Join(f.calls, " "), "GetOperation"); got != 3 {
		t.Errorf("GetOperation calls: %d, want 3 (two PENDING, one SUCCESS)", got)
	}
	if !strings.Contains(w.String(), "namespace app.internal: created ns-") || !strings.Contains(w.String(), "cloud map service api.app.internal: created srv-") {
		t.Errorf("output:\n%s", w.String())
	}

	// A second run changes nothing.
	f.calls = nil
	w.Reset()
	regs2, err := applyServiceDiscovery(ctx, f, &w, s)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRegistries(regs2, regs) || len(f.namespaces) != 1 || len(f.services) != 1 {
		t.Errorf("second run: %+v, %d namespaces, %d services", regs2, len(f.namespaces), len(f.services))
	}
	for _, c := range f.calls {
		if strings.HasPrefix(c, "Create") || strings.HasPrefix(c, "Update") {
			t.Errorf("second run called %s", c)
		}
	}

	// A new TTL is an UpdateService (and its operation); the ARN stays.
	s.TTL = aws.Int64(30)
	f.calls = nil
	regs3, err := applyServiceDiscovery(ctx, f, &w, s)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRegistries(regs3, regs) || recordsText(f.services[aws.ToString(svc.Id)].DnsConfig.DnsRecords) != "A 30s, SRV 30s" ||
		!strings.Contains(strings.Join(f.calls, " "), "UpdateService GetOperation") {
		t.Errorf("TTL change: %v %v", f.calls, f.services[aws.ToString(svc.Id)].DnsConfig.DnsRecords)
	}

	// What Cloud Map cannot change is an error.
	for _, c := range []struct {
		change func(*manifestSD)
		want   string
	}{
		{func(s *manifestSD) { s.RecordTypes = []string{"A"}; s.srv = false }, "has A SRV records, the manifest A"},
		{func(s *manifestSD) { s.RoutingPolicy = "WEIGHTED" }, "has routing policy MULTIVALUE, the manifest WEIGHTED"},
		{func(s *manifestSD) { s.CustomHealth = aws.Bool(false) }, "customHealth is false"},
	} {
		s2 := *s
		s2.RecordTypes = append([]string(nil), s.RecordTypes...)
		c.change(&s2)
		if _, err := applyServiceDiscovery(ctx, f, &w, &s2); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %s", err, c.want)
		}
	}

	// An A-only service in another namespace: a new namespace, no container
	// in the registry.
	a := &manifestSD{Namespace: "other.internal", Service: "web", RecordTypes: []string{"A"}, TTL: aws.Int64(10),
		RoutingPolicy: "MULTIVALUE", CustomHealth: aws.Bool(false)}
	regs4, err := applyServiceDiscovery(ctx, f, &w, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.namespaces) != 2 || len(regs4) != 1 || regs4[0].ContainerName != nil || regs4[0].ContainerPort != nil {
		t.Errorf("A-only: %d namespaces, %+v", len(f.namespaces), regs4)
	}

	// A namespace of the name that is not private DNS is an error.
	f.namespaces["ns-http"] = sdtypes.Namespace{Id: aws.String("ns-http"), Name: aws.String("http.internal"), Type: sdtypes.NamespaceTypeHttp}
	if _, err := applyServiceDiscovery(ctx, f, &w, &manifestSD{Namespace: "http.internal", Service: "x", RecordTypes: []string{"A"},
		TTL: aws.Int64(10), RoutingPolicy: "MULTIVALUE", CustomHealth: aws.Bool(true)}); err == nil || !strings.Contains(err.Error(), "not a private DNS one") {
		t.Errorf("HTTP namespace: %v", err)
	}

	// A failed operation is an error with its reason.
	f2 := newFakeSD()
	f2.ops["op-x"] = sdtypes.Operation{Id: aws.String("op-x"), Status: sdtypes.OperationStatusFail, ErrorCode: aws.String("CANNOT_CREATE_HOSTED_ZONE"),
		ErrorMessage: aws.String("taken")}
	if _, err := waitSDOperation(ctx, f2, "op-x"); err == nil || !strings.Contains(err.Error(), "CANNOT_CREATE_HOSTED_ZONE taken") {
		t.Errorf("failed operation: %v", err)
	}
}

func TestSameRegistries(t *testing.T) {
	a := []ecstypes.ServiceRegistry{{RegistryArn: aws.String("arn:x"), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}
	b := []ecstypes.ServiceRegistry{{RegistryArn: aws.String("arn:x"), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8081)}}
	if !sameRegistries(a, a) || sameRegistries(a, b) || sameRegistries(nil, a) || !sameRegistries(nil, nil) {
		t.Error("sameRegistries")
	}
}
