package wire

import (
	"berth.dev/berth/internal/shape"
)

// ResourceRef names a taggable resource, parsed from its ARN.
type ResourceRef struct {
	ARN      string `json:"arn"`
	Kind     string `json:"kind"` // an arn.Type* constant
	Cluster  string `json:"cluster,omitempty"`
	ID       string `json:"id,omitempty"` // cluster name, instance ID, task ID or service name
	Family   string `json:"family,omitempty"`
	Revision int32  `json:"revision,omitempty"`
}

// TagResource adds or overwrites tags. Version 2 tags services too;
// version 1, written before services could be tagged, refuses them.
type TagResource struct {
	Meta
	Resource ResourceRef `json:"resource"`
	Tags     []shape.Tag `json:"tags"`

	legacy bool // upgraded from version 1 (never encoded)
}

func (TagResource) Type() Type     { return TypeTagResource }
func (TagResource) Version() uint8 { return 2 }

// TagsServices reports whether the command may tag a service (version 2;
// version 1 entries refuse one, as they did when written).
func (c TagResource) TagsServices() bool { return !c.legacy }

// UntagResource removes tags by key. Version 2 untags services too;
// version 1, written before services could be tagged, refuses them.
type UntagResource struct {
	Meta
	Resource ResourceRef `json:"resource"`
	Keys     []string    `json:"keys"`

	legacy bool // upgraded from version 1 (never encoded)
}

func (UntagResource) Type() Type     { return TypeUntagResource }
func (UntagResource) Version() uint8 { return 2 }

// TagsServices reports whether the command may untag a service (version
// 2; version 1 entries refuse one, as they did when written).
func (c UntagResource) TagsServices() bool { return !c.legacy }
