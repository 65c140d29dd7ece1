package wire

// AttributeChange names one attribute on one instance.
type AttributeChange struct {
	Name     string  `json:"name"`
	Value    *string `json:"value,omitempty"`
	TargetID string  `json:"targetId"`
	// Target is the identifier as the caller wrote it (ID or ARN).
	Target string `json:"target"`
}

// PutAttributes creates or updates attributes on container instances.
type PutAttributes struct {
	Meta
	Cluster    string            `json:"cluster"`
	Attributes []AttributeChange `json:"attributes"`
}

func (PutAttributes) Type() Type     { return TypePutAttributes }
func (PutAttributes) Version() uint8 { return 1 }

// DeleteAttributes removes attributes from container instances.
type DeleteAttributes struct {
	Meta
	Cluster    string            `json:"cluster"`
	Attributes []AttributeChange `json:"attributes"`
}

func (DeleteAttributes) Type() Type     { return TypeDeleteAttributes }
func (DeleteAttributes) Version() uint8 { return 1 }
