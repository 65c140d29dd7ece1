package sd

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"berth.dev/berth/internal/apierr"
)

// Limits of the model.
const (
	MaxNameLength          = 1024
	MaxPrivateNameLength   = 253
	MaxDescription         = 1024
	MaxCreatorRequestID    = 64
	MaxResourceID          = 64
	MaxInstanceID          = 64
	MaxAttributes          = 30
	MaxAttributeKey        = 255
	MaxAttributeValue      = 1024
	MaxAttributesTotal     = 5000
	MaxServiceAttributes   = 30
	MaxTags                = 50 // per resource
	MaxTagsPerRequest      = 200
	MaxTagKey              = 128
	MaxTagValue            = 256
	MaxARN                 = 1011
	MaxNextToken           = 4096
	MaxListResults         = 100
	MaxDiscoverResults     = 1000
	DefaultDiscoverResults = 100
	MaxTTL                 = 2147483647
	MaxOperationID         = 255
)

// Invalid returns Cloud Map's InvalidInput error.
func Invalid(format string, args ...any) *apierr.Error {
	return apierr.Newf(CodeInvalidInput, format, args...)
}

// Constraint is the model's validation message for one member.
func Constraint(value, member, constraint string) *apierr.Error {
	return Invalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", clip(value), member, constraint)
}

// Missing is the model's message for a required member that is absent.
func Missing(member string) *apierr.Error {
	return Invalid("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func clip(s string) string {
	if len(s) > 256 {
		return s[:256] + "..."
	}
	return s
}

var (
	printable       = regexp.MustCompile(`^[!-~]+$`)
	instanceIDRe    = regexp.MustCompile(`^[0-9a-zA-Z_/:.@-]+$`)
	serviceLabel    = regexp.MustCompile(`^([a-zA-Z0-9_][a-zA-Z0-9\-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])$`)
	attrKeyRe       = regexp.MustCompile(`^[a-zA-Z0-9!-~]+$`)
	attrValueRe     = regexp.MustCompile(`^([!-~][ \ta-zA-Z0-9!-~]*){0,1}[!-~]{0,1}$`)
	resourceIDRe    = regexp.MustCompile(`^[!-~]+$`)
	serviceNameSpec = `((?=^.{1,127}$)^([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\.([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$)|(^\.$)`
)

func lengthBetween(lo, hi int) string {
	return fmt.Sprintf("Member must have length between %d and %d", lo, hi)
}

// ValidateNamespaceName checks a namespace name: DNS namespaces
// ^(?!arn:)[!-~]{1,253}$, HTTP ones ^(?!arn:)[!-~]{1,1024}$.
func ValidateNamespaceName(name, typ string) error {
	max, pattern := MaxNameLength, "^(?!arn:)[!-~]{1,1024}$"
	if typ != NamespaceHTTP {
		max, pattern = MaxPrivateNameLength, "^(?!arn:)[!-~]{1,253}$"
	}
	if name == "" || len(name) > max {
		return Constraint(name, "name", lengthBetween(1, max))
	}
	if !printable.MatchString(name) || strings.HasPrefix(name, "arn:") {
		return Constraint(name, "name", "Member must satisfy regular expression pattern: "+pattern)
	}
	if typ != NamespaceHTTP {
		fq := strings.TrimSuffix(name, ".")
		for _, l := range strings.Split(fq, ".") {
			if l == "" || len(l) > 63 {
				return Invalid("Namespace name %s is not a valid domain name.", name)
			}
		}
	}
	return nil
}

// ValidateServiceName checks a service name against the model's pattern
// (DNS labels of [A-Za-z0-9_-], 127 characters in all, or ".").
func ValidateServiceName(name string) error {
	if name == "." {
		return nil
	}
	ok := name != "" && len(name) <= 127
	if ok {
		for _, l := range strings.Split(name, ".") {
			if !serviceLabel.MatchString(l) {
				ok = false
				break
			}
		}
	}
	if !ok {
		return Constraint(name, "name", "Member must satisfy regular expression pattern: "+serviceNameSpec)
	}
	return nil
}

// ValidateResourceID checks a namespace or service ID (1-64 printable).
func ValidateResourceID(id, member string) error {
	if id == "" {
		return Missing(member)
	}
	if len(id) > MaxResourceID {
		return Constraint(id, member, fmt.Sprintf("Member must have length less than or equal to %d", MaxResourceID))
	}
	if !resourceIDRe.MatchString(id) {
		return Constraint(id, member, "Member must satisfy regular expression pattern: ^[!-~]+$")
	}
	return nil
}

// ValidateInstanceID checks an instance ID (^[0-9a-zA-Z_/:.@-]+$, ≤ 64).
func ValidateInstanceID(id string) error {
	if id == "" {
		return Missing("instanceId")
	}
	if len(id) > MaxInstanceID {
		return Constraint(id, "instanceId", fmt.Sprintf("Member must have length less than or equal to %d", MaxInstanceID))
	}
	if !instanceIDRe.MatchString(id) {
		return Constraint(id, "instanceId", "Member must satisfy regular expression pattern: ^[0-9a-zA-Z_/:.@-]+$")
	}
	return nil
}

// ValidateCreatorRequestID checks a CreatorRequestId (≤ 64).
func ValidateCreatorRequestID(id string) error {
	if len(id) > MaxCreatorRequestID {
		return Constraint(id, "creatorRequestId", fmt.Sprintf("Member must have length less than or equal to %d", MaxCreatorRequestID))
	}
	return nil
}

// ValidateDescription checks a description (≤ 1024).
func ValidateDescription(d string) error {
	if utf8.RuneCountInString(d) > MaxDescription {
		return Constraint(d, "description", fmt.Sprintf("Member must have length less than or equal to %d", MaxDescription))
	}
	return nil
}

// ValidateTTL checks a record or SOA TTL (0-2147483647).
func ValidateTTL(ttl int64, member string) error {
	if ttl < 0 || ttl > MaxTTL {
		return Constraint(fmt.Sprint(ttl), member, fmt.Sprintf("Member must have value between 0 and %d", MaxTTL))
	}
	return nil
}

// ValidateMaxResults checks MaxResults against 1..max.
func ValidateMaxResults(n *int32, max int) error {
	if n != nil && (*n < 1 || int(*n) > max) {
		return Constraint(fmt.Sprint(*n), "maxResults", fmt.Sprintf("Member must have value between 1 and %d", max))
	}
	return nil
}

// ValidateAttributes checks an instance's attributes: at most 30 custom
// ones, keys ≤ 255, values ≤ 1024, keys and values ≤ 5,000 characters in
// all, and the reserved attributes' formats.
func ValidateAttributes(attrs map[string]string) error {
	if attrs == nil {
		return Missing("attributes")
	}
	custom, total := 0, 0
	for k, v := range attrs {
		if k == "" || len(k) > MaxAttributeKey || !attrKeyRe.MatchString(k) {
			return Invalid("Attribute key %q is invalid: keys are 1 to %d printable characters.", clip(k), MaxAttributeKey)
		}
		if len(v) > MaxAttributeValue || !attrValueRe.MatchString(v) {
			return Invalid("Attribute value for key %s is invalid: values are up to %d printable characters.", k, MaxAttributeValue)
		}
		if !strings.HasPrefix(k, "AWS_") {
			custom++
		}
		total += len(k) + len(v)
	}
	if custom > MaxAttributes {
		return Invalid("Instance has %d custom attributes: an instance can have at most %d.", custom, MaxAttributes)
	}
	if total > MaxAttributesTotal {
		return Invalid("The total length of the attribute keys and values is %d characters: it can be at most %d.", total, MaxAttributesTotal)
	}
	if s, ok := attrs[AttrInitHealth]; ok && s != Healthy && s != Unhealthy {
		return Invalid("%s must be HEALTHY or UNHEALTHY.", AttrInitHealth)
	}
	return nil
}

// ValidateTag checks one tag's key and value.
func ValidateTag(i int, key string, value *string) error {
	if key == "" && value == nil {
		return Missing(fmt.Sprintf("tags.%d.member.key", i+1))
	}
	if key == "" || utf8.RuneCountInString(key) > MaxTagKey {
		return Constraint(key, fmt.Sprintf("tags.%d.member.key", i+1), lengthBetween(1, MaxTagKey))
	}
	if value == nil {
		return Missing(fmt.Sprintf("tags.%d.member.value", i+1))
	}
	if utf8.RuneCountInString(*value) > MaxTagValue {
		return Constraint(*value, fmt.Sprintf("tags.%d.member.value", i+1), lengthBetween(0, MaxTagValue))
	}
	return nil
}
