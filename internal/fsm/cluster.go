package fsm

import (
	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm/wire"
	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
)

// BuiltinCapacityProviders exist in every account.
var BuiltinCapacityProviders = []string{"FARGATE", "FARGATE_SPOT"}

// ErrClusterNotFound is ECS's answer for a missing or INACTIVE cluster.
func ErrClusterNotFound() *apierr.Error {
	return apierr.New(apierr.ClusterNotFound, "Cluster not found.")
}

// ActiveCluster returns the ACTIVE cluster named name or ClusterNotFoundException.
func ActiveCluster(s *state.Snapshot, name string) (*shape.Cluster, error) {
	c := s.Cluster(name)
	if c == nil || deref(c.Status) != "ACTIVE" {
		return nil, ErrClusterNotFound()
	}
	return c, nil
}

func applyCreateCluster(m *Machine, tx *state.Txn, c *wire.CreateCluster) (any, error) {
	if existing := tx.Cluster(c.Name); existing != nil && deref(existing.Status) == "ACTIVE" {
		return existing, nil
	}
	if err := checkCapacityProviders(c.CapacityProviders); err != nil {
		return nil, err
	}
	settings := c.Settings
	if !hasSetting(settings, shape.ClusterSettingNameContainerInsights) {
		v := EffectiveSetting(&tx.Snapshot, m.namer.Root(), c.Principal, string(shape.SettingNameContainerInsights))
		settings = append(append([]shape.ClusterSetting{}, settings...), shape.ClusterSetting{
			Name: shape.ClusterSettingNameContainerInsights, Value: ptr(v),
		})
	}
	cl := &shape.Cluster{
		ClusterArn:                      ptr(m.namer.Cluster(c.Name)),
		ClusterName:                     ptr(c.Name),
		Status:                          ptr("ACTIVE"),
		Tags:                            orEmpty(c.Tags),
		Settings:                        settings,
		Configuration:                   c.Configuration,
		CapacityProviders:               orEmpty(c.CapacityProviders),
		DefaultCapacityProviderStrategy: orEmpty(c.DefaultCapacityProviderStrategy),
		ServiceConnectDefaults:          c.ServiceConnectDefaults,
		Statistics:                      []shape.KeyValuePair{},
	}
	if err := tx.Put(state.TableClusters, cl); err != nil {
		return nil, err
	}
	return cl, nil
}

func hasSetting(s []shape.ClusterSetting, name shape.ClusterSettingName) bool {
	for _, x := range s {
		if x.Name == name {
			return true
		}
	}
	return false
}

func applyUpdateCluster(m *Machine, tx *state.Txn, c *wire.UpdateCluster) (any, error) {
	old, err := ActiveCluster(&tx.Snapshot, c.Name)
	if err != nil {
		return nil, err
	}
	cl := *old
	if c.Settings != nil {
		merged := append([]shape.ClusterSetting{}, old.Settings...)
		for _, s := range c.Settings {
			replaced := false
			for i := range merged {
				if merged[i].Name == s.Name {
					merged[i] = s
					replaced = true
				}
			}
			if !replaced {
				merged = append(merged, s)
			}
		}
		cl.Settings = merged
	}
	if c.Configuration != nil {
		cl.Configuration = c.Configuration
	}
	if c.ServiceConnectDefaults != nil {
		cl.ServiceConnectDefaults = c.ServiceConnectDefaults
	}
	if err := tx.Put(state.TableClusters, &cl); err != nil {
		return nil, err
	}
	return &cl, nil
}

func checkCapacityProviders(names []string) error {
	for _, n := range names {
		known := false
		for _, b := range BuiltinCapacityProviders {
			known = known || n == b
		}
		if !known {
			return apierr.InvalidParameterf("The specified capacity provider %s is not in an ACTIVE state. Specify a valid capacity provider and try again.", n)
		}
	}
	return nil
}

func applyPutClusterCapacityProviders(m *Machine, tx *state.Txn, c *wire.PutClusterCapacityProviders) (any, error) {
	old, err := ActiveCluster(&tx.Snapshot, c.Name)
	if err != nil {
		return nil, err
	}
	if err := checkCapacityProviders(c.CapacityProviders); err != nil {
		return nil, err
	}
	cl := *old
	cl.CapacityProviders = orEmpty(c.CapacityProviders)
	cl.DefaultCapacityProviderStrategy = orEmpty(c.Strategy)
	if err := tx.Put(state.TableClusters, &cl); err != nil {
		return nil, err
	}
	return &cl, nil
}

func applyDeleteCluster(m *Machine, tx *state.Txn, c *wire.DeleteCluster) (any, error) {
	old, err := ActiveCluster(&tx.Snapshot, c.Name)
	if err != nil {
		return nil, err
	}
	instances := 0
	tx.Instances(c.Name, "", func(ci *state.ContainerInstance) bool {
		if s := deref(ci.Shape.Status); s != "INACTIVE" {
			instances++
		}
		return instances == 0
	})
	if instances > 0 {
		return nil, apierr.New(apierr.ClusterContainsContainerInstances, "The Cluster cannot be deleted while Container Instances are active or draining.")
	}
	services := 0
	tx.Services(c.Name, "", func(svc *state.Service) bool {
		if st := deref(svc.Shape.Status); st == "ACTIVE" || st == "DRAINING" {
			services++
		}
		return services == 0
	})
	if services > 0 {
		return nil, apierr.New(apierr.ClusterContainsServices, "The Cluster cannot be deleted while Services are active.")
	}
	tasks := 0
	tx.Tasks(c.Name, "", func(t *state.Task) bool {
		if deref(t.Shape.LastStatus) != "STOPPED" {
			tasks++
		}
		return tasks == 0
	})
	if tasks > 0 {
		return nil, apierr.New(apierr.ClusterContainsTasks, "The Cluster cannot be deleted while Tasks are active.")
	}
	cl := *old
	cl.Status = ptr("INACTIVE")
	if err := tx.Put(state.TableClusters, &cl); err != nil {
		return nil, err
	}
	return &cl, nil
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// orEmpty returns s, or an empty non-nil slice (emitted as []).
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
