package wire

import "time"

// Cloud Map command types (60-79 are Cloud Map's).
const (
	TypeCreateSDNamespace         Type = 60
	TypeUpdateSDNamespace         Type = 61
	TypeDeleteSDNamespace         Type = 62
	TypeCreateSDService           Type = 63
	TypeUpdateSDService           Type = 64
	TypeDeleteSDService           Type = 65
	TypeUpdateSDServiceAttributes Type = 66
	TypeDeleteSDServiceAttributes Type = 67
	TypeRegisterSDInstance        Type = 68
	TypeDeregisterSDInstance      Type = 69
	TypeUpdateSDInstanceHealth    Type = 70
	TypeTagSDResource             Type = 71
	TypeUntagSDResource           Type = 72
)

// SDTag is a Cloud Map tag.
type SDTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SDDNSRecord is one DnsRecord of a service.
type SDDNSRecord struct {
	Type string `json:"type"`
	TTL  int64  `json:"ttl"`
}

// SDDNSConfig is a service's DnsConfig.
type SDDNSConfig struct {
	RoutingPolicy string        `json:"routingPolicy"`
	Records       []SDDNSRecord `json:"records"`
}

// SDOp names the operation record an asynchronous command leaves: its ID
// is chosen by the proposing server. Empty, the command records no
// operation (the control plane's own registrations).
type SDOp struct {
	OperationID string `json:"operationId"`
}

// CreateSDNamespace creates a DNS_PRIVATE or HTTP namespace. A repeated
// CreatorRequestID of an existing namespace of the same name and type is
// an idempotent retry: it records a SUCCESS operation for that namespace.
type CreateSDNamespace struct {
	Meta
	SDOp
	ID               string  `json:"id"`
	ARN              string  `json:"arn"`
	Name             string  `json:"name"`
	NamespaceType    string  `json:"type"`
	Description      string  `json:"description,omitempty"`
	HTTPName         string  `json:"httpName,omitempty"`
	Vpc              string  `json:"vpc,omitempty"`
	SOATTL           *int64  `json:"soaTtl,omitempty"`
	CreatorRequestID string  `json:"creatorRequestId,omitempty"`
	Tags             []SDTag `json:"tags,omitempty"`
}

func (CreateSDNamespace) Type() Type     { return TypeCreateSDNamespace }
func (CreateSDNamespace) Version() uint8 { return 1 }

// UpdateSDNamespace changes a namespace's description or SOA TTL.
type UpdateSDNamespace struct {
	Meta
	SDOp
	ID          string  `json:"id"`
	Description *string `json:"description,omitempty"`
	SOATTL      *int64  `json:"soaTtl,omitempty"`
}

func (UpdateSDNamespace) Type() Type     { return TypeUpdateSDNamespace }
func (UpdateSDNamespace) Version() uint8 { return 1 }

// DeleteSDNamespace deletes a namespace without services.
type DeleteSDNamespace struct {
	Meta
	SDOp
	ID string `json:"id"`
}

func (DeleteSDNamespace) Type() Type     { return TypeDeleteSDNamespace }
func (DeleteSDNamespace) Version() uint8 { return 1 }

// CreateSDService creates a service in a namespace (synchronous).
type CreateSDService struct {
	Meta
	ID               string       `json:"id"`
	ARN              string       `json:"arn"`
	Name             string       `json:"name"`
	NamespaceID      string       `json:"namespaceId"`
	Description      string       `json:"description,omitempty"`
	ServiceType      string       `json:"type,omitempty"` // "HTTP" asks for an API-only service
	DNS              *SDDNSConfig `json:"dns,omitempty"`
	CustomHealth     *int32       `json:"customHealth,omitempty"` // HealthCheckCustomConfig's FailureThreshold
	CreatorRequestID string       `json:"creatorRequestId,omitempty"`
	Tags             []SDTag      `json:"tags,omitempty"`
}

func (CreateSDService) Type() Type     { return TypeCreateSDService }
func (CreateSDService) Version() uint8 { return 1 }

// UpdateSDService changes a service's description and record TTLs.
type UpdateSDService struct {
	Meta
	SDOp
	ID          string        `json:"id"`
	Description *string       `json:"description,omitempty"`
	Records     []SDDNSRecord `json:"records,omitempty"`
}

func (UpdateSDService) Type() Type     { return TypeUpdateSDService }
func (UpdateSDService) Version() uint8 { return 1 }

// DeleteSDService deletes a service without instances.
type DeleteSDService struct {
	Meta
	ID string `json:"id"`
}

func (DeleteSDService) Type() Type     { return TypeDeleteSDService }
func (DeleteSDService) Version() uint8 { return 1 }

// UpdateSDServiceAttributes adds or replaces service attributes.
type UpdateSDServiceAttributes struct {
	Meta
	ID         string            `json:"id"`
	Attributes map[string]string `json:"attributes"`
}

func (UpdateSDServiceAttributes) Type() Type     { return TypeUpdateSDServiceAttributes }
func (UpdateSDServiceAttributes) Version() uint8 { return 1 }

// DeleteSDServiceAttributes removes service attributes by key.
type DeleteSDServiceAttributes struct {
	Meta
	ID   string   `json:"id"`
	Keys []string `json:"keys"`
}

func (DeleteSDServiceAttributes) Type() Type     { return TypeDeleteSDServiceAttributes }
func (DeleteSDServiceAttributes) Version() uint8 { return 1 }

// RegisterSDInstance creates or replaces an instance of a service.
type RegisterSDInstance struct {
	Meta
	SDOp
	ServiceID        string            `json:"serviceId"`
	ID               string            `json:"id"`
	Attributes       map[string]string `json:"attributes"`
	CreatorRequestID string            `json:"creatorRequestId,omitempty"`
	TaskARN          string            `json:"taskArn,omitempty"`
	ECSServiceARN    string            `json:"ecsServiceArn,omitempty"`
}

func (RegisterSDInstance) Type() Type     { return TypeRegisterSDInstance }
func (RegisterSDInstance) Version() uint8 { return 1 }

// DeregisterSDInstance removes an instance.
type DeregisterSDInstance struct {
	Meta
	SDOp
	ServiceID string `json:"serviceId"`
	ID        string `json:"id"`
}

func (DeregisterSDInstance) Type() Type     { return TypeDeregisterSDInstance }
func (DeregisterSDInstance) Version() uint8 { return 1 }

// UpdateSDInstanceHealth sets an instance's custom health status.
type UpdateSDInstanceHealth struct {
	Meta
	ServiceID string `json:"serviceId"`
	ID        string `json:"id"`
	Status    string `json:"status"`
}

func (UpdateSDInstanceHealth) Type() Type     { return TypeUpdateSDInstanceHealth }
func (UpdateSDInstanceHealth) Version() uint8 { return 1 }

// TagSDResource adds or overwrites tags of a namespace or service.
type TagSDResource struct {
	Meta
	ARN  string  `json:"arn"`
	Tags []SDTag `json:"tags"`
}

func (TagSDResource) Type() Type     { return TypeTagSDResource }
func (TagSDResource) Version() uint8 { return 1 }

// UntagSDResource removes tags by key.
type UntagSDResource struct {
	Meta
	ARN  string   `json:"arn"`
	Keys []string `json:"keys"`
}

func (UntagSDResource) Type() Type     { return TypeUntagSDResource }
func (UntagSDResource) Version() uint8 { return 1 }

// Snapshot tables of Cloud Map (since version 5).
const (
	TableSDNamespaces = "sdnamespaces"
	TableSDServices   = "sdservices"
	TableSDInstances  = "sdinstances"
	TableSDOperations = "sdoperations"
)

// SDNamespaceRecord is a namespace's snapshot record.
type SDNamespaceRecord struct {
	ID               string    `json:"id"`
	ARN              string    `json:"arn"`
	Name             string    `json:"name"`
	Type             string    `json:"type"`
	Description      string    `json:"description,omitempty"`
	HTTPName         string    `json:"httpName,omitempty"`
	HostedZoneID     string    `json:"hostedZoneId,omitempty"`
	CreatorRequestID string    `json:"creatorRequestId,omitempty"`
	SOATTL           *int64    `json:"soaTtl,omitempty"`
	CreatedAt        time.Time `json:"createdAt"`
	Tags             []SDTag   `json:"tags,omitempty"`
}

// SDHealthCheck is a Route 53 health check configuration.
type SDHealthCheck struct {
	Type             string `json:"type"`
	ResourcePath     string `json:"resourcePath,omitempty"`
	FailureThreshold int32  `json:"failureThreshold,omitempty"`
}

// SDServiceRecord is a service's snapshot record.
type SDServiceRecord struct {
	ID               string            `json:"id"`
	ARN              string            `json:"arn"`
	Name             string            `json:"name"`
	NamespaceID      string            `json:"namespaceId"`
	Description      string            `json:"description,omitempty"`
	Type             string            `json:"type"`
	CreatorRequestID string            `json:"creatorRequestId,omitempty"`
	DNS              *SDDNSConfig      `json:"dns,omitempty"`
	HealthCheck      *SDHealthCheck    `json:"healthCheck,omitempty"`
	CustomHealth     *int32            `json:"customHealth,omitempty"`
	Attributes       map[string]string `json:"attributes,omitempty"`
	Revision         int64             `json:"revision"`
	CreatedAt        time.Time         `json:"createdAt"`
	Tags             []SDTag           `json:"tags,omitempty"`
}

// SDInstanceRecord is an instance's snapshot record.
type SDInstanceRecord struct {
	ServiceID        string            `json:"serviceId"`
	ID               string            `json:"id"`
	Attributes       map[string]string `json:"attributes,omitempty"`
	CreatorRequestID string            `json:"creatorRequestId,omitempty"`
	CustomHealth     string            `json:"customHealth,omitempty"`
	TaskARN          string            `json:"taskArn,omitempty"`
	ECSServiceARN    string            `json:"ecsServiceArn,omitempty"`
	CreatedAt        time.Time         `json:"createdAt"`
	UpdatedAt        time.Time         `json:"updatedAt"`
}

// SDOperationRecord is an operation's snapshot record.
type SDOperationRecord struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Status       string            `json:"status"`
	ErrorCode    string            `json:"errorCode,omitempty"`
	ErrorMessage string            `json:"errorMessage,omitempty"`
	Targets      map[string]string `json:"targets,omitempty"`
	CreatedAt    time.Time         `json:"createdAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
}
