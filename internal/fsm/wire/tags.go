package wire

import (
	"berth.dev/berth/internal/shape"
)

// ResourceRef names a taggable resource, parsed from its ARN.
type ResourceRef struct {
	ARN      string `json:"arn"`
	Kind     string `json:"kind"` // an arn.Type* constant
	Cluster  string `json:"cluster,omitempty"`
	ID       string `json:"id,omitempty"` // cluster name, instance ID or task ID
	Family   string `json:"family,omitempty"`
	Revision int32  `json:"revision,omitempty"`
}

// TagResource adds or overwrites tags.
type TagResource struct {
	Meta
	Resource ResourceRef `json:"resource"`
	Tags     []shape.Tag `json:"tags"`
}

func (TagResource) Type() Type     { return TypeTagResource }
func (TagResource) Version() uint8 { return 1 }

// UntagResource removes tags by key.
type UntagResource struct {
	Meta
	Resource ResourceRef `json:"resource"`
	Keys     []string    `json:"keys"`
}

func (UntagResource) Type() Type     { return TypeUntagResource }
func (UntagResource) Version() uint8 { return 1 }
