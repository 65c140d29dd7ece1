package main

// protocol is the wire protocol of a service; it decides the struct tags and
// the Go type of timestamps.
type protocol int

const (
	// awsJSON is AWS JSON 1.0/1.1: json tags with omitempty/omitzero by
	// member kind, timestamps as the package's own Timestamp (epoch seconds),
	// unions and documents as json.RawMessage.
	awsJSON protocol = iota
	// awsQuery is the AWS query protocol (XML responses): query tags with the
	// exact member name, timestamps as *time.Time (ISO 8601 on the wire, left
	// to the codec).
	awsQuery
)

// service is the per-service configuration of the generator.
type service struct {
	name     string   // the service's name in comments, e.g. "ECS"
	module   string   // the aws-sdk-go-v2 module the shapes come from; go.mod pins its version
	pkg      string   // the Go package the file belongs to
	dir      string   // that package's directory, relative to the module root (for messages)
	protocol protocol // the wire protocol
	errors   bool     // also generate ErrorCodes, ErrorFaults (types/errors.go) and ErrorStatus (schemas)
	ops      []string // the operations served: each gets a Request/Response pair
}

// services are the services berth generates shapes for, by the name given on
// the command line.
var services = map[string]*service{
	"ecs": {
		name:     "ECS",
		module:   "github.com/aws/aws-sdk-go-v2/service/ecs",
		pkg:      "shape",
		dir:      "internal/shape",
		protocol: awsJSON,
		ops: []string{
			// clusters
			"CreateCluster", "DescribeClusters", "ListClusters", "DeleteCluster", "UpdateCluster",
			"UpdateClusterSettings", "PutClusterCapacityProviders",
			// task definitions
			"RegisterTaskDefinition", "DescribeTaskDefinition", "ListTaskDefinitions",
			"ListTaskDefinitionFamilies", "DeregisterTaskDefinition", "DeleteTaskDefinitions",
			// container instances and attributes
			"RegisterContainerInstance", "DeregisterContainerInstance", "DescribeContainerInstances",
			"ListContainerInstances", "UpdateContainerInstancesState", "UpdateContainerAgent",
			"PutAttributes", "DeleteAttributes", "ListAttributes", "DiscoverPollEndpoint",
			// tags and account settings
			"TagResource", "UntagResource", "ListTagsForResource",
			"ListAccountSettings", "PutAccountSetting", "PutAccountSettingDefault", "DeleteAccountSetting",
			// tasks
			"RunTask", "StartTask", "StopTask", "DescribeTasks", "ListTasks",
			"SubmitTaskStateChange", "SubmitContainerStateChange", "SubmitAttachmentStateChanges",
			"UpdateTaskProtection", "GetTaskProtection", "ExecuteCommand",
			// services and deployments
			"CreateService", "UpdateService", "DeleteService", "DescribeServices", "ListServices",
			"ListServicesByNamespace", "ListServiceDeployments", "DescribeServiceDeployments",
			"DescribeServiceRevisions", "StopServiceDeployment",
			// capacity providers and task sets
			"CreateCapacityProvider", "UpdateCapacityProvider", "DeleteCapacityProvider",
			"DescribeCapacityProviders", "CreateTaskSet", "UpdateTaskSet", "DeleteTaskSet",
			"DescribeTaskSets", "UpdateServicePrimaryTaskSet",
		},
	},
	"elbv2": {
		name:     "ELBv2",
		module:   "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2",
		pkg:      "elbshape",
		dir:      "internal/elbshape",
		protocol: awsQuery,
		errors:   true,
		ops: []string{
			// load balancers
			"CreateLoadBalancer", "DescribeLoadBalancers", "DeleteLoadBalancer",
			"DescribeLoadBalancerAttributes", "ModifyLoadBalancerAttributes",
			"SetSubnets", "SetSecurityGroups", "SetIpAddressType",
			// target groups and targets
			"CreateTargetGroup", "DescribeTargetGroups", "ModifyTargetGroup", "DeleteTargetGroup",
			"DescribeTargetGroupAttributes", "ModifyTargetGroupAttributes",
			"RegisterTargets", "DeregisterTargets", "DescribeTargetHealth",
			// listeners and their certificates
			"CreateListener", "DescribeListeners", "ModifyListener", "DeleteListener",
			"DescribeListenerAttributes", "ModifyListenerAttributes",
			"AddListenerCertificates", "RemoveListenerCertificates", "DescribeListenerCertificates",
			// rules
			"CreateRule", "DescribeRules", "ModifyRule", "SetRulePriorities", "DeleteRule",
			// tags, policies and limits
			"AddTags", "RemoveTags", "DescribeTags",
			"DescribeSSLPolicies", "DescribeAccountLimits", "DescribeCapacityReservation",
		},
	},
	"acm": {
		name:     "ACM",
		module:   "github.com/aws/aws-sdk-go-v2/service/acm",
		pkg:      "acmshape",
		dir:      "internal/acmshape",
		protocol: awsJSON,
		errors:   true,
		ops: []string{
			"ImportCertificate", "DescribeCertificate", "GetCertificate", "ListCertificates",
			"DeleteCertificate", "AddTagsToCertificate", "RemoveTagsFromCertificate",
			"ListTagsForCertificate",
		},
	},
	"servicediscovery": {
		name:     "Cloud Map",
		module:   "github.com/aws/aws-sdk-go-v2/service/servicediscovery",
		pkg:      "sdshape",
		dir:      "internal/sdshape",
		protocol: awsJSON,
		errors:   true,
		ops: []string{
			// namespaces
			"CreatePrivateDnsNamespace", "CreatePublicDnsNamespace", "CreateHttpNamespace",
			"GetNamespace", "ListNamespaces", "DeleteNamespace",
			"UpdatePrivateDnsNamespace", "UpdateHttpNamespace", "UpdatePublicDnsNamespace",
			// operations
			"GetOperation", "ListOperations",
			// services
			"CreateService", "GetService", "ListServices", "UpdateService", "DeleteService",
			"GetServiceAttributes", "UpdateServiceAttributes", "DeleteServiceAttributes",
			// instances and discovery
			"RegisterInstance", "DeregisterInstance", "GetInstance", "ListInstances",
			"GetInstancesHealthStatus", "UpdateInstanceCustomHealthStatus",
			"DiscoverInstances", "DiscoverInstancesRevision",
			// tags
			"TagResource", "UntagResource", "ListTagsForResource",
		},
	},
	"secretsmanager": {
		name:     "Secrets Manager",
		module:   "github.com/aws/aws-sdk-go-v2/service/secretsmanager",
		pkg:      "smshape",
		dir:      "internal/smshape",
		protocol: awsJSON,
		errors:   true,
		ops: []string{
			"CreateSecret", "GetSecretValue", "PutSecretValue", "UpdateSecret", "DescribeSecret",
			"ListSecrets", "DeleteSecret", "RestoreSecret", "ListSecretVersionIds",
			"UpdateSecretVersionStage", "TagResource", "UntagResource", "BatchGetSecretValue",
			"GetResourcePolicy", "PutResourcePolicy", "DeleteResourcePolicy",
		},
	},
	"ssm": {
		name:     "SSM Parameter Store",
		module:   "github.com/aws/aws-sdk-go-v2/service/ssm",
		pkg:      "ssmshape",
		dir:      "internal/ssmshape",
		protocol: awsJSON,
		errors:   true,
		ops: []string{
			"PutParameter", "GetParameter", "GetParameters", "GetParametersByPath",
			"DescribeParameters", "DeleteParameter", "DeleteParameters", "GetParameterHistory",
			"LabelParameterVersion", "UnlabelParameterVersion",
			"AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource",
		},
	},
	"logs": {
		name:     "CloudWatch Logs",
		module:   "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs",
		pkg:      "logsshape",
		dir:      "internal/logsshape",
		protocol: awsJSON,
		errors:   true,
		ops: []string{
			// log groups
			"CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups",
			"PutRetentionPolicy", "DeleteRetentionPolicy",
			// log streams and events
			"CreateLogStream", "DeleteLogStream", "DescribeLogStreams",
			"PutLogEvents", "GetLogEvents", "FilterLogEvents",
			// tags
			"TagLogGroup", "UntagLogGroup", "ListTagsLogGroup",
			"TagResource", "UntagResource", "ListTagsForResource",
		},
	},
	"iam": {
		name:     "IAM",
		module:   "github.com/aws/aws-sdk-go-v2/service/iam",
		pkg:      "iamshape",
		dir:      "internal/iamshape",
		protocol: awsQuery,
		errors:   true,
		ops: []string{
			"CreateRole", "GetRole", "ListRoles", "DeleteRole", "UpdateRole", "UpdateRoleDescription",
			"UpdateAssumeRolePolicy",
			"PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy", "ListRolePolicies",
			"AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies",
			"TagRole", "UntagRole", "ListRoleTags", "ListInstanceProfilesForRole",
			"CreatePolicy", "GetPolicy", "DeletePolicy", "ListPolicies",
			"CreatePolicyVersion", "GetPolicyVersion", "ListPolicyVersions", "DeletePolicyVersion", "SetDefaultPolicyVersion",
			"ListEntitiesForPolicy", "TagPolicy", "UntagPolicy", "ListPolicyTags",
		},
	},
	"sts": {
		name:     "STS",
		module:   "github.com/aws/aws-sdk-go-v2/service/sts",
		pkg:      "stsshape",
		dir:      "internal/stsshape",
		protocol: awsQuery,
		errors:   true,
		ops:      []string{"GetCallerIdentity", "AssumeRole"},
	},
}
