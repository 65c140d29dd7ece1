package fsm_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/elb"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
)

var update = flag.Bool("update", false, "rewrite the golden entries and dumps of the current versions")

func p[T any](v T) *T { return &v }

// at is the golden story's clock: second n after epoch.
func at(n int) wire.Meta {
	return wire.Meta{Now: epoch.Add(time.Duration(n) * time.Second), Principal: "arn:aws:iam::123456789012:root"}
}

// story is one command of every type at its current version, in an order
// that makes each meaningful: the golden entries are their encodings
// (testdata/entries/NN-Name.vV.json), and replaying them gives the golden
// dump (testdata/entries.dump).
func story() []wire.Command {
	const inst, task, svc = "0f6e5d4c3b2a19080f6e5d4c3b2a1908", "9a8b7c6d5e4f30211a2b3c4d5e6f7081", "web"
	resources := []shape.Resource{
		{Name: p("CPU"), Type: p("INTEGER"), IntegerValue: 2048},
		{Name: p("MEMORY"), Type: p("INTEGER"), IntegerValue: 4096},
		{Name: p("PORTS"), Type: p("STRINGSET"), StringSetValue: []string{"22", "2375"}},
	}
	def := &shape.TaskDefinition{Family: p("web"), NetworkMode: shape.NetworkModeBridge,
		Compatibilities: []shape.Compatibility{shape.CompatibilityExternal, shape.CompatibilityEc2},
		ContainerDefinitions: []shape.ContainerDefinition{{Name: p("app"), Image: p("berth-demo:1"), Memory: p(int32(128)), Cpu: 256,
			Essential: p(true), PortMappings: []shape.PortMapping{{ContainerPort: p(int32(8080)), HostPort: p(int32(8080)), Protocol: shape.TransportProtocolTcp}}}}}
	started := time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	deployment := wire.Deployment{ID: "ecs-svc/1111", Status: "PRIMARY", TaskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
		DesiredCount: 1, PendingCount: 1, RolloutState: "IN_PROGRESS", RolloutStateReason: "ECS deployment ecs-svc/1111 in progress.",
		CreatedAt: epoch.Add(25 * time.Second), UpdatedAt: epoch.Add(26 * time.Second), ReachedRunning: true,
		LastFailureAt: epoch.Add(26 * time.Second), LaunchFailures: 1, LastLaunchFailureAt: epoch.Add(26 * time.Second),
		Counted: []string{"0123456789abcdef0123456789abcdef"}}
	failure := &wire.PlacementFailure{At: epoch.Add(27 * time.Second), Reason: "RESOURCE:PORTS", InstanceID: inst, ClusterVersion: 42}
	return append([]wire.Command{
		wire.CreateCluster{Meta: at(1), Name: "prod", Tags: []shape.Tag{{Key: p("team"), Value: p("a")}},
			Settings: []shape.ClusterSetting{{Name: shape.ClusterSettingNameContainerInsights, Value: p("enabled")}}},
		wire.UpdateCluster{Meta: at(2), Name: "prod", Settings: []shape.ClusterSetting{{Name: shape.ClusterSettingNameContainerInsights, Value: p("disabled")}}},
		wire.PutClusterCapacityProviders{Meta: at(3), Name: "prod", CapacityProviders: []string{"FARGATE"},
			Strategy: []shape.CapacityProviderStrategyItem{{CapacityProvider: p("FARGATE"), Weight: 1, Base: 0}}},
		wire.RegisterTaskDefinition{Meta: at(5), Def: def, Tags: []shape.Tag{{Key: p("app"), Value: p("web")}}},
		wire.RegisterContainerInstance{Meta: at(8), Cluster: "prod", NewID: inst, EC2InstanceID: "i-0123456789abcdef0", TotalResources: resources,
			VersionInfo: &shape.VersionInfo{AgentVersion: p("1.0.0"), DockerVersion: p("process")},
			Attributes:  []shape.Attribute{{Name: p("ecs.availability-zone"), Value: p("us-east-1a")}, {Name: p("tier"), Value: p("web")}},
			TaskRange:   "10.200.0.0/16", TaskSubnetBits: 24},
		wire.InstanceConnection{Meta: wire.Meta{Now: epoch.Add(9 * time.Second)}, InstanceID: inst, Session: "0a1b2c3d4e5f-0011223344556677", Connected: true},
		wire.PutAttributes{Meta: at(11), Cluster: "prod", Attributes: []wire.AttributeChange{{Name: "stack", Value: p("blue"), TargetID: inst, Target: inst}}},
		wire.DeleteAttributes{Meta: at(12), Cluster: "prod", Attributes: []wire.AttributeChange{{Name: "stack", TargetID: inst, Target: inst}}},
		wire.TagResource{Meta: at(13), Resource: wire.ResourceRef{ARN: "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/" + inst, Kind: "container-instance", Cluster: "prod", ID: inst},
			Tags: []shape.Tag{{Key: p("rack"), Value: p("r1")}, {Key: p("owner"), Value: p("ops")}}},
		wire.UntagResource{Meta: at(14), Resource: wire.ResourceRef{ARN: "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/" + inst, Kind: "container-instance", Cluster: "prod", ID: inst},
			Keys: []string{"owner"}},
		wire.PutAccountSetting{Meta: at(15), Principal: "arn:aws:iam::123456789012:root", Name: "containerInsights", Value: "enabled"},
		wire.DeleteAccountSetting{Meta: at(16), Principal: "arn:aws:iam::123456789012:root", Name: "containerInsights"},
		wire.RunTask{Meta: at(17), Cluster: "prod", Family: "web", Revision: 1, Group: "family:web", StartedBy: "ci",
			Tasks:       []wire.NewTask{{ID: task, InstanceID: inst, ContainerIDs: []string{"5c1e6c0e-8f2d-4f6a-9d3e-0a1b2c3d4e5f"}}},
			Overrides:   &shape.TaskOverride{ContainerOverrides: []shape.ContainerOverride{{Name: p("app"), Environment: []shape.KeyValuePair{{Name: p("MODE"), Value: p("blue")}}}}},
			Tags:        []shape.Tag{{Key: p("run"), Value: p("1")}},
			Reserved:    wire.Reservation{CPU: 256, Memory: 128, TCPPorts: []int{8080}},
			ClientToken: "golden-token", Fingerprint: "c0ffee",
			Failures: []shape.Failure{{Arn: p("arn:aws:ecs:us-east-1:123456789012:container-instance/prod/ffff"), Reason: p("RESOURCE:MEMORY")}}},
		wire.TaskStateChange{Meta: at(19), Cluster: "prod", TaskID: task, Status: "RUNNING",
			Containers: []shape.ContainerStateChange{{ContainerName: p("app"), RuntimeId: p("c0ntainer"), Status: p("RUNNING"),
				NetworkBindings: []shape.NetworkBinding{{BindIP: p("0.0.0.0"), ContainerPort: p(int32(8080)), HostPort: p(int32(8080)), Protocol: shape.TransportProtocolTcp}}}},
			PullStartedAt: shape.NewTimestamp(epoch.Add(18 * time.Second)), PullStoppedAt: shape.NewTimestamp(epoch.Add(18 * time.Second))},
		wire.ContainerStateChange{Meta: at(20), Cluster: "prod", TaskID: task,
			Change: shape.ContainerStateChange{ContainerName: p("app"), RuntimeId: p("c0ntainer"), Status: p("RUNNING"), Reason: p("started")}},
		wire.TaskHealth{Meta: at(21), Cluster: "prod", TaskID: task, Health: map[string]string{"app": "HEALTHY"}},
		wire.CreateService{Meta: at(25), Cluster: "prod", Name: svc, Family: "web", Revision: 1, DeploymentID: "ecs-svc/1111", Fingerprint: "feed",
			Shape: &shape.Service{DesiredCount: 1, SchedulingStrategy: shape.SchedulingStrategyReplica, LaunchType: shape.LaunchTypeEc2,
				DeploymentConfiguration: &shape.DeploymentConfiguration{MinimumHealthyPercent: p(int32(100)), MaximumPercent: p(int32(200)),
					DeploymentCircuitBreaker: &shape.DeploymentCircuitBreaker{Enable: true, Rollback: true}},
				Tags: []shape.Tag{{Key: p("svc"), Value: p("web")}}}},
		wire.ServiceRound{Meta: wire.Meta{Now: epoch.Add(26 * time.Second)}, Cluster: "prod", Name: svc, Generation: 1,
			Lost:        []wire.TaskStop{{TaskID: "ffffffffffffffffffffffffffffffff", StopCode: "TerminationNotice", Reason: "host lost"}},
			Stops:       []wire.TaskStop{{TaskID: task, StopCode: "ServiceSchedulerInitiated", Reason: "Scaling activity initiated by (deployment ecs-svc/1111)"}},
			Deployments: []wire.Deployment{deployment}, LastCompleted: &deployment, DesiredCount: 1,
			Events: []string{"(service web) has reached a steady state."}},
		wire.ServicePlacement{Meta: wire.Meta{Now: epoch.Add(27 * time.Second)}, Cluster: "prod", Name: svc, Generation: 1,
			Deployment: "ecs-svc/1111", Failure: failure, Event: "(service web) was unable to place a task."},
		wire.UpdateService{Meta: at(30), Cluster: "prod", Name: svc, DesiredCount: p(int32(2)), HealthCheckGracePeriod: p(int32(30)),
			ForceNewDeployment: true, DeploymentID: "ecs-svc/2222",
			LoadBalancers: &[]shape.LoadBalancer{{TargetGroupArn: p("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"),
				ContainerName: p("web"), ContainerPort: p(int32(8080))}}},
		wire.StopTask{Meta: at(31), Cluster: "prod", TaskID: task, StopCode: "UserInitiated", Reason: "Task stopped by user"},
		wire.UpdateContainerInstancesState{Meta: at(32), Cluster: "prod", Refs: []wire.InstanceRef{{Input: inst, ID: inst}, {Input: "missing", ID: "missing"}}, Status: "DRAINING"},
		wire.DeleteService{Meta: at(33), Cluster: "prod", Name: svc, Force: true},
		wire.DeregisterTaskDefinition{Meta: at(34), Family: "web", Revision: 1},
		wire.DeleteTaskDefinitions{Meta: at(35), Refs: []wire.TaskDefinitionRef{{Input: "web:1", Family: "web", Revision: 1}}},
		wire.ResetConnections{Meta: wire.Meta{Now: started}, Except: "feedfacecafe-"},
		wire.CollectGarbage{Meta: wire.Meta{Now: epoch.Add(2 * time.Hour)}, TasksBefore: epoch.Add(time.Hour)},
		wire.DeregisterContainerInstance{Meta: at(7300), Cluster: "prod", ID: inst, Force: true},
		wire.DeleteCluster{Meta: at(7301), Name: "prod"},
		wire.ImportCertificate{Meta: at(7310), ARN: goldenCert, Certificate: "-----BEGIN CERTIFICATE-----\nMIIBgoldenleaf\n-----END CERTIFICATE-----\n",
			Chain: "-----BEGIN CERTIFICATE-----\nMIIBgoldenca\n-----END CERTIFICATE-----\n", SealedKey: []byte("\x01\x10sealed-key-bytes"),
			NotAfter: epoch.Add(365 * 24 * time.Hour), Tags: []wire.ACMTag{{Key: "env", Value: p("prod")}, {Key: "team"}}},
		wire.AddCertificateTags{Meta: at(7311), ARN: goldenCert, Tags: []wire.ACMTag{{Key: "owner", Value: p("ops")}}},
		wire.RemoveCertificateTags{Meta: at(7312), ARN: goldenCert, Tags: []wire.ACMTag{{Key: "team"}}},
		wire.DeleteCertificate{Meta: at(7313), ARN: goldenCert},
	}, slices.Concat(elbStory(), sdStory(), smStory(), ssmStory(), iamStory(), iamPolicyStory(), smPolicyStory())...)
}

// ssmStory is the SSM Parameter Store part of the golden story (one
// command of each type): it leaves a SecureString parameter (sealed bytes
// only) with a label and a tag.
func ssmStory() []wire.Command {
	return []wire.Command{
		wire.PutParameter{Meta: at(7400), Name: "/app/secret", Value: wire.SSMParameterVersion{Version: 1, Type: "SecureString",
			Sealed: []byte("\x01\x10sealed-value"), Description: "db", KeyID: "alias/aws/ssm", Tier: "Standard", DataType: "text"},
			Tags: []wire.SSMTag{{Key: "env", Value: "prod"}}},
		wire.LabelParameterVersion{Meta: at(7401), Name: "/app/secret", ParameterVersion: 1, Labels: []string{"stable", "old"}},
		wire.UnlabelParameterVersion{Meta: at(7402), Name: "/app/secret", ParameterVersion: 1, Labels: []string{"old", "missing"}},
		wire.AddParameterTags{Meta: at(7403), Name: "/app/secret", Tags: []wire.SSMTag{{Key: "team", Value: "a"}, {Key: "x", Value: "y"}}},
		wire.RemoveParameterTags{Meta: at(7404), Name: "/app/secret", Keys: []string{"x"}},
		wire.DeleteParameters{Meta: at(7405), Names: []string{"/app/gone", "/app/gone"}},
	}
}

// iamStory is the IAM part of the golden story: it leaves one role with
// an inline policy, an attached policy and a tag (the delete names a role
// that does not exist: a refused command).
func iamStory() []wire.Command {
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	app := wire.IAMRole{Name: "app", ID: "AROAGOLDENAPP0000001", ARN: "arn:aws:iam::123456789012:role/svc/app", Path: "/svc/",
		AssumeRolePolicy: trust, Description: "the app", MaxSessionDuration: 3600, CreatedAt: epoch.Add(7500 * time.Second)}
	updated := app
	updated.Tags = []wire.IAMTag{{Key: "team", Value: "a"}}
	updated.Inline = []wire.IAMInlinePolicy{{Name: "read", Document: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`}}
	updated.Attached = []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}
	return []wire.Command{
		wire.CreateIAMRole{Meta: at(7500), Role: app},
		wire.UpdateIAMRole{Meta: at(7502), Base: 1, Role: updated},
		wire.DeleteIAMRole{Meta: at(7503), Name: "GONE"},
		wire.IssueSTSCredentials{Meta: at(7506), Credential: wire.STSCredential{AccessKeyID: "ASIAGOLDENNEW0000001", SealedSecret: []byte("\x01\x10sealed-new"),
			TokenHash: []byte("fedcba9876543210fedcba9876543210"), Expiration: epoch.Add(11106 * time.Second),
			Principal: "arn:aws:sts::123456789012:assumed-role/app/new", UserID: "AROAGOLDENAPP0000001:new", RoleARN: "arn:aws:iam::123456789012:role/svc/app",
			Policy: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, Tags: []wire.IAMTag{{Key: "k", Value: "v"}}}},
	}
}

// iamPolicyStory is the IAM managed policy part of the golden story: it
// leaves one tagged policy with two versions (its delete is refused: a
// policy with non-default versions cannot be deleted).
func iamPolicyStory() []wire.Command {
	const arn = "arn:aws:iam::123456789012:policy/svc/read"
	v1 := wire.IAMPolicyVersion{ID: "v1", Document: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`,
		CreatedAt: epoch.Add(7600 * time.Second)}
	read := wire.IAMPolicy{Name: "read", ID: "ANPAGOLDENREAD000001", ARN: arn, Path: "/svc/", Description: "reads",
		CreatedAt: v1.CreatedAt, UpdatedAt: v1.CreatedAt, DefaultVersion: "v1", NextVersion: 2, Versions: []wire.IAMPolicyVersion{v1}}
	updated := read
	v2 := wire.IAMPolicyVersion{ID: "v2", Document: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`,
		CreatedAt: epoch.Add(7601 * time.Second)}
	updated.Versions = []wire.IAMPolicyVersion{v1, v2}
	updated.DefaultVersion, updated.NextVersion, updated.UpdatedAt = "v2", 3, v2.CreatedAt
	updated.Tags = []wire.IAMTag{{Key: "team", Value: "a"}}
	return []wire.Command{
		wire.CreateIAMPolicy{Meta: at(7600), Policy: read},
		wire.UpdateIAMPolicy{Meta: at(7601), Base: 1, Policy: updated},
		wire.DeleteIAMPolicy{Meta: at(7602), ARN: arn},
	}
}

// elbStory is the ELBv2 part of the golden story: it leaves a load
// balancer with a listener, a rule and a target group with targets.
func elbStory() []wire.Command {
	const lbID, lb2ID, tgID, lID, defID, ruleID = "0123456789abcdef", "fedcba9876543210", "1111222233334444", "5555666677778888", "9999aaaabbbbcccc", "ddddeeeeffff0000"
	lbARN := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/" + lbID
	tgARN := "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/" + tgID
	lARN := "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/" + lbID + "/" + lID
	ruleARN := "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/" + lbID + "/" + lID + "/" + ruleID
	forward := []elb.Action{{Type: "forward", TargetGroupArn: tgARN}}
	return []wire.Command{
		wire.CreateLoadBalancer{Meta: at(7400), ID: lbID, Name: "web", LBType: "application", Scheme: "internet-facing", IPAddressType: "ipv4",
			Subnets: []string{"subnet-a", "subnet-b"}, SecurityGroups: []string{"sg-1"}, Address: "127.0.1.1", Tags: []elb.Tag{{Key: "env", Value: p("prod")}}},
		wire.LoadBalancerActive{Meta: at(7401), ARN: lbARN},
		wire.ModifyLoadBalancer{Meta: at(7402), ARN: lbARN, Attributes: map[string]string{"access_logs.s3.enabled": "false", "idle_timeout.timeout_seconds": "120"}},
		wire.CreateTargetGroup{Meta: at(7403), ID: tgID, Name: "web", Protocol: "HTTP", ProtocolVersion: "HTTP1", Port: 8080, VpcID: "vpc-1", TargetType: "ip",
			IPAddressType: "ipv4", HealthCheck: elb.DefaultHealthCheck("HTTP", "HTTP1")},
		wire.ModifyTargetGroup{Meta: at(7404), ARN: tgARN, Attributes: map[string]string{"deregistration_delay.timeout_seconds": "30"}},
		wire.RegisterTargets{Meta: at(7405), ARN: tgARN, Targets: []elb.Target{{ID: "127.0.0.1", Port: 8080}, {ID: "127.0.0.2", Port: 8081}}},
		wire.DeregisterTargets{Meta: at(7406), ARN: tgARN, Targets: []elb.Target{{ID: "127.0.0.2"}}},
		wire.CreateListener{Meta: at(7407), ID: lID, RuleID: defID, LoadBalancerARN: lbARN, Port: 80, Protocol: "HTTP", DefaultActions: forward},
		wire.ModifyListener{Meta: at(7408), ARN: lARN, DefaultActions: []elb.Action{{Type: "fixed-response", FixedResponse: &elb.FixedResponseConfig{StatusCode: "404"}}}},
		wire.CreateRule{Meta: at(7409), ID: ruleID, ListenerARN: lARN, Priority: 10,
			Conditions: []elb.RuleCondition{{Field: "path-pattern", Values: []string{"/api/*"}}}, Actions: forward},
		wire.ModifyRule{Meta: at(7410), ARN: ruleARN, Conditions: []elb.RuleCondition{{Field: "host-header", HostHeaderConfig: &elb.Values{Values: []string{"api.example.com"}}}}},
		wire.SetRulePriorities{Meta: at(7411), Priorities: []wire.RulePriority{{ARN: ruleARN, Priority: 5}}},
		wire.AddELBTags{Meta: at(7412), ARNs: []string{tgARN, ruleARN}, Tags: []elb.Tag{{Key: "team", Value: p("a")}, {Key: "tmp", Value: p("")}}},
		wire.RemoveELBTags{Meta: at(7413), ARNs: []string{tgARN}, Keys: []string{"tmp"}},
		wire.DeleteTargetGroup{Meta: at(7414), ARN: tgARN}, // in use: ResourceInUse
		wire.DeleteRule{Meta: at(7415), ARN: ruleARN},
		wire.DeleteListener{Meta: at(7416), ARN: lARN + "0"},                                                                               // missing: ListenerNotFound
		wire.DeleteLoadBalancer{Meta: at(7417), ARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/edge/" + lb2ID}, // missing: no error
	}
}

// sdStory is the Cloud Map part of the golden story: it leaves a private
// DNS namespace with a service, one registered instance and operations.
func sdStory() []wire.Command {
	const nsID, svcID = "ns-ylexjili4cdxy3xm", "srv-p5zdwlg5uvvzjita"
	nsARN := "arn:aws:servicediscovery:us-east-1:123456789012:namespace/" + nsID
	svcARN := "arn:aws:servicediscovery:us-east-1:123456789012:service/" + svcID
	op := func(n int) wire.SDOp {
		return wire.SDOp{OperationID: fmt.Sprintf("gv4g5meo7ndmeh4fqskygvk23d2fij%02d-k9302yzd", n)}
	}
	return []wire.Command{
		wire.CreateSDNamespace{Meta: at(7500), SDOp: op(1), ID: nsID, ARN: nsARN, Name: "example.local", NamespaceType: "DNS_PRIVATE",
			Description: "private", Vpc: "vpc-1", SOATTL: p(int64(15)), CreatorRequestID: "req-1", Tags: []wire.SDTag{{Key: "env", Value: "prod"}}},
		wire.UpdateSDNamespace{Meta: at(7501), SDOp: op(2), ID: nsID, Description: p("private zone"), SOATTL: p(int64(30))},
		wire.CreateSDService{Meta: at(7504), ID: svcID, ARN: svcARN, Name: "web", NamespaceID: nsID, CreatorRequestID: "req-2",
			DNS:          &wire.SDDNSConfig{RoutingPolicy: "MULTIVALUE", Records: []wire.SDDNSRecord{{Type: "A", TTL: 60}, {Type: "SRV", TTL: 60}}},
			CustomHealth: p(int32(1)), Tags: []wire.SDTag{{Key: "team", Value: "a"}}},
		wire.UpdateSDService{Meta: at(7505), SDOp: op(5), ID: svcID, Description: p("web tier"), Records: []wire.SDDNSRecord{{Type: "A", TTL: 10}, {Type: "SRV", TTL: 10}}},
		wire.UpdateSDServiceAttributes{Meta: at(7506), ID: svcID, Attributes: map[string]string{"tier": "front", "tmp": "x"}},
		wire.DeleteSDServiceAttributes{Meta: at(7507), ID: svcID, Keys: []string{"tmp"}},
		wire.RegisterSDInstance{Meta: at(7508), SDOp: op(6), ServiceID: svcID, ID: "i-1", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "80"},
			TaskARN: "arn:aws:ecs:us-east-1:123456789012:task/prod/9a8b7c6d5e4f30211a2b3c4d5e6f7081", ECSServiceARN: "arn:aws:ecs:us-east-1:123456789012:service/prod/web"},
		wire.DeregisterSDInstance{Meta: at(7510), SDOp: op(8), ServiceID: svcID, ID: "i-2"}, // missing: InstanceNotFound
		wire.UpdateSDInstanceHealth{Meta: at(7511), ServiceID: svcID, ID: "i-1", Status: "UNHEALTHY"},
		wire.TagSDResource{Meta: at(7512), ARN: svcARN, Tags: []wire.SDTag{{Key: "owner", Value: "ops"}}},
		wire.UntagSDResource{Meta: at(7513), ARN: svcARN, Keys: []string{"team"}},
		wire.DeleteSDService{Meta: at(7514), ID: svcID},               // in use: ResourceInUse
		wire.DeleteSDNamespace{Meta: at(7515), SDOp: op(9), ID: nsID}, // in use: ResourceInUse
	}
}

// smPolicyStory gives the golden story's secret a resource policy.
func smPolicyStory() []wire.Command {
	return []wire.Command{
		wire.PutSecretResourcePolicy{Meta: at(7700), ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
			Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`},
	}
}

// smStory is the Secrets Manager part of the golden story: it leaves a
// secret with two versions (AWSCURRENT, AWSPREVIOUS and a custom label)
// deleted and restored. The values are stand-ins for sealed bytes.
func smStory() []wire.Command {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"
	v1 := wire.SMVersion{ID: "11111111-2222-4333-8444-555555555555", Sealed: []byte("\x01\x10sealed-v1"), CreatedAt: epoch.Add(7600 * time.Second)}
	v2 := wire.SMVersion{ID: "66666666-7777-4888-9999-000000000000", Sealed: []byte("\x01\x10sealed-v2"), Binary: true, CreatedAt: epoch.Add(7601 * time.Second)}
	return []wire.Command{
		wire.CreateSecret{Meta: at(7600), ARN: arn, Name: "prod/db", Description: p("database"), KmsKeyID: p("alias/berth"),
			Tags: []wire.SMTag{{Key: "env", Value: "prod"}, {Key: "team", Value: "a"}}, NewVersion: &v1},
		wire.PutSecretValue{Meta: at(7601), ARN: arn, NewVersion: v2},
		wire.UpdateSecret{Meta: at(7602), ARN: arn, Description: p("primary database")},
		wire.UpdateSecretVersionStage{Meta: at(7603), ARN: arn, Stage: "blue", MoveTo: v1.ID},
		wire.TagSecret{Meta: at(7604), ARN: arn, Tags: []wire.SMTag{{Key: "owner", Value: "ops"}}},
		wire.UntagSecret{Meta: at(7605), ARN: arn, Keys: []string{"team"}},
		wire.DeleteSecret{Meta: at(7606), ARN: arn, DeleteAfter: epoch.Add(7606*time.Second + 7*24*time.Hour)},
		wire.RestoreSecret{Meta: at(7607), ARN: arn},
	}
}

// goldenCert is the ARN of the golden story's certificate.
const goldenCert = "arn:aws:acm:us-east-1:123456789012:certificate/6f1d2c3b-4a59-4e8f-9a0b-1c2d3e4f5a6b"

var entryName = regexp.MustCompile(`^(\d+)-(\w+)\.v(\d+)\.json$`)

// goldenEntry is one file of testdata/entries.
type goldenEntry struct {
	file    string
	typ     wire.Type
	version uint8
	payload []byte
}

func (g goldenEntry) bytes() []byte { return append([]byte{byte(g.typ), g.version}, g.payload...) }

func readEntries(t *testing.T) []goldenEntry {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "entries", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []goldenEntry
	for _, path := range paths {
		m := entryName.FindStringSubmatch(filepath.Base(path))
		if m == nil {
			t.Fatalf("%s: not NN-Name.vV.json", path)
		}
		n, _ := strconv.Atoi(m[1])
		v, _ := strconv.Atoi(m[3])
		typ := wire.Type(n)
		if typ.String() != m[2] {
			t.Fatalf("%s: type %d is %s", path, n, typ)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, goldenEntry{file: filepath.Base(path), typ: typ, version: uint8(v), payload: bytes.TrimSuffix(b, []byte("\n"))})
	}
	return out
}

func entryFile(c wire.Command) string {
	return fmt.Sprintf("%02d-%s.v%d.json", uint8(c.Type()), c.Type(), c.Version())
}

// TestGoldenEncodings: the story's commands encode exactly as their golden
// entries (a change of any current encoding fails here; a new version adds
// a file and keeps the old one, which TestGoldenReplay keeps applying).
func TestGoldenEncodings(t *testing.T) {
	seen := map[wire.Type]bool{}
	for _, c := range story() {
		seen[c.Type()] = true
		b, err := wire.Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "entries", entryFile(c))
		if *update {
			if err := os.WriteFile(path, append(b[2:], '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (a new command type or version needs a golden entry: run with -update)", c.Type(), err)
		}
		if got := string(b[2:]) + "\n"; got != string(want) {
			t.Errorf("%s version %d encodes differently from %s:\n got %s\nwant %s\nAn encoding never changes: add a version instead.", c.Type(), c.Version(), path, got, want)
		}
	}
	for _, typ := range wire.Types() {
		if !seen[typ] {
			t.Errorf("the story has no %s command: add one", typ)
		}
	}
}

// TestGoldenReplay applies the golden entries in story order, the current
// versions and, in turn, each older version in place of its current one:
// an older version that means what the current one does must produce the
// golden transcript and dump; one that applies otherwise (ContainerState-
// Change v1 cuts reasons by bytes, CreateService v1 records no revision)
// produces its own golden (entries/NN-Name.vV.golden).
func TestGoldenReplay(t *testing.T) {
	entries := readEntries(t)
	order := map[wire.Type]int{}
	for i, c := range story() {
		order[c.Type()] = i
	}
	current := map[wire.Type]goldenEntry{}
	var older []goldenEntry
	for _, e := range entries {
		if e.version == currentVersion(e.typ) {
			current[e.typ] = e
		} else {
			older = append(older, e)
		}
	}
	for _, typ := range wire.Types() {
		if _, ok := current[typ]; !ok {
			t.Fatalf("no golden entry for the current version of %s", typ)
		}
	}
	sequence := func(replace *goldenEntry) []goldenEntry {
		var seq []goldenEntry
		for _, e := range current {
			if replace != nil && e.typ == replace.typ {
				e = *replace
			}
			seq = append(seq, e)
		}
		slices.SortFunc(seq, func(a, b goldenEntry) int { return order[a.typ] - order[b.typ] })
		return seq
	}
	run := func(seq []goldenEntry) (string, string) {
		m := newMachine()
		var transcript strings.Builder
		for _, e := range seq {
			fmt.Fprintf(&transcript, "%s %s\n", e.typ, m.apply(e.bytes()))
		}
		return transcript.String(), m.dump(t)
	}
	transcript, dump := run(sequence(nil))
	golden := filepath.Join("testdata", "entries.golden")
	got := transcript + "\n" + dump
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("replaying the golden entries gives another transcript or state than %s:\n%s", golden, got)
	}
	for _, old := range older {
		t.Run(old.file, func(t *testing.T) {
			if err := fsm.Check(1, old.bytes()); err != nil {
				t.Fatalf("this server refuses an old version: %v", err)
			}
			oldTranscript, oldDump := run(sequence(&old))
			// A version that means the same as the current one replays to
			// the same; one whose meaning differs (its Upgrade marks what
			// it did otherwise) has a golden of its own.
			variant := filepath.Join("testdata", "entries", strings.TrimSuffix(old.file, ".json")+".golden")
			oldGot := oldTranscript + "\n" + oldDump
			if *update {
				if oldGot == got {
					os.Remove(variant)
				} else if err := os.WriteFile(variant, []byte(oldGot), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(variant)
			switch {
			case errors.Is(err, fs.ErrNotExist) && oldGot != got:
				t.Fatalf("with %s the replay differs from the current version's, and %s does not hold what it gives:\n%s", old.file, variant, oldGot)
			case err == nil && oldGot != string(want):
				t.Fatalf("with %s the replay differs from %s:\n%s", old.file, variant, oldGot)
			case err != nil && !errors.Is(err, fs.ErrNotExist):
				t.Fatal(err)
			}
		})
	}
	if len(older) == 0 {
		t.Fatal("no older versions in testdata/entries: the upgrade path is untested")
	}
}
