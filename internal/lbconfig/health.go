package lbconfig

import "time"

// Health states a data plane reports (ELB's TargetHealthStateEnum values
// for the states it decides; draining and unused follow from registration
// and are the server's to derive).
const (
	HealthInitial   = "initial"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// ELB's health reason codes a data plane reports.
const (
	ReasonInitialHealthChecking = "Elb.InitialHealthChecking"
	ReasonResponseCodeMismatch  = "Target.ResponseCodeMismatch"
	ReasonTimeout               = "Target.Timeout"
	ReasonFailedHealthChecks    = "Target.FailedHealthChecks"
	ReasonInternalError         = "Elb.InternalError"
)

// TargetHealth is one target's health as a data plane node sees it.
type TargetHealth struct {
	TargetGroupARN string `json:"targetGroupArn"`
	ID             string `json:"id"`
	Port           int    `json:"port"`
	State          string `json:"state"`
	// Reason and Description are ELB's (Description as ELB words it, e.g.
	// "Health checks failed with these codes: [502]"); empty when healthy.
	Reason      string    `json:"reason,omitempty"`
	Description string    `json:"description,omitempty"`
	Since       time.Time `json:"since"` // when the target entered State
}

// HealthReport is what a data plane node sends the server: the full health
// of every target it checks (Full) or the changes since its last report.
type HealthReport struct {
	Node    string         `json:"node"`
	Full    bool           `json:"full"`
	Targets []TargetHealth `json:"targets"`
	// Revision is the Config revision the node serves.
	Revision uint64 `json:"revision"`
	// Serving lists the load balancers whose every listener the node has
	// bound.
	Serving []string `json:"serving,omitempty"`
}
