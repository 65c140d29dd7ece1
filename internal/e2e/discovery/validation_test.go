package discovery

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
)

// wantInvalid fails unless err is ECS's InvalidParameterException with
// exactly msg.
func wantInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	var ipe *ecstypes.InvalidParameterException
	if !errors.As(err, &ipe) {
		t.Fatalf("want InvalidParameterException %q, got %v", msg, err)
	}
	if ipe.ErrorMessage() != msg {
		t.Fatalf("InvalidParameterException message:\n got %q\nwant %q", ipe.ErrorMessage(), msg)
	}
}

// registerDef registers a task definition of the test application (never
// run here) in network mode mode with container app's port 8080.
func (e *env) registerDef(family string, mode ecstypes.NetworkMode) string {
	e.t.Helper()
	pm := ecstypes.PortMapping{ContainerPort: aws.Int32(8080), Protocol: ecstypes.TransportProtocolTcp}
	if mode == ecstypes.NetworkModeBridge {
		pm.HostPort = aws.Int32(0)
	}
	cd := ecstypes.ContainerDefinition{Name: aws.String("app"), Image: aws.String(e.image), Essential: aws.Bool(true), Memory: aws.Int32(64)}
	if mode != ecstypes.NetworkModeNone {
		cd.PortMappings = []ecstypes.PortMapping{pm}
	}
	out, err := e.ecs.RegisterTaskDefinition(e.ctx(), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), NetworkMode: mode, ContainerDefinitions: []ecstypes.ContainerDefinition{cd},
	})
	if err != nil {
		e.t.Fatalf("register %s: %v", family, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// TestServiceRegistriesValidation sends every kind of bad
// serviceRegistries through the ECS SDK (CreateService and UpdateService)
// and checks ECS's typed error and message, and that a change of
// registries starts a deployment and an empty list removes them.
func TestServiceRegistriesValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "", 0)
	nsID, _ := e.namespace("val.local")
	_, srvARN := e.sdService(nsID, "srv", true, sdtypes.RecordTypeSrv)
	_, aARN := e.sdService(nsID, "aonly", true, sdtypes.RecordTypeA)
	_, bothARN := e.sdService(nsID, "both", true, sdtypes.RecordTypeA, sdtypes.RecordTypeSrv)
	httpNS, err := e.sd.CreateHttpNamespace(e.ctx(), &sd.CreateHttpNamespaceInput{Name: aws.String("val-http")})
	if err != nil {
		t.Fatal(err)
	}
	op, err := e.sd.GetOperation(e.ctx(), &sd.GetOperationInput{OperationId: httpNS.OperationId})
	if err != nil || op.Operation.Status != sdtypes.OperationStatusSuccess {
		t.Fatalf("http namespace operation: %v %+v", err, op)
	}
	hs, err := e.sd.CreateService(e.ctx(), &sd.CreateServiceInput{Name: aws.String("api"),
		NamespaceId: aws.String(op.Operation.Targets[string(sdtypes.OperationTargetTypeNamespace)])})
	if err != nil {
		t.Fatal(err)
	}
	httpARN := aws.ToString(hs.Service.Arn)

	bridge := e.registerDef("val-bridge", ecstypes.NetworkModeBridge)
	host := e.registerDef("val-host", ecstypes.NetworkModeHost)
	awsvpc := e.registerDef("val-awsvpc", ecstypes.NetworkModeAwsvpc)
	none := e.registerDef("val-none", ecstypes.NetworkModeNone)
	unknown := fmt.Sprintf("arn:aws:servicediscovery:%s:%s:service/srv-0000000000000000", testRegion, testAccount)
	netCfg := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}

	reg := func(arn string, name string, cport, port int32) ecstypes.ServiceRegistry {
		r := ecstypes.ServiceRegistry{RegistryArn: aws.String(arn)}
		if arn == "" {
			r.RegistryArn = nil
		}
		if name != "" {
			r.ContainerName = aws.String(name)
		}
		if cport != 0 {
			r.ContainerPort = aws.Int32(cport)
		}
		if port != 0 {
			r.Port = aws.Int32(port)
		}
		return r
	}
	create := func(name, td string, regs ...ecstypes.ServiceRegistry) error {
		in := &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name), TaskDefinition: aws.String(td),
			DesiredCount: aws.Int32(1), ServiceRegistries: regs}
		if td == awsvpc {
			in.NetworkConfiguration = netCfg
		}
		_, err := e.ecs.CreateService(e.ctx(), in)
		return err
	}

	bad := []struct {
		name string
		td   string
		regs []ecstypes.ServiceRegistry
		msg  string
	}{
		{"two registries", bridge, []ecstypes.ServiceRegistry{reg(srvARN, "app", 8080, 0), reg(bothARN, "app", 8080, 0)},
			"A service can have at most 1 service registry; 2 were given."},
		{"blank ARN", bridge, []ecstypes.ServiceRegistry{reg("", "app", 8080, 0)}, "registryArn can not be blank."},
		{"malformed ARN", bridge, []ecstypes.ServiceRegistry{reg("arn:aws:ecs:us-east-1:123456789012:service/disco/x", "app", 8080, 0)},
			"The service registry ARN arn:aws:ecs:us-east-1:123456789012:service/disco/x is not the ARN of a Cloud Map service."},
		{"not an ARN", bridge, []ecstypes.ServiceRegistry{reg("srv-0000000000000000", "app", 8080, 0)},
			"The service registry ARN srv-0000000000000000 is not the ARN of a Cloud Map service."},
		{"unknown Cloud Map service", bridge, []ecstypes.ServiceRegistry{reg(unknown, "app", 8080, 0)},
			"The service registry " + unknown + " does not exist."},
		{"containerName without containerPort", bridge, []ecstypes.ServiceRegistry{reg(srvARN, "app", 0, 0)},
			"containerName and containerPort must be specified together in serviceRegistries."},
		{"containerPort without containerName", bridge, []ecstypes.ServiceRegistry{reg(srvARN, "", 8080, 0)},
			"containerName and containerPort must be specified together in serviceRegistries."},
		{"port out of range", awsvpc, []ecstypes.ServiceRegistry{reg(srvARN, "", 0, 70000)},
			"The port 70000 of a service registry must be between 0 and 65535."},
		{"bridge without container", bridge, []ecstypes.ServiceRegistry{reg(srvARN, "", 0, 0)},
			"When specifying 'bridge' network mode, 'containerName' and 'containerPort' must be specified in the service registry " + srvARN + "."},
		{"host without container", host, []ecstypes.ServiceRegistry{reg(srvARN, "", 0, 0)},
			"When specifying 'host' network mode, 'containerName' and 'containerPort' must be specified in the service registry " + srvARN + "."},
		{"bridge with an A-only service", bridge, []ecstypes.ServiceRegistry{reg(aARN, "app", 8080, 0)},
			"The service registry " + aARN + " has no SRV record: tasks that use the bridge network mode can only be registered with SRV records."},
		{"bridge with a port", bridge, []ecstypes.ServiceRegistry{reg(srvARN, "app", 8080, 8080)},
			"A port was provided but is not required by the specified service registry"},
		{"containerPort not in the task definition", bridge, []ecstypes.ServiceRegistry{reg(srvARN, "app", 9999, 0)},
			"The container app did not have a container port 9999 defined."},
		{"container not in the task definition", bridge, []ecstypes.ServiceRegistry{reg(srvARN, "nope", 8080, 0)},
			"The container nope does not exist in the task definition."},
		{"network mode none", none, []ecstypes.ServiceRegistry{reg(srvARN, "", 0, 0)},
			"Service discovery is not supported for tasks that use the none network mode."},
		{"awsvpc A-only with a port", awsvpc, []ecstypes.ServiceRegistry{reg(aARN, "", 0, 8080)},
			"A port was provided but is not required by the specified service registry"},
		{"awsvpc A-only with a containerPort", awsvpc, []ecstypes.ServiceRegistry{reg(aARN, "app", 8080, 0)},
			"The values specified for serviceRegistries do not require a value for 'containerPort'. Remove the value and retry."},
		{"awsvpc SRV with container and port", awsvpc, []ecstypes.ServiceRegistry{reg(srvARN, "app", 8080, 8080)},
			"Specify either containerName and containerPort or port for the service registry " + srvARN + ", not both."},
		{"awsvpc SRV without container or port", awsvpc, []ecstypes.ServiceRegistry{reg(srvARN, "", 0, 0)},
			"The service registry " + srvARN + " has an SRV record: specify containerName and containerPort, or port."},
		{"HTTP namespace with container and port", bridge, []ecstypes.ServiceRegistry{reg(httpARN, "app", 8080, 8080)},
			"Specify either containerName and containerPort or port for the service registry " + httpARN + ", not both."},
	}
	for _, c := range bad {
		t.Run("create/"+c.name, func(t *testing.T) {
			err := create("bad", c.td, c.regs...)
			wantInvalid(t, err, c.msg)
		})
	}
	// What is valid: each of these services is created.
	for i, ok := range []struct {
		td   string
		regs []ecstypes.ServiceRegistry
	}{
		{bridge, []ecstypes.ServiceRegistry{reg(srvARN, "app", 8080, 0)}},
		{bridge, []ecstypes.ServiceRegistry{reg(bothARN, "app", 8080, 0)}},
		{host, []ecstypes.ServiceRegistry{reg(srvARN, "app", 8080, 0)}},
		{awsvpc, []ecstypes.ServiceRegistry{reg(aARN, "", 0, 0)}},
		{awsvpc, []ecstypes.ServiceRegistry{reg(srvARN, "", 0, 8080)}},
		{awsvpc, []ecstypes.ServiceRegistry{reg(srvARN, "app", 8080, 0)}},
		{bridge, []ecstypes.ServiceRegistry{reg(httpARN, "app", 8080, 0)}},
	} {
		if err := create(fmt.Sprintf("ok-%d", i), ok.td, ok.regs...); err != nil {
			t.Errorf("valid registries %d (%+v): %v", i, ok.regs, err)
		}
	}
	if t.Failed() {
		return
	}

	// UpdateService: the same rules, a change of registries is a new
	// deployment, an empty list removes them.
	upd := func(regs []ecstypes.ServiceRegistry) (*ecs.UpdateServiceOutput, error) {
		return e.ecs.UpdateService(e.ctx(), &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("ok-0"), ServiceRegistries: regs})
	}
	_, err = upd([]ecstypes.ServiceRegistry{reg(aARN, "app", 8080, 0)})
	wantInvalid(t, err, "The service registry "+aARN+" has no SRV record: tasks that use the bridge network mode can only be registered with SRV records.")
	_, err = upd([]ecstypes.ServiceRegistry{reg(srvARN, "app", 8080, 0), reg(bothARN, "app", 8080, 0)})
	wantInvalid(t, err, "A service can have at most 1 service registry; 2 were given.")
	// A new task definition must still suit the registries (none's
	// container has no port 8080).
	_, err = e.ecs.UpdateService(e.ctx(), &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String("ok-0"), TaskDefinition: aws.String(none)})
	wantInvalid(t, err, "The container app did not have a container port 8080 defined.")

	before := e.describeService("ok-0")
	if len(before.Deployments) != 1 || len(before.ServiceRegistries) != 1 || aws.ToString(before.ServiceRegistries[0].RegistryArn) != srvARN {
		t.Fatalf("service ok-0 before the update: deployments %d registries %+v", len(before.Deployments), before.ServiceRegistries)
	}
	out, err := upd([]ecstypes.ServiceRegistry{reg(bothARN, "app", 8080, 0)})
	if err != nil {
		t.Fatalf("update registries: %v", err)
	}
	s := *out.Service
	if len(s.ServiceRegistries) != 1 || aws.ToString(s.ServiceRegistries[0].RegistryArn) != bothARN ||
		aws.ToString(s.ServiceRegistries[0].ContainerName) != "app" || aws.ToInt32(s.ServiceRegistries[0].ContainerPort) != 8080 {
		t.Fatalf("registries after the update: %+v", s.ServiceRegistries)
	}
	if len(s.Deployments) != 2 || aws.ToString(s.Deployments[0].Status) != "PRIMARY" ||
		aws.ToString(s.Deployments[0].Id) == aws.ToString(before.Deployments[0].Id) {
		t.Fatalf("a change of registries starts no deployment: %+v", s.Deployments)
	}
	// The same registries again: no new deployment.
	out, err = upd([]ecstypes.ServiceRegistry{reg(bothARN, "app", 8080, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(out.Service.Deployments); got != 2 || aws.ToString(out.Service.Deployments[0].Id) != aws.ToString(s.Deployments[0].Id) {
		t.Errorf("the same registries again: %d deployments, primary %s (was %s)", got, aws.ToString(out.Service.Deployments[0].Id), aws.ToString(s.Deployments[0].Id))
	}
	out, err = upd([]ecstypes.ServiceRegistry{})
	if err != nil {
		t.Fatalf("remove registries: %v", err)
	}
	if len(out.Service.ServiceRegistries) != 0 {
		t.Fatalf("registries after the update with an empty list: %+v", out.Service.ServiceRegistries)
	}
	if got := e.describeService("ok-0"); len(got.ServiceRegistries) != 0 {
		t.Fatalf("DescribeServices after the update with an empty list: %+v", got.ServiceRegistries)
	}
	// ListServicesByNamespace lists the services of the namespace's
	// registries (ok-0 has none left).
	ls, err := e.ecs.ListServicesByNamespace(e.ctx(), &ecs.ListServicesByNamespaceInput{Namespace: aws.String("val.local")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range ls.ServiceArns {
		names = append(names, a[len(a)-4:])
	}
	want := []string{"ok-1", "ok-2", "ok-3", "ok-4", "ok-5"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("ListServicesByNamespace(val.local): %v, want %v", ls.ServiceArns, want)
	}
}
