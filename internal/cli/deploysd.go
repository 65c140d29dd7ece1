package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"berth.dev/berth/internal/sdkhttp"
	"berth.dev/berth/internal/shape"
)

// manifestSD is a manifest's serviceDiscovery: the private DNS namespace
// and the Cloud Map service `berth deploy` finds or creates before the ECS
// service, which registers its tasks there.
type manifestSD struct {
	// Namespace is the private DNS namespace's name (created when missing).
	Namespace string `json:"namespace"`
	// Service is the Cloud Map service's name; default the ECS service's.
	Service string `json:"service"`
	// RecordTypes are A and/or SRV (AAAA is accepted for tasks that have
	// IPv6); default A in awsvpc mode, SRV otherwise.
	RecordTypes []string `json:"recordTypes"`
	// TTL of the records in seconds; default 10.
	TTL *int64 `json:"ttl"`
	// RoutingPolicy is MULTIVALUE (default) or WEIGHTED.
	RoutingPolicy string `json:"routingPolicy"`
	// CustomHealth gives the service a custom health check (default true):
	// ECS marks a task's instance UNHEALTHY when the task is, and DNS stops
	// answering with it.
	CustomHealth *bool `json:"customHealth"`
	// ContainerName and ContainerPort are what SRV records point at;
	// default the only container, or the first with a port mapping, and
	// its first port.
	ContainerName string `json:"containerName"`
	ContainerPort *int32 `json:"containerPort"`

	srv bool // the records include SRV
}

// sdDefaultTTL is the TTL of a Cloud Map service's records berth deploy
// creates when the manifest gives none.
const sdDefaultTTL = 10

// sdVPC is the VPC berth deploy names when it creates a namespace (berth
// has no VPCs; the API requires one).
const sdVPC = "vpc-berth"

// checkServiceDiscovery fills the defaults of m.ServiceDiscovery and
// refuses, before any API call, what Cloud Map or ECS would refuse. Its
// errors name members as written in the file.
func checkServiceDiscovery(m *manifest) error {
	s := m.ServiceDiscovery
	const p = "serviceDiscovery."
	if s.Namespace == "" {
		return fmt.Errorf("%snamespace is required", p)
	}
	if len(s.Namespace) > 253 || strings.Trim(s.Namespace, ".") != s.Namespace || strings.Contains(s.Namespace, "..") {
		return fmt.Errorf("%snamespace: %q is not a DNS name", p, s.Namespace)
	}
	for _, label := range strings.Split(s.Namespace, ".") {
		if len(label) > 63 {
			return fmt.Errorf("%snamespace: the label %q is longer than 63 characters", p, label)
		}
	}
	if s.Service == "" {
		s.Service = m.Service
	}
	if len(s.Service) > 63 || strings.Contains(s.Service, ".") {
		return fmt.Errorf("%sservice: %q is not a DNS label (the default is the ECS service's name)", p, s.Service)
	}
	mode := string(m.TaskDefinition.NetworkMode)
	if mode == "" {
		mode = "bridge"
	}
	if mode == "none" {
		return fmt.Errorf("%s: tasks in the none network mode cannot be registered", strings.TrimSuffix(p, "."))
	}
	if len(s.RecordTypes) == 0 {
		if mode == "awsvpc" {
			s.RecordTypes = []string{"A"}
		} else {
			s.RecordTypes = []string{"SRV"}
		}
	}
	seen := map[string]bool{}
	for i, t := range s.RecordTypes {
		t = strings.ToUpper(t)
		s.RecordTypes[i] = t
		switch t {
		case "A", "AAAA", "SRV":
		default:
			return fmt.Errorf("%srecordTypes[%d]: %q is not A, AAAA or SRV", p, i, t)
		}
		if seen[t] {
			return fmt.Errorf("%srecordTypes: %s is given twice", p, t)
		}
		seen[t] = true
	}
	s.srv = seen["SRV"]
	if mode != "awsvpc" && !s.srv {
		return fmt.Errorf("%srecordTypes: tasks in the %s network mode can only be registered with SRV records", p, mode)
	}
	if s.TTL == nil {
		s.TTL = aws.Int64(sdDefaultTTL)
	}
	if *s.TTL < 0 || *s.TTL > 2147483647 {
		return fmt.Errorf("%sttl: %d is not between 0 and 2147483647", p, *s.TTL)
	}
	switch s.RoutingPolicy {
	case "":
		s.RoutingPolicy = string(sdtypes.RoutingPolicyMultivalue)
	case string(sdtypes.RoutingPolicyMultivalue), string(sdtypes.RoutingPolicyWeighted):
	default:
		return fmt.Errorf("%sroutingPolicy: %q is not MULTIVALUE or WEIGHTED", p, s.RoutingPolicy)
	}
	if s.CustomHealth == nil {
		s.CustomHealth = aws.Bool(true)
	}
	if !s.srv {
		if s.ContainerName != "" || s.ContainerPort != nil {
			return fmt.Errorf("%scontainerName and containerPort are for SRV records (recordTypes has no SRV)", p)
		}
		return nil
	}
	name, port, err := pickContainerPort(m.TaskDefinition, s.ContainerName, s.ContainerPort, p)
	if err != nil {
		return err
	}
	s.ContainerName, s.ContainerPort = name, aws.Int32(port)
	return nil
}

// pickContainerPort is the container and port a service registry's SRV
// records point at: the given ones, checked against td; else the only
// container, or the first with a port mapping, and its first port.
func pickContainerPort(td *shape.RegisterTaskDefinitionRequest, name string, port *int32, p string) (string, int32, error) {
	var cont *shape.ContainerDefinition
	if name == "" {
		if len(td.ContainerDefinitions) == 1 {
			cont = &td.ContainerDefinitions[0]
		} else {
			for i := range td.ContainerDefinitions {
				if len(containerPorts(&td.ContainerDefinitions[i])) > 0 {
					cont = &td.ContainerDefinitions[i]
					break
				}
			}
		}
		if cont == nil {
			return "", 0, fmt.Errorf("%scontainerName is required: no container of taskDefinition has a port mapping", p)
		}
	} else {
		for i := range td.ContainerDefinitions {
			if aws.ToString(td.ContainerDefinitions[i].Name) == name {
				cont = &td.ContainerDefinitions[i]
			}
		}
		if cont == nil {
			return "", 0, fmt.Errorf("%scontainerName: taskDefinition has no container %s", p, name)
		}
	}
	ports := containerPorts(cont)
	cname := aws.ToString(cont.Name)
	if port == nil {
		if len(ports) == 0 {
			return "", 0, fmt.Errorf("%scontainerPort: container %s has no port mapping", p, cname)
		}
		return cname, ports[0], nil
	}
	if !slices.Contains(ports, *port) {
		return "", 0, fmt.Errorf("%scontainerPort: container %s maps no containerPort %d", p, cname, *port)
	}
	return cname, *port, nil
}

// sdAPI is the part of the Cloud Map client berth deploy uses.
type sdAPI interface {
	ListNamespaces(context.Context, *sd.ListNamespacesInput, ...func(*sd.Options)) (*sd.ListNamespacesOutput, error)
	CreatePrivateDnsNamespace(context.Context, *sd.CreatePrivateDnsNamespaceInput, ...func(*sd.Options)) (*sd.CreatePrivateDnsNamespaceOutput, error)
	GetOperation(context.Context, *sd.GetOperationInput, ...func(*sd.Options)) (*sd.GetOperationOutput, error)
	ListServices(context.Context, *sd.ListServicesInput, ...func(*sd.Options)) (*sd.ListServicesOutput, error)
	GetService(context.Context, *sd.GetServiceInput, ...func(*sd.Options)) (*sd.GetServiceOutput, error)
	CreateService(context.Context, *sd.CreateServiceInput, ...func(*sd.Options)) (*sd.CreateServiceOutput, error)
	UpdateService(context.Context, *sd.UpdateServiceInput, ...func(*sd.Options)) (*sd.UpdateServiceOutput, error)
}

func newSDClient(ctx context.Context, env *Env, f *clientFlags) (*sd.Client, error) {
	cfg, endpoint, err := sdkConfig(ctx, env, f)
	if err != nil {
		return nil, err
	}
	return sd.NewFromConfig(cfg, func(o *sd.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = sdkhttp.New()
	}), nil
}

// sdOperationWait bounds how long berth deploy waits for a Cloud Map
// operation, and sdOperationPoll is how often it asks (berth completes
// operations at once; AWS takes seconds to a minute).
var (
	sdOperationWait = 3 * time.Minute
	sdOperationPoll = time.Second
)

// applyServiceDiscovery finds or creates the manifest's namespace and
// Cloud Map service, and returns the service registries the ECS service
// is to have. Run again with the same manifest, it changes nothing.
func applyServiceDiscovery(ctx context.Context, c sdAPI, w io.Writer, s *manifestSD) ([]ecstypes.ServiceRegistry, error) {
	nsID, err := ensureNamespace(ctx, c, w, s.Namespace)
	if err != nil {
		return nil, err
	}
	arn, err := ensureSDService(ctx, c, w, s, nsID)
	if err != nil {
		return nil, err
	}
	reg := ecstypes.ServiceRegistry{RegistryArn: aws.String(arn)}
	if s.srv {
		reg.ContainerName, reg.ContainerPort = aws.String(s.ContainerName), s.ContainerPort
	}
	return []ecstypes.ServiceRegistry{reg}, nil
}

// ensureNamespace returns the ID of the private DNS namespace name,
// created (and its operation waited for) when missing.
func ensureNamespace(ctx context.Context, c sdAPI, w io.Writer, name string) (string, error) {
	p := sd.NewListNamespacesPaginator(c, &sd.ListNamespacesInput{Filters: []sdtypes.NamespaceFilter{
		{Name: sdtypes.NamespaceFilterNameName, Values: []string{name}, Condition: sdtypes.FilterConditionEq}}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, ns := range out.Namespaces {
			if !strings.EqualFold(strings.TrimSuffix(aws.ToString(ns.Name), "."), name) {
				continue
			}
			if ns.Type != sdtypes.NamespaceTypeDnsPrivate {
				return "", fmt.Errorf("namespace %s (%s) is a %s namespace, not a private DNS one", name, aws.ToString(ns.Id), ns.Type)
			}
			fmt.Fprintf(w, "namespace %s: %s\n", name, aws.ToString(ns.Id))
			return aws.ToString(ns.Id), nil
		}
	}
	out, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{
		Name: aws.String(name), Vpc: aws.String(sdVPC), CreatorRequestId: creatorRequestID(),
		Description: aws.String("created by berth deploy"),
	})
	if err != nil {
		return "", err
	}
	op, err := waitSDOperation(ctx, c, aws.ToString(out.OperationId))
	if err != nil {
		return "", fmt.Errorf("namespace %s: %w", name, err)
	}
	id := op.Targets[string(sdtypes.OperationTargetTypeNamespace)]
	if id == "" {
		return "", fmt.Errorf("namespace %s: operation %s names no namespace", name, aws.ToString(op.Id))
	}
	fmt.Fprintf(w, "namespace %s: created %s\n", name, id)
	return id, nil
}

// waitSDOperation polls a Cloud Map operation until it succeeds (its
// final state), fails (an error with its reason), or sdOperationWait
// passes.
func waitSDOperation(ctx context.Context, c sdAPI, id string) (*sdtypes.Operation, error) {
	ctx, cancel := context.WithTimeout(ctx, sdOperationWait)
	defer cancel()
	for {
		out, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: aws.String(id)})
		if err != nil {
			return nil, err
		}
		op := out.Operation
		switch op.Status {
		case sdtypes.OperationStatusSuccess:
			return op, nil
		case sdtypes.OperationStatusFail:
			return nil, fmt.Errorf("operation %s failed: %s %s", id, aws.ToString(op.ErrorCode), aws.ToString(op.ErrorMessage))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("operation %s is still %s: %w", id, op.Status, ctx.Err())
		case <-time.After(sdOperationPoll):
		}
	}
}

// ensureSDService returns the ARN of the Cloud Map service s.Service in
// namespace nsID, created when missing. An existing service's record TTL
// is brought to the manifest's; other differences (record types, routing
// policy, health check), which Cloud Map cannot change, are an error.
func ensureSDService(ctx context.Context, c sdAPI, w io.Writer, s *manifestSD, nsID string) (string, error) {
	var found *sdtypes.ServiceSummary
	p := sd.NewListServicesPaginator(c, &sd.ListServicesInput{Filters: []sdtypes.ServiceFilter{
		{Name: sdtypes.ServiceFilterNameNamespaceId, Values: []string{nsID}, Condition: sdtypes.FilterConditionEq}}})
	for p.HasMorePages() && found == nil {
		out, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for i := range out.Services {
			if strings.EqualFold(aws.ToString(out.Services[i].Name), s.Service) {
				found = &out.Services[i]
				break
			}
		}
	}
	full := s.Service + "." + s.Namespace
	want := wantDNSRecords(s)
	if found == nil {
		in := &sd.CreateServiceInput{
			Name: aws.String(s.Service), NamespaceId: aws.String(nsID),
			CreatorRequestId: creatorRequestID(),
			DnsConfig:        &sdtypes.DnsConfig{RoutingPolicy: sdtypes.RoutingPolicy(s.RoutingPolicy), DnsRecords: want},
		}
		if aws.ToBool(s.CustomHealth) {
			in.HealthCheckCustomConfig = &sdtypes.HealthCheckCustomConfig{FailureThreshold: aws.Int32(1)}
		}
		out, err := c.CreateService(ctx, in)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(w, "cloud map service %s: created %s (%s)\n", full, aws.ToString(out.Service.Id), recordsText(want))
		return aws.ToString(out.Service.Arn), nil
	}
	got, err := c.GetService(ctx, &sd.GetServiceInput{Id: found.Id})
	if err != nil {
		return "", err
	}
	svc := got.Service
	id := aws.ToString(svc.Id)
	var have []sdtypes.DnsRecord
	policy := ""
	if svc.DnsConfig != nil {
		have, policy = svc.DnsConfig.DnsRecords, string(svc.DnsConfig.RoutingPolicy)
	}
	switch {
	case recordTypesText(have) != recordTypesText(want):
		return "", fmt.Errorf("cloud map service %s (%s) has %s records, the manifest %s: Cloud Map cannot change a service's record types (delete the service, or change recordTypes)",
			full, id, orNone(recordTypesText(have)), recordTypesText(want))
	case policy != s.RoutingPolicy:
		return "", fmt.Errorf("cloud map service %s (%s) has routing policy %s, the manifest %s: Cloud Map cannot change it", full, id, orNone(policy), s.RoutingPolicy)
	case (svc.HealthCheckCustomConfig != nil) != aws.ToBool(s.CustomHealth):
		return "", fmt.Errorf("cloud map service %s (%s): customHealth is %t in the manifest but not on the service: Cloud Map cannot change it",
			full, id, aws.ToBool(s.CustomHealth))
	}
	if recordsText(have) == recordsText(want) {
		fmt.Fprintf(w, "cloud map service %s: %s (%s)\n", full, id, recordsText(want))
		return aws.ToString(svc.Arn), nil
	}
	out, err := c.UpdateService(ctx, &sd.UpdateServiceInput{Id: svc.Id, Service: &sdtypes.ServiceChange{
		DnsConfig: &sdtypes.DnsConfigChange{DnsRecords: want}}})
	if err != nil {
		return "", err
	}
	if _, err := waitSDOperation(ctx, c, aws.ToString(out.OperationId)); err != nil {
		return "", fmt.Errorf("cloud map service %s: %w", full, err)
	}
	fmt.Fprintf(w, "cloud map service %s: %s, records changed to %s\n", full, id, recordsText(want))
	return aws.ToString(svc.Arn), nil
}

// creatorRequestID is a CreatorRequestId for one create call (the SDK's
// retries of the call reuse it; another deploy run gets another): at most
// 64 characters, whatever the names.
func creatorRequestID() *string {
	return aws.String(fmt.Sprintf("berth-deploy-%d", time.Now().UnixNano()))
}

func wantDNSRecords(s *manifestSD) []sdtypes.DnsRecord {
	var out []sdtypes.DnsRecord
	for _, t := range s.RecordTypes {
		out = append(out, sdtypes.DnsRecord{Type: sdtypes.RecordType(t), TTL: s.TTL})
	}
	return out
}

// recordTypesText is the sorted record types, "A SRV".
func recordTypesText(rs []sdtypes.DnsRecord) string {
	var ts []string
	for _, r := range rs {
		ts = append(ts, string(r.Type))
	}
	slices.Sort(ts)
	return strings.Join(ts, " ")
}

// recordsText is the sorted records with their TTLs, "A 10s, SRV 10s".
func recordsText(rs []sdtypes.DnsRecord) string {
	var ts []string
	for _, r := range rs {
		ts = append(ts, fmt.Sprintf("%s %ds", r.Type, aws.ToInt64(r.TTL)))
	}
	slices.Sort(ts)
	return strings.Join(ts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "no"
	}
	return s
}

// sameRegistries reports whether a service's registries are want.
func sameRegistries(have, want []ecstypes.ServiceRegistry) bool {
	if len(have) != len(want) {
		return false
	}
	for i := range have {
		a, b := have[i], want[i]
		if aws.ToString(a.RegistryArn) != aws.ToString(b.RegistryArn) || aws.ToString(a.ContainerName) != aws.ToString(b.ContainerName) ||
			aws.ToInt32(a.ContainerPort) != aws.ToInt32(b.ContainerPort) || aws.ToInt32(a.Port) != aws.ToInt32(b.Port) {
			return false
		}
	}
	return true
}
