package taskdef

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

// checkVolumes validates the task volumes and the containers' mountPoints and
// volumesFrom that refer to them.
func (b *builder) checkVolumes() *apierr.Error {
	names := map[string]bool{}
	atLaunch := 0
	for _, v := range b.td.Volumes {
		label := deref(v.Name)
		if v.Name != nil {
			if !nameRE().MatchString(*v.Name) {
				return clientf("Volume.name contains invalid characters.")
			}
			if names[*v.Name] {
				return clientf("Volume names must be unique within a Task Definition. '%s' is used more than once.", *v.Name)
			}
			names[*v.Name] = true
		}
		if n := volumeTypes(v); n > 1 {
			return clientf("Volume '%s' specifies more than one volume type.", label)
		}
		needsName := v.EfsVolumeConfiguration != nil || v.FsxWindowsFileServerVolumeConfiguration != nil || deref(v.ConfiguredAtLaunch)
		if needsName && v.Name == nil {
			return clientf("Volume.name should not be null or empty.")
		}
		if deref(v.ConfiguredAtLaunch) {
			if atLaunch++; atLaunch > 1 {
				return clientf("A task definition can have at most one volume that is configured at launch.")
			}
		}
		if err := checkVolumeConfig(label, v); err != nil {
			return err
		}
	}
	for _, c := range b.td.ContainerDefinitions {
		for _, mp := range c.MountPoints {
			switch {
			case mp.SourceVolume == nil:
				return clientf("Unknown volume 'null'.")
			case !names[*mp.SourceVolume]:
				return clientf("Unknown volume '%s'.", *mp.SourceVolume)
			case deref(mp.ContainerPath) == "":
				return inContainer(*c.Name, "mountPoints.containerPath should not be null or empty.")
			}
		}
		for _, vf := range c.VolumesFrom {
			src := deref(vf.SourceContainer)
			if vf.SourceContainer == nil {
				src = "null"
			}
			if src == *c.Name {
				return clientf("Container '%s' cannot take volumes from itself.", src)
			}
			if _, ok := b.byName[src]; !ok {
				return clientf("Unknown container '%s' in volumesFrom of container '%s'.", src, *c.Name)
			}
		}
	}
	return nil
}

// volumeTypes counts the volume types a volume specifies.
func volumeTypes(v shape.Volume) int {
	n := 0
	for _, set := range []bool{
		v.Host != nil,
		v.DockerVolumeConfiguration != nil,
		v.EfsVolumeConfiguration != nil,
		v.FsxWindowsFileServerVolumeConfiguration != nil,
		v.S3filesVolumeConfiguration != nil,
		deref(v.ConfiguredAtLaunch),
	} {
		if set {
			n++
		}
	}
	return n
}

func checkVolumeConfig(label string, v shape.Volume) *apierr.Error {
	if d := v.DockerVolumeConfiguration; d != nil && deref(d.Autoprovision) && d.Scope != shape.ScopeShared {
		return clientf("Volume '%s': autoprovision can only be set when the scope is shared.", label)
	}
	if e := v.EfsVolumeConfiguration; e != nil {
		if deref(e.FileSystemId) == "" {
			return clientf("Volume '%s': efsVolumeConfiguration.fileSystemId should not be null or empty.", label)
		}
		if a := e.AuthorizationConfig; a != nil {
			if a.Iam == shape.EFSAuthorizationConfigIAMEnabled && e.TransitEncryption != shape.EFSTransitEncryptionEnabled {
				return clientf("Volume '%s': transit encryption must be enabled when IAM authorization is enabled.", label)
			}
			if a.AccessPointId != nil && e.RootDirectory != nil && *e.RootDirectory != "/" {
				return clientf("Volume '%s': rootDirectory must be omitted or set to '/' when an access point is used.", label)
			}
		}
		if e.TransitEncryptionPort != nil && (*e.TransitEncryptionPort < 1 || *e.TransitEncryptionPort > maxPort) {
			return clientf("Volume '%s': transitEncryptionPort must be between 1 and %d.", label, maxPort)
		}
	}
	if f := v.FsxWindowsFileServerVolumeConfiguration; f != nil && deref(f.FileSystemId) == "" {
		return clientf("Volume '%s': fsxWindowsFileServerVolumeConfiguration.fileSystemId should not be null or empty.", label)
	}
	return nil
}
