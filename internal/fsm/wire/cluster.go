package wire

import (
	"berth.dev/berth/internal/shape"
)

// CreateCluster creates a cluster, or returns the ACTIVE one of that name.
type CreateCluster struct {
	Meta
	Name                            string                               `json:"name"`
	Tags                            []shape.Tag                          `json:"tags,omitempty"`
	Settings                        []shape.ClusterSetting               `json:"settings,omitempty"`
	Configuration                   *shape.ClusterConfiguration          `json:"configuration,omitempty"`
	CapacityProviders               []string                             `json:"capacityProviders,omitempty"`
	DefaultCapacityProviderStrategy []shape.CapacityProviderStrategyItem `json:"defaultCapacityProviderStrategy,omitempty"`
	ServiceConnectDefaults          *shape.ClusterServiceConnectDefaults `json:"serviceConnectDefaults,omitempty"`
}

func (CreateCluster) Type() Type     { return TypeCreateCluster }
func (CreateCluster) Version() uint8 { return 1 }

// UpdateCluster changes a cluster's settings, configuration or Service
// Connect defaults; nil members are left as they are. Settings merge by name.
type UpdateCluster struct {
	Meta
	Name                   string                               `json:"name"`
	Settings               []shape.ClusterSetting               `json:"settings,omitempty"`
	Configuration          *shape.ClusterConfiguration          `json:"configuration,omitempty"`
	ServiceConnectDefaults *shape.ClusterServiceConnectDefaults `json:"serviceConnectDefaults,omitempty"`
}

func (UpdateCluster) Type() Type     { return TypeUpdateCluster }
func (UpdateCluster) Version() uint8 { return 1 }

// PutClusterCapacityProviders replaces a cluster's capacity providers and
// default strategy.
type PutClusterCapacityProviders struct {
	Meta
	Name              string                               `json:"name"`
	CapacityProviders []string                             `json:"capacityProviders"`
	Strategy          []shape.CapacityProviderStrategyItem `json:"strategy"`
}

func (PutClusterCapacityProviders) Type() Type     { return TypePutClusterCapacityProviders }
func (PutClusterCapacityProviders) Version() uint8 { return 1 }

// DeleteCluster marks an empty cluster INACTIVE.
type DeleteCluster struct {
	Meta
	Name string `json:"name"`
}

func (DeleteCluster) Type() Type     { return TypeDeleteCluster }
func (DeleteCluster) Version() uint8 { return 1 }
