package agent

import (
	"reflect"
	"testing"

	"berth.dev/berth/internal/agentproto"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/shape"
)

// The container definition's devices, tmpfs, sharedMemorySize,
// systemControls and dockerSecurityOptions reach the runtime spec as the ECS
// agent passes them to Docker.
func TestDriverSpecLinuxMembers(t *testing.T) {
	str := func(s string) *string { return &s }
	i32 := func(v int32) *int32 { return &v }
	task := &agentproto.Task{
		TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef",
		Definition: &shape.TaskDefinition{Family: str("app"), Revision: 1, ContainerDefinitions: []shape.ContainerDefinition{{
			Name: str("web"), Image: str("nginx"),
			LinuxParameters: &shape.LinuxParameters{
				Devices: []shape.Device{{HostPath: str("/dev/fuse")},
					{HostPath: str("/dev/nvidia0"), ContainerPath: str("/dev/gpu"), Permissions: []shape.DeviceCgroupPermission{"read", "mknod"}}},
				Tmpfs:            []shape.Tmpfs{{ContainerPath: str("/scratch"), Size: 64, MountOptions: []string{"noexec"}}},
				SharedMemorySize: i32(128),
			},
			SystemControls:        []shape.SystemControl{{Namespace: str("net.core.somaxconn"), Value: str("1024")}},
			DockerSecurityOptions: []string{"no-new-privileges"},
		}}},
	}
	a := &Agent{cfg: Config{DataDir: t.TempDir()}}
	s, err := a.driverSpec(task, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := driver.Spec{
		Devices:    []driver.Device{{HostPath: "/dev/fuse"}, {HostPath: "/dev/nvidia0", ContainerPath: "/dev/gpu", Permissions: "rm"}},
		Tmpfs:      []driver.Tmpfs{{ContainerPath: "/scratch", SizeMiB: 64, Options: []string{"noexec"}}},
		ShmSizeMiB: 128, Sysctls: map[string]string{"net.core.somaxconn": "1024"}, SecurityOpt: []string{"no-new-privileges"},
	}
	got := driver.Spec{Devices: s.Devices, Tmpfs: s.Tmpfs, ShmSizeMiB: s.ShmSizeMiB, Sysctls: s.Sysctls, SecurityOpt: s.SecurityOpt}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
