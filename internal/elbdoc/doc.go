// Package elbdoc holds the ELBv2 documents berth persists inside log
// entries and snapshot records (package fsm/wire) and its domain uses
// (package elb, by alias): actions, rule conditions, health checks,
// targets and tags, with ELBv2's own member names as JSON names. Like the
// ECS shapes, they follow AWS's published contract: members are added,
// never renamed or retyped. Leaf package: it imports only the standard
// library.
package elbdoc

// Tag is a resource tag.
type Tag struct {
	Key   string  `json:"Key"`
	Value *string `json:"Value,omitempty"`
}

// Matcher is a health check's success codes.
type Matcher struct {
	HttpCode string `json:"HttpCode,omitempty"`
	GrpcCode string `json:"GrpcCode,omitempty"`
}

// HealthCheck is a target group's health check, defaults applied.
type HealthCheck struct {
	Enabled            bool     `json:"HealthCheckEnabled"`
	Protocol           string   `json:"HealthCheckProtocol"`
	Port               string   `json:"HealthCheckPort"` // "traffic-port" or a number
	Path               string   `json:"HealthCheckPath,omitempty"`
	IntervalSeconds    int      `json:"HealthCheckIntervalSeconds"`
	TimeoutSeconds     int      `json:"HealthCheckTimeoutSeconds"`
	HealthyThreshold   int      `json:"HealthyThresholdCount"`
	UnhealthyThreshold int      `json:"UnhealthyThresholdCount"`
	Matcher            *Matcher `json:"Matcher,omitempty"`
}

// TargetGroupTuple is one target group of a forward action.
type TargetGroupTuple struct {
	TargetGroupArn string `json:"TargetGroupArn"`
	Weight         *int   `json:"Weight,omitempty"`
}

// Stickiness is a forward action's target-group stickiness.
type Stickiness struct {
	Enabled         bool `json:"Enabled"`
	DurationSeconds int  `json:"DurationSeconds,omitempty"`
}

// ForwardConfig is a forward action's target groups.
type ForwardConfig struct {
	TargetGroups []TargetGroupTuple `json:"TargetGroups"`
	Stickiness   *Stickiness        `json:"TargetGroupStickinessConfig,omitempty"`
}

// RedirectConfig is a redirect action.
type RedirectConfig struct {
	Protocol   string `json:"Protocol,omitempty"`
	Host       string `json:"Host,omitempty"`
	Port       string `json:"Port,omitempty"`
	Path       string `json:"Path,omitempty"`
	Query      string `json:"Query,omitempty"`
	StatusCode string `json:"StatusCode"` // HTTP_301 or HTTP_302
}

// FixedResponseConfig is a fixed-response action.
type FixedResponseConfig struct {
	StatusCode  string `json:"StatusCode"`
	ContentType string `json:"ContentType,omitempty"`
	MessageBody string `json:"MessageBody,omitempty"`
}

// Action is one rule action. A forward action is stored normalised: both
// TargetGroupArn (when it names one group) and ForwardConfig.
type Action struct {
	Type           string               `json:"Type"`
	Order          int                  `json:"Order,omitempty"`
	TargetGroupArn string               `json:"TargetGroupArn,omitempty"`
	Forward        *ForwardConfig       `json:"ForwardConfig,omitempty"`
	Redirect       *RedirectConfig      `json:"RedirectConfig,omitempty"`
	FixedResponse  *FixedResponseConfig `json:"FixedResponseConfig,omitempty"`
}

// TargetGroups returns the ARNs a forward action names, in order.
func (a Action) TargetGroups() []string {
	var out []string
	if a.Forward != nil {
		for _, t := range a.Forward.TargetGroups {
			out = append(out, t.TargetGroupArn)
		}
	}
	if len(out) == 0 && a.TargetGroupArn != "" {
		out = append(out, a.TargetGroupArn)
	}
	return out
}

// QueryStringKeyValue is one query-string condition pair.
type QueryStringKeyValue struct {
	Key   string `json:"Key,omitempty"`
	Value string `json:"Value"`
}

// Values is the Values member of a condition config.
type Values struct {
	Values []string `json:"Values"`
}

// HttpHeaderConfig is an http-header condition.
type HttpHeaderConfig struct {
	HttpHeaderName string   `json:"HttpHeaderName"`
	Values         []string `json:"Values"`
}

// QueryStringConfig is a query-string condition.
type QueryStringConfig struct {
	Values []QueryStringKeyValue `json:"Values"`
}

// RuleCondition is one rule condition. It is stored normalised: the
// field's config is set (legacy Values move into it) and Values holds the
// legacy values as sent for host-header and path-pattern.
type RuleCondition struct {
	Field                   string             `json:"Field"`
	Values                  []string           `json:"Values,omitempty"`
	HostHeaderConfig        *Values            `json:"HostHeaderConfig,omitempty"`
	PathPatternConfig       *Values            `json:"PathPatternConfig,omitempty"`
	HttpHeaderConfig        *HttpHeaderConfig  `json:"HttpHeaderConfig,omitempty"`
	HttpRequestMethodConfig *Values            `json:"HttpRequestMethodConfig,omitempty"`
	QueryStringConfig       *QueryStringConfig `json:"QueryStringConfig,omitempty"`
	SourceIpConfig          *Values            `json:"SourceIpConfig,omitempty"`
}

// Target is a target of RegisterTargets / DeregisterTargets.
type Target struct {
	ID               string `json:"Id"`
	Port             int    `json:"Port,omitempty"`
	AvailabilityZone string `json:"AvailabilityZone,omitempty"`
}
