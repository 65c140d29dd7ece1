package sd

// Health status filters of DiscoverInstances.
const (
	FilterHealthy          = "HEALTHY"
	FilterUnhealthy        = "UNHEALTHY"
	FilterAll              = "ALL"
	FilterHealthyOrElseAll = "HEALTHY_OR_ELSE_ALL"
)

// Candidate is an instance DiscoverInstances may return, with its health
// as the API reports it (HEALTHY, UNHEALTHY, or UNKNOWN for a service
// without a health check).
type Candidate struct {
	ID         string
	Attributes map[string]string
	Health     string
}

// InstanceHealth is the health an instance reports: UNKNOWN for a service
// without a health check, else the custom status (HEALTHY when unset).
func InstanceHealth(customCheck bool, custom string) string {
	if !customCheck {
		return Unknown
	}
	if custom == Unhealthy {
		return Unhealthy
	}
	return Healthy
}

func matches(attrs, params map[string]string) bool {
	for k, v := range params {
		got, ok := attrs[k]
		if !ok || got != v {
			return false
		}
	}
	return true
}

// Discover filters candidates as DiscoverInstances does: every
// QueryParameters pair must match (AND); then the health filter (HEALTHY,
// UNHEALTHY, ALL, HEALTHY_OR_ELSE_ALL; "" is HEALTHY; ignored when
// hasCheck is false, every instance is returned); then OptionalParameters:
// when some remaining instances match them all, only those, else all. The
// order of in is kept.
func Discover(in []Candidate, query, optional map[string]string, filter string, hasCheck bool) []Candidate {
	var out []Candidate
	for _, c := range in {
		if matches(c.Attributes, query) {
			out = append(out, c)
		}
	}
	if hasCheck {
		if filter == "" {
			filter = FilterHealthy
		}
		var healthy, unhealthy []Candidate
		for _, c := range out {
			if c.Health == Unhealthy {
				unhealthy = append(unhealthy, c)
			} else {
				healthy = append(healthy, c)
			}
		}
		switch filter {
		case FilterHealthy:
			out = healthy
		case FilterUnhealthy:
			out = unhealthy
		case FilterHealthyOrElseAll:
			if len(healthy) > 0 {
				out = healthy
			}
		}
	}
	if len(optional) > 0 {
		var opt []Candidate
		for _, c := range out {
			if matches(c.Attributes, optional) {
				opt = append(opt, c)
			}
		}
		if len(opt) > 0 {
			out = opt
		}
	}
	return out
}
