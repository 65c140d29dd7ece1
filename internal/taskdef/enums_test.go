package taskdef

import (
	"reflect"
	"slices"
	"testing"

	"berth.dev/berth/internal/shape"
)

// checkedEnums are the enum-typed members checkEnums verifies; each has a
// failing case in the golden files.
var checkedEnums = []string{
	"req.ContainerDefinitions.DependsOn.Condition",
	"req.ContainerDefinitions.EnvironmentFiles.Type",
	"req.ContainerDefinitions.FirelensConfiguration.Type",
	"req.ContainerDefinitions.LinuxParameters.Devices.Permissions",
	"req.ContainerDefinitions.LogConfiguration.LogDriver",
	"req.ContainerDefinitions.PortMappings.AppProtocol",
	"req.ContainerDefinitions.PortMappings.Protocol",
	"req.ContainerDefinitions.ResourceRequirements.Type",
	"req.ContainerDefinitions.Ulimits.Name",
	"req.ContainerDefinitions.VersionConsistency",
	"req.IpcMode",
	"req.NetworkMode",
	"req.PidMode",
	"req.PlacementConstraints.Type",
	"req.ProxyConfiguration.Type",
	"req.RequiresCompatibilities",
	"req.RuntimePlatform.CpuArchitecture",
	"req.RuntimePlatform.OperatingSystemFamily",
	"req.Volumes.DockerVolumeConfiguration.Scope",
	"req.Volumes.EfsVolumeConfiguration.AuthorizationConfig.Iam",
	"req.Volumes.EfsVolumeConfiguration.TransitEncryption",
}

// TestCheckedEnums fails when the request model gains an enum-typed member
// that checkEnums does not know about.
func TestCheckedEnums(t *testing.T) {
	var got []string
	var walk func(reflect.Type, string)
	walk = func(t reflect.Type, path string) {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			walk(t.Elem(), path)
		case reflect.Struct:
			for i := range t.NumField() {
				walk(t.Field(i).Type, path+"."+t.Field(i).Name)
			}
		case reflect.String:
			if _, ok := t.MethodByName("Values"); ok {
				got = append(got, path)
			}
		}
	}
	walk(reflect.TypeOf(shape.RegisterTaskDefinitionRequest{}), "req")
	slices.Sort(got)
	if !slices.Equal(got, checkedEnums) {
		t.Fatalf("enum-typed members: got %v, want %v", got, checkedEnums)
	}
}
