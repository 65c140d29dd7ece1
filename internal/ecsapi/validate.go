package ecsapi

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/shape"
)

// required returns *s, or "<name> cannot be empty." when it is missing.
func required(name string, s *string) (string, error) {
	if s == nil || strings.TrimSpace(*s) == "" {
		return "", apierr.InvalidParameterf("%s cannot be empty.", name)
	}
	return *s, nil
}

// checkCount bounds the length of a list parameter.
func checkCount(name string, n, min, max int) error {
	if n < min {
		if min == 1 {
			return apierr.InvalidParameterf("%s cannot be empty.", name)
		}
		return apierr.InvalidParameterf("%s must have at least %d items.", name, min)
	}
	if n > max {
		return apierr.InvalidParameterf("%s can have at most %d items.", name, max)
	}
	return nil
}

// enum is an ECS enum type.
type enum[T ~string] interface {
	~string
	Values() []T
}

// checkEnum accepts the zero value (absent) and any of the enum's values.
func checkEnum[T enum[T]](name string, v T) error {
	if v == "" || slices.Contains(v.Values(), v) {
		return nil
	}
	vals := make([]string, 0, len(v.Values()))
	for _, x := range v.Values() {
		vals = append(vals, string(x))
	}
	return apierr.InvalidParameterf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", echo(string(v)), name, strings.Join(vals, ", "))
}

func checkEnums[T enum[T]](name string, vs []T) error {
	for _, v := range vs {
		if err := checkEnum(name, v); err != nil {
			return err
		}
	}
	return nil
}

// pageSize validates maxResults against [1, limit] and applies the default.
func pageSize(maxResults *int32, def, limit int32) (int, error) {
	if maxResults == nil {
		return int(def), nil
	}
	if *maxResults < 1 || *maxResults > limit {
		return 0, apierr.InvalidParameterf("maxResults must be between 1 and %d, but was %d.", limit, *maxResults)
	}
	return int(*maxResults), nil
}

type pageToken struct {
	Op  string `json:"o"`
	Key string `json:"k"`
}

// nextToken returns an opaque token that resumes op after key.
func nextToken(op, key string) *string {
	b, _ := json.Marshal(pageToken{Op: op, Key: key})
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// pagination validates a List operation's maxResults (default def, at
// most max) and nextToken, and returns the page size and the key to resume
// after.
func pagination(op string, maxResults *int32, tok *string, def, max int32) (int, string, error) {
	limit, err := pageSize(maxResults, def, max)
	if err != nil {
		return 0, "", err
	}
	after, err := resume(op, tok)
	if err != nil {
		return 0, "", err
	}
	return limit, after, nil
}

// resume decodes a token given to op; "" starts from the beginning.
func resume(op string, tok *string) (string, error) {
	if tok == nil || *tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*tok)
	var t pageToken
	if err != nil || json.Unmarshal(b, &t) != nil || t.Op != op || t.Key == "" {
		return "", apierr.InvalidParameterf("%s", "The nextToken is not valid for this request. Use the nextToken of a previous response to the same operation.")
	}
	return t.Key, nil
}

var tagPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`) })

// validateTags applies ECS's tag rules to a request's tags.
func validateTags(tags []shape.Tag) error {
	if len(tags) > fsm.MaxTags {
		return apierr.InvalidParameterf("A resource can have at most %d tags, but the request has %d.", fsm.MaxTags, len(tags))
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == nil || *t.Key == "" {
			return apierr.InvalidParameterf("Tag keys must be between 1 and 128 characters long.")
		}
		k, v := *t.Key, deref(t.Value)
		switch {
		case len([]rune(k)) > 128:
			return apierr.InvalidParameterf("Tag key %q is longer than 128 characters.", echo(k))
		case len([]rune(v)) > 256:
			return apierr.InvalidParameterf("The value of tag %q is longer than 256 characters.", echo(k))
		case !tagPattern().MatchString(k):
			return apierr.InvalidParameterf("Tag key %q has characters that are not allowed. Tag keys and values may contain letters, numbers, spaces and _ . : / = + - @.", echo(k))
		case !tagPattern().MatchString(v):
			return apierr.InvalidParameterf("The value of tag %q has characters that are not allowed. Tag keys and values may contain letters, numbers, spaces and _ . : / = + - @.", echo(k))
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return apierr.InvalidParameterf("Tag keys with the aws: prefix are reserved for AWS use.")
		case seen[k]:
			return apierr.InvalidParameterf("Tag key %q appears more than once.", echo(k))
		}
		seen[k] = true
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptr[T any](v T) *T { return &v }

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
