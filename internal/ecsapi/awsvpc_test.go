package ecsapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/ecsapi"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
)

// fargateTaskDef is the Fargate example of the ECS developer guide
// (a web server in awsvpc, with task-level cpu and memory).
const fargateTaskDef = `{"family":"sample-fargate","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512",
 "containerDefinitions":[{"name":"fargate-app","image":"public.ecr.aws/docker/library/httpd:latest","essential":true,
 "portMappings":[{"containerPort":80,"hostPort":80,"protocol":"tcp"}],"entryPoint":["sh","-c"],
 "command":["/bin/sh -c \"echo ok > /usr/local/apache2/htdocs/index.html && httpd-foreground\""]}]}`

// awsvpcAPI is an API over a fresh state machine with the task network on,
// a cluster, the Fargate task definition, a bridge one, and one connected
// instance that registered with the task-eni capability.
func awsvpcAPI(t *testing.T) (*ecsapi.API, string) {
	t.Helper()
	m := fsm.New(fuzzNamer, slog.New(slog.DiscardHandler))
	p := &machineProposer{m: m}
	api := ecsapi.New(ecsapi.Config{
		Namer: fuzzNamer, Auth: allowAll{}, State: m, Proposer: p,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return fuzzNow },
		TaskRange: "10.200.0.0/16", TaskSubnetBits: 24,
	})
	for _, step := range []struct{ op, body string }{
		{"CreateCluster", `{}`},
		{"RegisterTaskDefinition", fargateTaskDef},
		{"RegisterTaskDefinition", `{"family":"bridge","containerDefinitions":[{"name":"a","image":"b","memory":64}]}`},
	} {
		if rec := serve(api, step.op, []byte(step.body)); rec.Code != http.StatusOK {
			t.Fatalf("setup %s: got %d %s", step.op, rec.Code, rec.Body)
		}
	}
	rec := serve(api, "RegisterContainerInstance", []byte(`{"totalResources":[{"name":"CPU","type":"INTEGER","integerValue":2048},{"name":"MEMORY","type":"INTEGER","integerValue":4096}],
		"attributes":[{"name":"ecs.capability.task-eni"},{"name":"com.amazonaws.ecs.capability.docker-remote-api.1.18"}]}`))
	if rec.Code != http.StatusOK {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	var reg shape.RegisterContainerInstanceResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &reg); err != nil {
		t.Fatal(err)
	}
	subnet := ""
	for _, a := range reg.ContainerInstance.Attributes {
		if *a.Name == fsm.AttrTaskSubnet {
			subnet = *a.Value
		}
	}
	if subnet != "10.200.0.0/24" {
		t.Fatalf("the instance's task subnet is %q, want 10.200.0.0/24 (attributes %+v)", subnet, reg.ContainerInstance.Attributes)
	}
	arn := *reg.ContainerInstance.ContainerInstanceArn
	id := arn[strings.LastIndex(arn, "/")+1:]
	if _, err := p.Apply(context.Background(), wire.InstanceConnection{Meta: wire.Meta{Now: fuzzNow}, InstanceID: id, Session: "s-1", Connected: true}); err != nil {
		t.Fatal(err)
	}
	return api, id
}

func TestAwsvpcNetworkConfigurationErrors(t *testing.T) {
	api, _ := awsvpcAPI(t)
	vpc := func(cfg string) string { return `"networkConfiguration":{"awsvpcConfiguration":` + cfg + `}` }
	many := func(prefix string, n int) string {
		var ids []string
		for i := range n {
			ids = append(ids, `"`+prefix+strings.Repeat("0", 7)+string(rune('a'+i))+`"`)
		}
		return "[" + strings.Join(ids, ",") + "]"
	}
	for _, tc := range []struct{ name, op, body, code, msg string }{
		{"missing", "RunTask", `{"taskDefinition":"sample-fargate"}`, "InvalidParameterException",
			"Network Configuration must be provided when networkMode 'awsvpc' is specified."},
		{"not awsvpc", "RunTask", `{"taskDefinition":"bridge",` + vpc(`{"subnets":["subnet-1"]}`) + `}`, "InvalidParameterException",
			"Network Configuration is not valid for the given networkMode of this task definition."},
		{"no subnets", "RunTask", `{"taskDefinition":"sample-fargate",` + vpc(`{"subnets":[]}`) + `}`, "InvalidParameterException", "subnets can not be empty."},
		{"17 subnets", "RunTask", `{"taskDefinition":"sample-fargate",` + vpc(`{"subnets":`+many("subnet-", 17)+`}`) + `}`, "InvalidParameterException", "subnets can have at most 16 items."},
		{"6 groups", "RunTask", `{"taskDefinition":"sample-fargate",` + vpc(`{"subnets":["subnet-1"],"securityGroups":`+many("sg-", 6)+`}`) + `}`, "InvalidParameterException", "securityGroups can have at most 5 items."},
		{"public ip on EC2", "RunTask", `{"taskDefinition":"sample-fargate","launchType":"EC2",` + vpc(`{"subnets":["subnet-1"],"assignPublicIp":"ENABLED"}`) + `}`, "InvalidParameterException",
			"Assign public IP is not supported for this launch type."},
		{"bad enum", "RunTask", `{"taskDefinition":"sample-fargate",` + vpc(`{"subnets":["subnet-1"],"assignPublicIp":"YES"}`) + `}`, "InvalidParameterException", "assignPublicIp"},
		{"start task missing", "StartTask", `{"taskDefinition":"sample-fargate","containerInstances":["` + "x" + `"]}`, "InvalidParameterException",
			"Network Configuration must be provided when networkMode 'awsvpc' is specified."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(api, tc.op, []byte(tc.body))
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.code) || !strings.Contains(rec.Body.String(), tc.msg) {
				t.Fatalf("got %d %s, want %s %q", rec.Code, rec.Body, tc.code, tc.msg)
			}
		})
	}
}

func TestAwsvpcRunTaskGetsAddresses(t *testing.T) {
	api, _ := awsvpcAPI(t)
	rec := serve(api, "RunTask", []byte(`{"taskDefinition":"sample-fargate","count":2,"networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-0a1b2c3d"],"securityGroups":["sg-12345678"]}}}`))
	if rec.Code != http.StatusOK {
		t.Fatalf("RunTask: %d %s", rec.Code, rec.Body)
	}
	var out shape.RunTaskResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Tasks) != 2 || len(out.Failures) != 0 {
		t.Fatalf("tasks %d failures %+v", len(out.Tasks), out.Failures)
	}
	seen := map[string]bool{}
	for _, task := range out.Tasks {
		if *task.LastStatus != "PROVISIONING" || len(task.Attachments) != 1 {
			t.Fatalf("task %s: lastStatus %s, %d attachments", *task.TaskArn, *task.LastStatus, len(task.Attachments))
		}
		at := task.Attachments[0]
		if *at.Type != "ElasticNetworkInterface" || *at.Status != "PRECREATED" {
			t.Errorf("attachment %s %s, want ElasticNetworkInterface PRECREATED", *at.Type, *at.Status)
		}
		var names []string
		details := map[string]string{}
		for _, d := range at.Details {
			names = append(names, *d.Name)
			details[*d.Name] = *d.Value
		}
		if got := strings.Join(names, ","); got != "subnetId,networkInterfaceId,macAddress,privateDnsName,privateIPv4Address" {
			t.Errorf("detail names %s, not ECS's order", got)
		}
		ip := details["privateIPv4Address"]
		if seen[ip] || !strings.HasPrefix(ip, "10.200.0.") || ip == "10.200.0.0" || ip == "10.200.0.1" {
			t.Errorf("address %s: duplicate, outside the subnet, or the network or gateway address", ip)
		}
		seen[ip] = true
		if details["subnetId"] != "subnet-0a1b2c3d" || !strings.HasPrefix(details["networkInterfaceId"], "eni-") ||
			details["privateDnsName"] != "ip-"+strings.ReplaceAll(ip, ".", "-")+".ec2.internal" {
			t.Errorf("details %v", details)
		}
		ni := task.Containers[0].NetworkInterfaces
		if len(ni) != 1 || *ni[0].AttachmentId != *at.Id || *ni[0].PrivateIpv4Address != ip {
			t.Errorf("container network interfaces %+v", ni)
		}
		if len(task.Containers[0].NetworkBindings) != 0 {
			t.Errorf("an awsvpc container shows network bindings %+v", task.Containers[0].NetworkBindings)
		}
	}
}

func TestAwsvpcServiceNetworkConfiguration(t *testing.T) {
	api, _ := awsvpcAPI(t)
	rec := serve(api, "CreateService", []byte(`{"serviceName":"web","taskDefinition":"sample-fargate","desiredCount":0}`))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Network Configuration must be provided when networkMode 'awsvpc' is specified.") {
		t.Fatalf("awsvpc service without a network configuration: %d %s", rec.Code, rec.Body)
	}
	rec = serve(api, "CreateService", []byte(`{"serviceName":"web","taskDefinition":"sample-fargate","desiredCount":0,
		"networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-1"],"securityGroups":["sg-1"]}}}`))
	if rec.Code != http.StatusOK {
		t.Fatalf("CreateService: %d %s", rec.Code, rec.Body)
	}
	describe := func() shape.Service {
		t.Helper()
		rec := serve(api, "DescribeServices", []byte(`{"services":["web"]}`))
		var out shape.DescribeServicesResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Services) != 1 {
			t.Fatalf("DescribeServices: %v %s", err, rec.Body)
		}
		return out.Services[0]
	}
	svc := describe()
	if nc := svc.NetworkConfiguration; nc == nil || nc.AwsvpcConfiguration.AssignPublicIp != shape.AssignPublicIpDisabled ||
		strings.Join(nc.AwsvpcConfiguration.Subnets, ",") != "subnet-1" || strings.Join(nc.AwsvpcConfiguration.SecurityGroups, ",") != "sg-1" {
		t.Fatalf("networkConfiguration %+v", svc.NetworkConfiguration)
	}
	rec = serve(api, "UpdateService", []byte(`{"service":"web","networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-2"]}}}`))
	if rec.Code != http.StatusOK {
		t.Fatalf("UpdateService network: %d %s", rec.Code, rec.Body)
	}
	if svc := describe(); len(svc.Deployments) != 2 || svc.NetworkConfiguration.AwsvpcConfiguration.Subnets[0] != "subnet-2" {
		t.Fatalf("after a network change: %d deployments, %+v", len(svc.Deployments), svc.NetworkConfiguration)
	}
	// Moving to a bridge task definition drops the network configuration;
	// giving one with it is refused.
	rec = serve(api, "UpdateService", []byte(`{"service":"web","taskDefinition":"bridge","networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-2"]}}}`))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Network Configuration is not valid for the given networkMode") {
		t.Fatalf("bridge with a network configuration: %d %s", rec.Code, rec.Body)
	}
	if rec = serve(api, "UpdateService", []byte(`{"service":"web","taskDefinition":"bridge"}`)); rec.Code != http.StatusOK {
		t.Fatalf("to bridge: %d %s", rec.Code, rec.Body)
	}
	if svc := describe(); svc.NetworkConfiguration != nil {
		t.Fatalf("a bridge service keeps %+v", svc.NetworkConfiguration)
	}
	// And back to awsvpc needs one again.
	rec = serve(api, "UpdateService", []byte(`{"service":"web","taskDefinition":"sample-fargate"}`))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Network Configuration must be provided") {
		t.Fatalf("back to awsvpc without one: %d %s", rec.Code, rec.Body)
	}
}

func TestFargateLaunch(t *testing.T) {
	api, _ := awsvpcAPI(t)
	vpc := `"networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-1"],"assignPublicIp":"ENABLED"}}`
	for _, tc := range []struct{ name, body, msg string }{
		{"not associated", `{"taskDefinition":"sample-fargate","capacityProviderStrategy":[{"capacityProvider":"FARGATE","weight":1}],` + vpc + `}`,
			"The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster."},
		{"both", `{"taskDefinition":"sample-fargate","launchType":"FARGATE","capacityProviderStrategy":[{"capacityProvider":"FARGATE","weight":1}],` + vpc + `}`,
			"Specifying both a launchType and capacityProviderStrategy is not supported."},
		{"platform on EC2", `{"taskDefinition":"bridge","platformVersion":"1.4.0"}`, "The platform version must be null when specifying an EC2 launch type."},
		{"unknown platform", `{"taskDefinition":"sample-fargate","launchType":"FARGATE","platformVersion":"9.9.9",` + vpc + `}`, "platform version 9.9.9 does not exist"},
		{"bridge on FARGATE", `{"taskDefinition":"bridge","launchType":"FARGATE"}`, "Task definition does not support launch_type FARGATE."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(api, "RunTask", []byte(tc.body))
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.msg) {
				t.Fatalf("got %d %s, want %q", rec.Code, rec.Body, tc.msg)
			}
		})
	}
	rec := serve(api, "RunTask", []byte(`{"taskDefinition":"sample-fargate","launchType":"FARGATE","count":2,`+vpc+`}`))
	var out shape.RunTaskResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &out); rec.Code != http.StatusOK || err != nil || len(out.Tasks) != 2 {
		t.Fatalf("RunTask FARGATE: %d %s", rec.Code, rec.Body)
	}
	for _, task := range out.Tasks {
		if task.LaunchType != shape.LaunchTypeFargate || deref(task.CapacityProviderName) != "FARGATE" || deref(task.PlatformVersion) != "1.4.0" ||
			deref(task.PlatformFamily) != "Linux" || task.ContainerInstanceArn != nil || task.EphemeralStorage == nil || task.EphemeralStorage.SizeInGiB != 20 {
			t.Errorf("a FARGATE task shows launchType %s provider %v platform %v/%v instance %v storage %+v", task.LaunchType,
				deref(task.CapacityProviderName), deref(task.PlatformVersion), deref(task.PlatformFamily), task.ContainerInstanceArn, task.EphemeralStorage)
		}
	}
	// The cluster's default strategy applies when neither is given.
	if rec := serve(api, "PutClusterCapacityProviders", []byte(`{"cluster":"default","capacityProviders":["FARGATE","FARGATE_SPOT"],
		"defaultCapacityProviderStrategy":[{"capacityProvider":"FARGATE","base":1,"weight":1},{"capacityProvider":"FARGATE_SPOT","weight":3}]}`)); rec.Code != http.StatusOK {
		t.Fatalf("PutClusterCapacityProviders: %d %s", rec.Code, rec.Body)
	}
	rec = serve(api, "RunTask", []byte(`{"taskDefinition":"sample-fargate","count":4,`+vpc+`}`))
	out = shape.RunTaskResponse{}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("RunTask with the default strategy: %d %s", rec.Code, rec.Body)
	}
	count := map[string]int{}
	for _, task := range out.Tasks {
		count[deref(task.CapacityProviderName)]++
	}
	// All 4 placed: the base on FARGATE, then by weight 1:3 two on
	// FARGATE_SPOT before the tie at 3/3 = 1/1 gives FARGATE the fourth.
	if len(out.Tasks) != 4 || count["FARGATE"] != 2 || count["FARGATE_SPOT"] != 2 {
		t.Fatalf("default strategy placed %d tasks: %v (failures %+v)", len(out.Tasks), count, out.Failures)
	}
	// A bridge task now needs an explicit EC2 launch type.
	if rec := serve(api, "RunTask", []byte(`{"taskDefinition":"bridge"}`)); rec.Code != http.StatusBadRequest ||
		!strings.Contains(rec.Body.String(), "Task definition does not support launch_type FARGATE.") {
		t.Fatalf("bridge task under a FARGATE default strategy: %d %s", rec.Code, rec.Body)
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// registerConnected registers and connects an instance with attributes.
func registerConnected(t *testing.T, api *ecsapi.API, m *machineProposer, attrs string) string {
	t.Helper()
	rec := serve(api, "RegisterContainerInstance", []byte(`{"totalResources":[{"name":"CPU","type":"INTEGER","integerValue":2048},{"name":"MEMORY","type":"INTEGER","integerValue":4096}],
		"attributes":[{"name":"ecs.capability.task-eni"},{"name":"com.amazonaws.ecs.capability.docker-remote-api.1.18"}`+attrs+`]}`))
	var reg shape.RegisterContainerInstanceResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &reg); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	arn := *reg.ContainerInstance.ContainerInstanceArn
	id := arn[strings.LastIndex(arn, "/")+1:]
	if _, err := m.Apply(context.Background(), wire.InstanceConnection{Meta: wire.Meta{Now: fuzzNow}, InstanceID: id, Session: "s-" + id, Connected: true}); err != nil {
		t.Fatal(err)
	}
	return arn
}

// Instances that declare the subnets they serve take only tasks naming one
// of them; instances that declare none take any; the task's subnetId is the
// one its instance serves. A cluster's berth:fargate-instances tag limits
// where FARGATE tasks run.
func TestAwsvpcPlacementRules(t *testing.T) {
	m := fsm.New(fuzzNamer, slog.New(slog.DiscardHandler))
	p := &machineProposer{m: m}
	api := ecsapi.New(ecsapi.Config{Namer: fuzzNamer, Auth: allowAll{}, State: m, Proposer: p,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return fuzzNow }, TaskRange: "10.200.0.0/16", TaskSubnetBits: 24})
	for _, step := range []struct{ op, body string }{{"CreateCluster", `{}`}, {"RegisterTaskDefinition", fargateTaskDef}} {
		if rec := serve(api, step.op, []byte(step.body)); rec.Code != http.StatusOK {
			t.Fatalf("setup %s: %d %s", step.op, rec.Code, rec.Body)
		}
	}
	any := registerConnected(t, api, p, "")
	served := registerConnected(t, api, p, `,{"name":"berth.subnets","value":"2"},{"name":"berth.subnet.subnet-b"},{"name":"berth.subnet.subnet-c"},{"name":"tier","value":"fargate"}`)
	run := func(body string) shape.RunTaskResponse {
		t.Helper()
		rec := serve(api, "RunTask", []byte(body))
		var out shape.RunTaskResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &out); rec.Code != http.StatusOK || err != nil {
			t.Fatalf("RunTask %s: %d %s", body, rec.Code, rec.Body)
		}
		return out
	}
	out := run(`{"taskDefinition":"sample-fargate","count":4,"networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-a","subnet-c"]}}}`)
	for _, task := range out.Tasks {
		on := *task.ContainerInstanceArn
		subnet := task.Attachments[0].Details[0]
		want := "subnet-a"
		if on == served {
			want = "subnet-c"
		}
		if *subnet.Value != want {
			t.Errorf("task on %s is in %s, want %s", on, *subnet.Value, want)
		}
	}
	out = run(`{"taskDefinition":"sample-fargate","count":3,"networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-z"]}}}`)
	for _, task := range out.Tasks {
		if *task.ContainerInstanceArn != any {
			t.Errorf("a task of subnet-z went to %s, which serves only subnet-b and subnet-c", *task.ContainerInstanceArn)
		}
	}
	if len(out.Tasks) != 3 {
		t.Fatalf("subnet-z: %d tasks, failures %+v", len(out.Tasks), out.Failures)
	}
	if rec := serve(api, "TagResource", []byte(`{"resourceArn":"arn:aws:ecs:us-east-1:123456789012:cluster/default","tags":[{"key":"berth:fargate-instances","value":"attribute:tier == fargate"}]}`)); rec.Code != http.StatusOK {
		t.Fatalf("tag: %d %s", rec.Code, rec.Body)
	}
	out = run(`{"taskDefinition":"sample-fargate","launchType":"FARGATE","count":3,"networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-a","subnet-b"]}}}`)
	if len(out.Tasks) != 3 {
		t.Fatalf("FARGATE: %d tasks, failures %+v", len(out.Tasks), out.Failures)
	}
	// Where a task landed is not shown for FARGATE: its address tells.
	for _, task := range out.Tasks {
		if sub := *task.Attachments[0].Details[0].Value; sub != "subnet-b" {
			t.Errorf("a FARGATE task is in %s: not on the tier=fargate instance", sub)
		}
	}
	if rec := serve(api, "TagResource", []byte(`{"resourceArn":"arn:aws:ecs:us-east-1:123456789012:cluster/default","tags":[{"key":"berth:fargate-instances","value":"attribute:tier =="}]}`)); rec.Code != http.StatusOK {
		t.Fatalf("tag: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(api, "RunTask", []byte(`{"taskDefinition":"sample-fargate","launchType":"FARGATE","networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-a"]}}}`)); rec.Code != http.StatusBadRequest ||
		!strings.Contains(rec.Body.String(), "berth:fargate-instances tag is not a valid cluster query language expression") {
		t.Fatalf("bad tag: %d %s", rec.Code, rec.Body)
	}
}
