package ecsapi_test

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"berth.dev/berth/internal/ecsapi"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
)

// requestShapes is the request shape of every operation berth serves.
var requestShapes = map[string]any{
	"CreateCluster":                 shape.CreateClusterRequest{},
	"DescribeClusters":              shape.DescribeClustersRequest{},
	"ListClusters":                  shape.ListClustersRequest{},
	"DeleteCluster":                 shape.DeleteClusterRequest{},
	"UpdateCluster":                 shape.UpdateClusterRequest{},
	"UpdateClusterSettings":         shape.UpdateClusterSettingsRequest{},
	"PutClusterCapacityProviders":   shape.PutClusterCapacityProvidersRequest{},
	"RegisterTaskDefinition":        shape.RegisterTaskDefinitionRequest{},
	"DescribeTaskDefinition":        shape.DescribeTaskDefinitionRequest{},
	"ListTaskDefinitions":           shape.ListTaskDefinitionsRequest{},
	"ListTaskDefinitionFamilies":    shape.ListTaskDefinitionFamiliesRequest{},
	"DeregisterTaskDefinition":      shape.DeregisterTaskDefinitionRequest{},
	"DeleteTaskDefinitions":         shape.DeleteTaskDefinitionsRequest{},
	"RegisterContainerInstance":     shape.RegisterContainerInstanceRequest{},
	"DeregisterContainerInstance":   shape.DeregisterContainerInstanceRequest{},
	"DescribeContainerInstances":    shape.DescribeContainerInstancesRequest{},
	"ListContainerInstances":        shape.ListContainerInstancesRequest{},
	"UpdateContainerInstancesState": shape.UpdateContainerInstancesStateRequest{},
	"PutAttributes":                 shape.PutAttributesRequest{},
	"DeleteAttributes":              shape.DeleteAttributesRequest{},
	"ListAttributes":                shape.ListAttributesRequest{},
	"TagResource":                   shape.TagResourceRequest{},
	"UntagResource":                 shape.UntagResourceRequest{},
	"ListTagsForResource":           shape.ListTagsForResourceRequest{},
	"ListAccountSettings":           shape.ListAccountSettingsRequest{},
	"PutAccountSetting":             shape.PutAccountSettingRequest{},
	"PutAccountSettingDefault":      shape.PutAccountSettingDefaultRequest{},
	"DeleteAccountSetting":          shape.DeleteAccountSettingRequest{},
	"ListTasks":                     shape.ListTasksRequest{},
	"DescribeTasks":                 shape.DescribeTasksRequest{},
	"RunTask":                       shape.RunTaskRequest{},
	"StartTask":                     shape.StartTaskRequest{},
	"StopTask":                      shape.StopTaskRequest{},
	"SubmitTaskStateChange":         shape.SubmitTaskStateChangeRequest{},
	"SubmitContainerStateChange":    shape.SubmitContainerStateChangeRequest{},
	"CreateService":                 shape.CreateServiceRequest{},
	"UpdateService":                 shape.UpdateServiceRequest{},
	"DeleteService":                 shape.DeleteServiceRequest{},
	"DescribeServices":              shape.DescribeServicesRequest{},
	"ListServices":                  shape.ListServicesRequest{},
	"ListServicesByNamespace":       shape.ListServicesByNamespaceRequest{},
	"ListServiceDeployments":        shape.ListServiceDeploymentsRequest{},
	"DescribeServiceDeployments":    shape.DescribeServiceDeploymentsRequest{},
	"DescribeServiceRevisions":      shape.DescribeServiceRevisionsRequest{},
}

// memberPaths lists every member path under t, as written on the wire:
// prefix.member, list items as prefix.member[]. It stops at types that are
// not shape structs (strings, numbers, timestamps, maps of strings).
func memberPaths(t reflect.Type, prefix string, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		if t.Kind() == reflect.Slice {
			prefix += "[]"
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.PkgPath() != reflect.TypeFor[shape.Tag]().PkgPath() || t == reflect.TypeFor[shape.Timestamp]() || seen[t] {
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		p := prefix + "." + name
		out = append(out, p)
		out = append(out, memberPaths(f.Type, p, seen)...)
	}
	return out
}

// allMemberPaths is every member path of every served operation.
func allMemberPaths(t *testing.T) []string {
	t.Helper()
	ops := ecsapi.Implemented()
	slices.Sort(ops)
	var out []string
	for _, op := range ops {
		s, ok := requestShapes[op]
		if !ok {
			t.Errorf("operation %s has no entry in requestShapes", op)
			continue
		}
		if got, want := reflect.TypeOf(s).Name(), op+"Request"; got != want {
			t.Errorf("requestShapes[%s] is %s, want %s", op, got, want)
		}
		out = append(out, memberPaths(reflect.TypeOf(s), op, map[reflect.Type]bool{})...)
	}
	for op := range requestShapes {
		if !slices.Contains(ops, op) {
			t.Errorf("requestShapes lists %s, which berth does not serve", op)
		}
	}
	return out
}

// fieldClass is one line of testdata/fields.txt.
type fieldClass struct {
	path, class, note string
	line              int
	used              bool
}

var fieldClasses = []string{"honoured", "refused", "stored", "documented"}

func readFieldClasses(t *testing.T) map[string]*fieldClass {
	t.Helper()
	f, err := os.Open("testdata/fields.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*fieldClass{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 2 || !slices.Contains(fieldClasses, fs[1]) {
			t.Fatalf("fields.txt:%d: want PATH CLASS [NOTE] with CLASS one of %v: %q", n, fieldClasses, line)
		}
		if out[fs[0]] != nil {
			t.Fatalf("fields.txt:%d: %s is classified twice", n, fs[0])
		}
		out[fs[0]] = &fieldClass{path: fs[0], class: fs[1], note: strings.Join(fs[2:], " "), line: n}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// classify finds the line that classifies path: the line naming it, else
// the nearest "A.*" line of path itself or an ancestor A.
func classify(classes map[string]*fieldClass, path string) *fieldClass {
	if c := classes[path]; c != nil {
		return c
	}
	for p := path; p != ""; {
		if c := classes[p+".*"]; c != nil {
			return c
		}
		switch {
		case strings.HasSuffix(p, "[]"):
			p = strings.TrimSuffix(p, "[]")
		case strings.Contains(p, "."):
			p = p[:strings.LastIndex(p, ".")]
		default:
			p = ""
		}
	}
	return nil
}

// TestEveryRequestMemberIsClassified fails for a member of a served
// operation's request that testdata/fields.txt does not classify, and for a
// line there that classifies nothing: a regenerated shape or a new
// operation must say what berth does with each new member.
func TestEveryRequestMemberIsClassified(t *testing.T) {
	classes := readFieldClasses(t)
	for _, p := range allMemberPaths(t) {
		c := classify(classes, p)
		if c == nil {
			t.Errorf("%s is not classified in testdata/fields.txt (honoured, refused, stored or documented)", p)
			continue
		}
		c.used = true
	}
	for _, c := range classes {
		if !c.used {
			t.Errorf("fields.txt:%d: %s classifies no member", c.line, c.path)
		}
	}
}

// TestStoredAndDocumentedMembersAreDocumented fails for a member classified
// "stored" or "documented" that neither the README nor docs/ecs-fields.md or
// docs/runtimes.md names: in backquotes, as the end of its path
// ("portMappings[].name", "autoprovision"), or, for a whole operation, by
// its name.
func TestStoredAndDocumentedMembersAreDocumented(t *testing.T) {
	var docs strings.Builder
	for _, f := range []string{"../../README.md", "../../docs/ecs-fields.md", "../../docs/runtimes.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(b)
	}
	text := docs.String()
	for _, c := range readFieldClasses(t) {
		if c.class != "stored" && c.class != "documented" {
			continue
		}
		op, member, _ := strings.Cut(strings.TrimSuffix(c.path, ".*"), ".")
		if member == "" {
			if !strings.Contains(text, op) {
				t.Errorf("fields.txt:%d: %s is %s, but the docs do not name the operation", c.line, c.path, c.class)
			}
			continue
		}
		found := false
		for p := member; p != "" && !found; {
			found = strings.Contains(text, "`"+p+"`")
			_, p, _ = strings.Cut(p, ".")
		}
		if !found {
			t.Errorf("fields.txt:%d: %s is %s, but the docs do not name it", c.line, c.path, c.class)
		}
	}
}

// refusal is a request that sets a refused member, and the error it gets.
type refusal struct {
	op, body string
	// code is the exception; UnsupportedFeatureException when empty.
	code string
	// message is in the error; "berth does not support MEMBER yet." when
	// empty, MEMBER being the line's path without its operation and ".*".
	message string
}

// td is a RegisterTaskDefinition body whose only container has the extra
// members container, and whose task has the extra members task.
func td(container, task string) string {
	if container != "" {
		container = "," + container
	}
	if task != "" {
		task = "," + task
	}
	return `{"family":"probe","containerDefinitions":[{"name":"a","image":"b","memory":64` + container + `}]` + task + `}`
}

const (
	runBody   = `{"taskDefinition":"app",`
	startBody = `{"taskDefinition":"app","containerInstances":["` + instanceID + `"],`
	createSvc = `{"serviceName":"probe","taskDefinition":"app","desiredCount":0,`
	updateSvc = `{"service":"web",`
)

// refusals sends, for every line classified "refused", a request that sets
// the member.
var refusals = map[string]refusal{
	// task definitions
	"RegisterTaskDefinition.pidMode":                                                  {op: "RegisterTaskDefinition", body: td("", `"pidMode":"host"`)},
	"RegisterTaskDefinition.ipcMode":                                                  {op: "RegisterTaskDefinition", body: td("", `"ipcMode":"host"`)},
	"RegisterTaskDefinition.enableFaultInjection":                                     {op: "RegisterTaskDefinition", body: td("", `"enableFaultInjection":true`)},
	"RegisterTaskDefinition.proxyConfiguration.*":                                     {op: "RegisterTaskDefinition", body: td("", `"networkMode":"awsvpc","proxyConfiguration":{"type":"APPMESH","containerName":"a","properties":[{"name":"AppPorts","value":"8080"}]}`)},
	"RegisterTaskDefinition.inferenceAccelerators.*":                                  {op: "RegisterTaskDefinition", body: td("", `"inferenceAccelerators":[{"deviceName":"d1","deviceType":"eia2.medium"}]`)},
	"RegisterTaskDefinition.volumes[].dockerVolumeConfiguration.driver":               {op: "RegisterTaskDefinition", body: td("", `"volumes":[{"name":"v","dockerVolumeConfiguration":{"scope":"task","driver":"rexray/ebs"}}]`)},
	"RegisterTaskDefinition.volumes[].dockerVolumeConfiguration.driverOpts":           {op: "RegisterTaskDefinition", body: td("", `"volumes":[{"name":"v","dockerVolumeConfiguration":{"scope":"task","driver":"local","driverOpts":{"type":"tmpfs"}}}]`)},
	"RegisterTaskDefinition.volumes[].dockerVolumeConfiguration.labels":               {op: "RegisterTaskDefinition", body: td("", `"volumes":[{"name":"v","dockerVolumeConfiguration":{"scope":"task","labels":{"a":"b"}}}]`)},
	"RegisterTaskDefinition.volumes[].efsVolumeConfiguration.*":                       {op: "RegisterTaskDefinition", body: td("", `"volumes":[{"name":"v","efsVolumeConfiguration":{"fileSystemId":"fs-12345678"}}]`)},
	"RegisterTaskDefinition.volumes[].fsxWindowsFileServerVolumeConfiguration.*":      {op: "RegisterTaskDefinition", body: td("", `"volumes":[{"name":"v","fsxWindowsFileServerVolumeConfiguration":{"fileSystemId":"fs-1","rootDirectory":"share","authorizationConfig":{"credentialsParameter":"arn:aws:secretsmanager:us-east-1:123456789012:secret:x","domain":"corp"}}}]`)},
	"RegisterTaskDefinition.volumes[].s3filesVolumeConfiguration.*":                   {op: "RegisterTaskDefinition", body: td("", `"volumes":[{"name":"v","s3filesVolumeConfiguration":{"fileSystemArn":"arn:aws:s3files:us-east-1:123456789012:file-system/fs-1"}}]`)},
	"RegisterTaskDefinition.volumes[].configuredAtLaunch":                             {op: "RegisterTaskDefinition", body: td("", `"volumes":[{"name":"v","configuredAtLaunch":true}]`)},
	"RegisterTaskDefinition.containerDefinitions[].repositoryCredentials.*":           {op: "RegisterTaskDefinition", body: td(`"repositoryCredentials":{"credentialsParameter":"arn:aws:secretsmanager:us-east-1:123456789012:secret:r"}`, "")},
	"RegisterTaskDefinition.containerDefinitions[].links":                             {op: "RegisterTaskDefinition", body: `{"family":"probe","containerDefinitions":[{"name":"a","image":"b","memory":64,"links":["c:c"]},{"name":"c","image":"b","memory":64}]}`},
	"RegisterTaskDefinition.containerDefinitions[].portMappings[].containerPortRange": {op: "RegisterTaskDefinition", body: td(`"portMappings":[{"containerPortRange":"9000-9010"}]`, "")},
	"RegisterTaskDefinition.containerDefinitions[].restartPolicy.enabled":             {op: "RegisterTaskDefinition", body: td(`"restartPolicy":{"enabled":true}`, "")},
	"RegisterTaskDefinition.containerDefinitions[].environmentFiles.*":                {op: "RegisterTaskDefinition", body: td(`"environmentFiles":[{"value":"arn:aws:s3:::bucket/app.env","type":"s3"}]`, "")},
	"RegisterTaskDefinition.containerDefinitions[].linuxParameters.maxSwap":           {op: "RegisterTaskDefinition", body: td(`"linuxParameters":{"maxSwap":0}`, "")},
	"RegisterTaskDefinition.containerDefinitions[].linuxParameters.swappiness":        {op: "RegisterTaskDefinition", body: td(`"linuxParameters":{"swappiness":60}`, "")},
	"RegisterTaskDefinition.containerDefinitions[].disableNetworking":                 {op: "RegisterTaskDefinition", body: td(`"disableNetworking":true`, "")},
	"RegisterTaskDefinition.containerDefinitions[].interactive":                       {op: "RegisterTaskDefinition", body: td(`"interactive":true`, "")},
	"RegisterTaskDefinition.containerDefinitions[].pseudoTerminal":                    {op: "RegisterTaskDefinition", body: td(`"pseudoTerminal":true`, "")},
	"RegisterTaskDefinition.containerDefinitions[].resourceRequirements.*":            {op: "RegisterTaskDefinition", body: td(`"resourceRequirements":[{"type":"GPU","value":"1"}]`, "")},
	"RegisterTaskDefinition.containerDefinitions[].firelensConfiguration.*":           {op: "RegisterTaskDefinition", body: td(`"firelensConfiguration":{"type":"fluentbit"}`, "")},
	"RegisterTaskDefinition.containerDefinitions[].credentialSpecs":                   {op: "RegisterTaskDefinition", body: td(`"credentialSpecs":["credentialspecdomainless:arn:aws:s3:::bucket/spec.json"]`, "")},

	// RunTask and StartTask
	"RunTask.enableExecuteCommand":                                    {op: "RunTask", body: runBody + `"enableExecuteCommand":true}`, message: "enableExecuteCommand must be false"},
	"RunTask.referenceId":                                             {op: "RunTask", body: runBody + `"referenceId":"r-1"}`},
	"RunTask.volumeConfigurations.*":                                  {op: "RunTask", body: runBody + `"volumeConfigurations":[{"name":"v","managedEBSVolume":{"roleArn":"arn:aws:iam::123456789012:role/ebs","sizeInGiB":10}}]}`},
	"RunTask.overrides.ephemeralStorage.*":                            {op: "RunTask", body: runBody + `"overrides":{"ephemeralStorage":{"sizeInGiB":30}}}`},
	"RunTask.overrides.inferenceAcceleratorOverrides.*":               {op: "RunTask", body: runBody + `"overrides":{"inferenceAcceleratorOverrides":[{"deviceName":"d1","deviceType":"eia2.medium"}]}}`},
	"RunTask.overrides.containerOverrides[].environmentFiles.*":       {op: "RunTask", body: runBody + `"overrides":{"containerOverrides":[{"name":"web","environmentFiles":[{"value":"arn:aws:s3:::bucket/a.env","type":"s3"}]}]}}`},
	"RunTask.overrides.containerOverrides[].resourceRequirements.*":   {op: "RunTask", body: runBody + `"overrides":{"containerOverrides":[{"name":"web","resourceRequirements":[{"type":"GPU","value":"1"}]}]}}`},
	"StartTask.enableExecuteCommand":                                  {op: "StartTask", body: startBody + `"enableExecuteCommand":true}`, message: "enableExecuteCommand must be false"},
	"StartTask.referenceId":                                           {op: "StartTask", body: startBody + `"referenceId":"r-1"}`},
	"StartTask.volumeConfigurations.*":                                {op: "StartTask", body: startBody + `"volumeConfigurations":[{"name":"v","managedEBSVolume":{"roleArn":"arn:aws:iam::123456789012:role/ebs","sizeInGiB":10}}]}`},
	"StartTask.overrides.ephemeralStorage.*":                          {op: "StartTask", body: startBody + `"overrides":{"ephemeralStorage":{"sizeInGiB":30}}}`},
	"StartTask.overrides.inferenceAcceleratorOverrides.*":             {op: "StartTask", body: startBody + `"overrides":{"inferenceAcceleratorOverrides":[{"deviceName":"d1","deviceType":"eia2.medium"}]}}`},
	"StartTask.overrides.containerOverrides[].environmentFiles.*":     {op: "StartTask", body: startBody + `"overrides":{"containerOverrides":[{"name":"web","environmentFiles":[{"value":"arn:aws:s3:::bucket/a.env","type":"s3"}]}]}}`},
	"StartTask.overrides.containerOverrides[].resourceRequirements.*": {op: "StartTask", body: startBody + `"overrides":{"containerOverrides":[{"name":"web","resourceRequirements":[{"type":"GPU","value":"1"}]}]}}`},
	"SubmitTaskStateChange.attachments.*":                             {op: "SubmitTaskStateChange", body: `{"task":"0123456789abcdef0123456789abcdee","attachments":[{"attachmentArn":"arn:aws:ecs:us-east-1:123456789012:attachment/a","status":"ATTACHED"}]}`},
	"SubmitTaskStateChange.managedAgents.*":                           {op: "SubmitTaskStateChange", body: `{"task":"0123456789abcdef0123456789abcdee","managedAgents":[{"containerName":"web","managedAgentName":"ExecuteCommandAgent","status":"RUNNING"}]}`},

	// services
	"CreateService.enableExecuteCommand":                                                      {op: "CreateService", body: createSvc + `"enableExecuteCommand":true}`, message: "enableExecuteCommand must be false"},
	"CreateService.deploymentController.*":                                                    {op: "CreateService", body: createSvc + `"deploymentController":{"type":"CODE_DEPLOY"}}`, message: "ECS deployment controller only"},
	"CreateService.loadBalancers[].advancedConfiguration.*":                                   {op: "CreateService", body: createSvc + `"loadBalancers":[{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1","containerName":"web","containerPort":80,"advancedConfiguration":{"alternateTargetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/2"}}]}`, message: "advancedConfiguration"},
	"CreateService.loadBalancers[].loadBalancerName":                                          {op: "CreateService", body: createSvc + `"loadBalancers":[{"loadBalancerName":"classic","containerName":"web","containerPort":80}]}`, message: "Classic Load Balancers"},
	"CreateService.serviceConnectConfiguration.*":                                             {op: "CreateService", body: createSvc + `"serviceConnectConfiguration":{"enabled":true,"namespace":"ns"}}`, message: "Service Connect"},
	"CreateService.volumeConfigurations.*":                                                    {op: "CreateService", body: createSvc + `"volumeConfigurations":[{"name":"v"}]}`, message: "volume, VPC Lattice or gateway"},
	"CreateService.vpcLatticeConfigurations.*":                                                {op: "CreateService", body: createSvc + `"vpcLatticeConfigurations":[{"roleArn":"arn:aws:iam::123456789012:role/l","targetGroupArn":"arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-1","portName":"web"}]}`, message: "volume, VPC Lattice or gateway"},
	"CreateService.gatewayConnectors.*":                                                       {op: "CreateService", body: createSvc + `"gatewayConnectors":[{"portName":"web"}]}`, message: "volume, VPC Lattice or gateway"},
	"CreateService.availabilityZoneRebalancing":                                               {op: "CreateService", body: createSvc + `"availabilityZoneRebalancing":"ENABLED"}`},
	"CreateService.monitoring.*":                                                              {op: "CreateService", body: createSvc + `"monitoring":{"metricConfigurations":[{"metricNames":["CPUUtilization"],"resolutionSeconds":60}]}}`},
	"CreateService.deploymentConfiguration.strategy":                                          {op: "CreateService", body: createSvc + `"deploymentConfiguration":{"strategy":"BLUE_GREEN"}}`, message: "ROLLING deployment strategy only"},
	"CreateService.deploymentConfiguration.alarms.enable":                                     {op: "CreateService", body: createSvc + `"deploymentConfiguration":{"alarms":{"alarmNames":["a"],"enable":true,"rollback":false}}}`, message: "deployment alarms"},
	"CreateService.deploymentConfiguration.deploymentCircuitBreaker.resetOnHealthyTask":       {op: "CreateService", body: createSvc + `"deploymentConfiguration":{"deploymentCircuitBreaker":{"enable":true,"rollback":true,"resetOnHealthyTask":false}}}`},
	"CreateService.deploymentConfiguration.deploymentCircuitBreaker.thresholdConfiguration.*": {op: "CreateService", body: createSvc + `"deploymentConfiguration":{"deploymentCircuitBreaker":{"enable":true,"rollback":true,"thresholdConfiguration":{"type":"COUNT","value":5}}}}`},
	"CreateService.deploymentConfiguration.bakeTimeInMinutes":                                 {op: "CreateService", body: createSvc + `"deploymentConfiguration":{"bakeTimeInMinutes":5}}`},
	"CreateService.deploymentConfiguration.canaryConfiguration.*":                             {op: "CreateService", body: createSvc + `"deploymentConfiguration":{"canaryConfiguration":{"canaryPercent":10}}}`},
	"CreateService.deploymentConfiguration.linearConfiguration.*":                             {op: "CreateService", body: createSvc + `"deploymentConfiguration":{"linearConfiguration":{"stepPercent":10}}}`},
	"CreateService.deploymentConfiguration.lifecycleHooks.*":                                  {op: "CreateService", body: createSvc + `"deploymentConfiguration":{"lifecycleHooks":[{"hookTargetArn":"arn:aws:lambda:us-east-1:123456789012:function:f","lifecycleStages":["PRE_SCALE_UP"]}]}}`},
	"CreateService.deploymentConfiguration.earlySuccessCriteria.enable":                       {op: "CreateService", body: createSvc + `"deploymentConfiguration":{"earlySuccessCriteria":{"enable":true,"healthyPercent":50}}}`},
	"UpdateService.enableExecuteCommand":                                                      {op: "UpdateService", body: updateSvc + `"enableExecuteCommand":true}`, message: "enableExecuteCommand must be false"},
	"UpdateService.deploymentController.*":                                                    {op: "UpdateService", body: updateSvc + `"deploymentController":{"type":"ECS"}}`, message: "changing the deployment controller"},
	"UpdateService.capacityProviderStrategy.*":                                                {op: "UpdateService", body: updateSvc + `"capacityProviderStrategy":[{"capacityProvider":"FARGATE","weight":1}]}`, message: "capacity provider strategy yet"},
	"UpdateService.loadBalancers[].advancedConfiguration.*":                                   {op: "UpdateService", body: updateSvc + `"loadBalancers":[{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1","containerName":"web","containerPort":80,"advancedConfiguration":{"alternateTargetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/2"}}]}`, message: "advancedConfiguration"},
	"UpdateService.loadBalancers[].loadBalancerName":                                          {op: "UpdateService", body: updateSvc + `"loadBalancers":[{"loadBalancerName":"classic","containerName":"web","containerPort":80}]}`, message: "Classic Load Balancers"},
	"UpdateService.serviceConnectConfiguration.*":                                             {op: "UpdateService", body: updateSvc + `"serviceConnectConfiguration":{"enabled":true,"namespace":"ns"}}`, message: "Service Connect"},
	"UpdateService.volumeConfigurations.*":                                                    {op: "UpdateService", body: updateSvc + `"volumeConfigurations":[{"name":"v"}]}`, message: "volume, VPC Lattice or gateway"},
	"UpdateService.vpcLatticeConfigurations.*":                                                {op: "UpdateService", body: updateSvc + `"vpcLatticeConfigurations":[{"roleArn":"arn:aws:iam::123456789012:role/l","targetGroupArn":"arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-1","portName":"web"}]}`, message: "volume, VPC Lattice or gateway"},
	"UpdateService.gatewayConnectors.*":                                                       {op: "UpdateService", body: updateSvc + `"gatewayConnectors":[{"portName":"web"}]}`, message: "volume, VPC Lattice or gateway"},
	"UpdateService.availabilityZoneRebalancing":                                               {op: "UpdateService", body: updateSvc + `"availabilityZoneRebalancing":"ENABLED"}`},
	"UpdateService.monitoring.*":                                                              {op: "UpdateService", body: updateSvc + `"monitoring":{"metricConfigurations":[{"metricNames":["CPUUtilization"],"resolutionSeconds":60}]}}`},
	"UpdateService.deploymentConfiguration.strategy":                                          {op: "UpdateService", body: updateSvc + `"deploymentConfiguration":{"strategy":"LINEAR"}}`, message: "ROLLING deployment strategy only"},
	"UpdateService.deploymentConfiguration.alarms.enable":                                     {op: "UpdateService", body: updateSvc + `"deploymentConfiguration":{"alarms":{"alarmNames":["a"],"enable":true,"rollback":false}}}`, message: "deployment alarms"},
	"UpdateService.deploymentConfiguration.deploymentCircuitBreaker.resetOnHealthyTask":       {op: "UpdateService", body: updateSvc + `"deploymentConfiguration":{"deploymentCircuitBreaker":{"enable":true,"rollback":true,"resetOnHealthyTask":false}}}`},
	"UpdateService.deploymentConfiguration.deploymentCircuitBreaker.thresholdConfiguration.*": {op: "UpdateService", body: updateSvc + `"deploymentConfiguration":{"deploymentCircuitBreaker":{"enable":true,"rollback":true,"thresholdConfiguration":{"type":"PERCENTAGE","value":10}}}}`},
	"UpdateService.deploymentConfiguration.bakeTimeInMinutes":                                 {op: "UpdateService", body: updateSvc + `"deploymentConfiguration":{"bakeTimeInMinutes":5}}`},
	"UpdateService.deploymentConfiguration.canaryConfiguration.*":                             {op: "UpdateService", body: updateSvc + `"deploymentConfiguration":{"canaryConfiguration":{"canaryBakeTimeInMinutes":5}}}`},
	"UpdateService.deploymentConfiguration.linearConfiguration.*":                             {op: "UpdateService", body: updateSvc + `"deploymentConfiguration":{"linearConfiguration":{"stepBakeTimeInMinutes":5}}}`},
	"UpdateService.deploymentConfiguration.lifecycleHooks.*":                                  {op: "UpdateService", body: updateSvc + `"deploymentConfiguration":{"lifecycleHooks":[{"hookTargetArn":"arn:aws:lambda:us-east-1:123456789012:function:f","lifecycleStages":["PRE_SCALE_UP"]}]}}`},
	"UpdateService.deploymentConfiguration.earlySuccessCriteria.enable":                       {op: "UpdateService", body: updateSvc + `"deploymentConfiguration":{"earlySuccessCriteria":{"enable":true}}}`},
}

// newFieldsAPI is an API on the fuzz state (clusters, task definition
// "app" with containers web and side, a container instance) plus service
// "web" in cluster default.
func newFieldsAPI(t *testing.T) (*fsm.Machine, interface {
	ServeHTTP(http.ResponseWriter, *http.Request)
}) {
	t.Helper()
	m := fsm.New(fuzzNamer, slog.New(slog.DiscardHandler))
	if err := m.Restore(bytes.NewReader(fuzzState(t))); err != nil {
		t.Fatal(err)
	}
	api := newFuzzAPI(m)
	if rec := serve(api, "CreateService", []byte(`{"serviceName":"web","taskDefinition":"app","desiredCount":0}`)); rec.Code != http.StatusOK {
		t.Fatalf("setup: %d %s", rec.Code, rec.Body)
	}
	return m, api
}

// TestRefusedMembersAreRefused sends every member fields.txt classifies as
// refused through the API handler and checks the error, and that nothing
// was written.
func TestRefusedMembersAreRefused(t *testing.T) {
	m, api := newFieldsAPI(t)
	before := persist(t, m)
	for _, c := range readFieldClasses(t) {
		r, ok := refusals[c.path]
		if c.class != "refused" {
			if ok {
				t.Errorf("refusals has a request for %s, which fields.txt:%d classifies as %s", c.path, c.line, c.class)
			}
			continue
		}
		if !ok {
			t.Errorf("fields.txt:%d: %s is refused, but refusals has no request that sets it", c.line, c.path)
			continue
		}
		if op, _, _ := strings.Cut(c.path, "."); op != r.op {
			t.Errorf("refusals[%s] calls %s", c.path, r.op)
		}
		code, message := r.code, r.message
		if code == "" {
			code = "UnsupportedFeatureException"
		}
		if message == "" {
			member := strings.TrimSuffix(c.path[strings.Index(c.path, ".")+1:], ".*")
			message = "berth does not support " + member + " yet."
		}
		rec := serve(api, r.op, []byte(r.body))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"`+code+`"`) || !strings.Contains(rec.Body.String(), message) {
			t.Errorf("%s: got %d %s, want 400 %s %q", c.path, rec.Code, rec.Body, code, message)
		}
	}
	for p := range refusals {
		if readFieldClasses(t)[p] == nil {
			t.Errorf("refusals has a request for %s, which fields.txt does not name", p)
		}
	}
	if !bytes.Equal(before, persist(t, m)) {
		t.Error("a refused request changed the state")
	}
}

// TestRefusedMembersAcceptDefaults sends the refused members at their
// defaults (false, empty lists, DISABLED, 0, ...), as Terraform and
// DescribeTaskDefinition outputs carry them: they are accepted.
func TestRefusedMembersAcceptDefaults(t *testing.T) {
	_, api := newFieldsAPI(t)
	for _, tc := range []struct{ op, body string }{
		{"RegisterTaskDefinition", td(`"links":[],"systemControls":[],"credentialSpecs":[],"dockerSecurityOptions":[],"environmentFiles":[],`+
			`"resourceRequirements":[],"disableNetworking":false,"interactive":false,"pseudoTerminal":false,"restartPolicy":{"enabled":false},`+
			`"linuxParameters":{"devices":[],"tmpfs":[],"initProcessEnabled":true},"portMappings":[{"containerPort":80}]`,
			`"enableFaultInjection":false,"inferenceAccelerators":[],"volumes":[{"name":"v","dockerVolumeConfiguration":{"scope":"shared","autoprovision":true,"driver":"local","driverOpts":{},"labels":{}}}]`)},
		{"RunTask", runBody + `"overrides":{"containerOverrides":[{"name":"web","environmentFiles":[],"resourceRequirements":[]}],"inferenceAcceleratorOverrides":[]},"volumeConfigurations":[]}`},
		{"CreateService", createSvc + `"availabilityZoneRebalancing":"DISABLED","monitoring":{"metricConfigurations":[]},"deploymentConfiguration":{"bakeTimeInMinutes":0,` +
			`"deploymentCircuitBreaker":{"enable":true,"rollback":true,"resetOnHealthyTask":true},"lifecycleHooks":[],"earlySuccessCriteria":{"enable":false},` +
			`"alarms":{"alarmNames":[],"enable":false,"rollback":false}}}`},
		{"UpdateService", updateSvc + `"availabilityZoneRebalancing":"DISABLED","deploymentConfiguration":{"bakeTimeInMinutes":0,"deploymentCircuitBreaker":{"enable":false,"rollback":false,"resetOnHealthyTask":true}}}`},
	} {
		if rec := serve(api, tc.op, []byte(tc.body)); rec.Code != http.StatusOK {
			t.Errorf("%s with defaults: got %d %s, want 200", tc.op, rec.Code, rec.Body)
		}
	}
}

// ListTasks' daemonName and ListServices' resourceManagementType ECS match
// nothing of berth's: it has no daemons, and its services are all the
// customer's.
func TestFiltersBerthHasNothingFor(t *testing.T) {
	m, api := newFieldsAPI(t)
	p := &machineProposer{m: m, index: 1 << 20}
	if _, err := p.Apply(context.Background(), wire.InstanceConnection{Meta: wire.Meta{Now: fuzzNow}, InstanceID: instanceID, Session: "s", Connected: true}); err != nil {
		t.Fatal(err)
	}
	if rec := serve(api, "RegisterTaskDefinition", []byte(td("", ""))); rec.Code != http.StatusOK {
		t.Fatalf("setup: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(api, "RunTask", []byte(`{"taskDefinition":"probe"}`)); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"taskArn"`) {
		t.Fatalf("setup: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct {
		op, body string
		some     bool
	}{
		{"ListTasks", `{}`, true},
		{"ListTasks", `{"daemonName":"d"}`, false},
		{"ListServices", `{}`, true},
		{"ListServices", `{"resourceManagementType":"CUSTOMER"}`, true},
		{"ListServices", `{"resourceManagementType":"ECS"}`, false},
	} {
		rec := serve(api, tc.op, []byte(tc.body))
		some := strings.Contains(rec.Body.String(), `"arn:`)
		if rec.Code != http.StatusOK || some != tc.some {
			t.Errorf("%s %s: got %d %s, want ARNs: %v", tc.op, tc.body, rec.Code, rec.Body, tc.some)
		}
	}
}
