package taskdef

import (
	"fmt"
	"strings"

	"berth.dev/berth/internal/apierr"
)

// clientf is a ClientException, the exception ECS answers for nearly every
// RegisterTaskDefinition validation failure.
func clientf(format string, args ...any) *apierr.Error {
	return apierr.Clientf(format, args...)
}

// invalidEnum is the message ECS gives for a value outside an enum, in the form
// it uses for log drivers:
// "awsvpc is not a valid log driver. Must be one of [awslogs,splunk,awsfirelens]".
func invalidEnum[E ~string](what string, got E, allowed []E) *apierr.Error {
	vals := make([]string, len(allowed))
	for i, v := range allowed {
		vals[i] = string(v)
	}
	return clientf("%s is not a valid %s. Must be one of [%s]", got, what, strings.Join(vals, ","))
}

// inContainer prefixes a container-level problem the way ECS does:
// "Invalid setting for container 'NAME'. ...".
func inContainer(name, format string, args ...any) *apierr.Error {
	return clientf("Invalid setting for container '%s'. %s", name, fmt.Sprintf(format, args...))
}
