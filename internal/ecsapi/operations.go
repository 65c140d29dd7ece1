package ecsapi

// operations maps each implemented operation to its handler.
var operations = map[string]handler{
	// clusters
	"CreateCluster":               op(createCluster),
	"DescribeClusters":            op(describeClusters),
	"ListClusters":                op(listClusters),
	"DeleteCluster":               op(deleteCluster),
	"UpdateCluster":               op(updateCluster),
	"UpdateClusterSettings":       op(updateClusterSettings),
	"PutClusterCapacityProviders": op(putClusterCapacityProviders),
	// task definitions
	"RegisterTaskDefinition":     op(registerTaskDefinition),
	"DescribeTaskDefinition":     op(describeTaskDefinition),
	"ListTaskDefinitions":        op(listTaskDefinitions),
	"ListTaskDefinitionFamilies": op(listTaskDefinitionFamilies),
	"DeregisterTaskDefinition":   op(deregisterTaskDefinition),
	"DeleteTaskDefinitions":      op(deleteTaskDefinitions),
	// container instances and attributes
	"RegisterContainerInstance":     op(registerContainerInstance),
	"DeregisterContainerInstance":   op(deregisterContainerInstance),
	"DescribeContainerInstances":    op(describeContainerInstances),
	"ListContainerInstances":        op(listContainerInstances),
	"UpdateContainerInstancesState": op(updateContainerInstancesState),
	"PutAttributes":                 op(putAttributes),
	"DeleteAttributes":              op(deleteAttributes),
	"ListAttributes":                op(listAttributes),
	// tags and account settings
	"TagResource":              op(tagResource),
	"UntagResource":            op(untagResource),
	"ListTagsForResource":      op(listTagsForResource),
	"ListAccountSettings":      op(listAccountSettings),
	"PutAccountSetting":        op(putAccountSetting),
	"PutAccountSettingDefault": op(putAccountSettingDefault),
	"DeleteAccountSetting":     op(deleteAccountSetting),
	// tasks
	"ListTasks":                  op(listTasks),
	"DescribeTasks":              op(describeTasks),
	"RunTask":                    op(runTask),
	"StartTask":                  op(startTask),
	"StopTask":                   op(stopTask),
	"SubmitTaskStateChange":      op(submitTaskStateChange),
	"SubmitContainerStateChange": op(submitContainerStateChange),
	// services
	"CreateService":              op(createService),
	"UpdateService":              op(updateService),
	"DeleteService":              op(deleteService),
	"DescribeServices":           op(describeServices),
	"ListServices":               op(listServices),
	"ListServicesByNamespace":    op(listServicesByNamespace),
	"ListServiceDeployments":     op(listServiceDeployments),
	"DescribeServiceDeployments": op(describeServiceDeployments),
	"DescribeServiceRevisions":   op(describeServiceRevisions),
}

// Implemented lists the operations berth serves.
func Implemented() []string {
	out := make([]string, 0, len(operations))
	for name := range operations {
		out = append(out, name)
	}
	return out
}
