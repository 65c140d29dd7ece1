package secretsapi

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"berth.dev/berth/internal/smshape"
)

// Secrets Manager's limits (the model's constraints and the user guide's
// quotas).
const (
	MaxNameLength        = 512
	MaxSecretIDLength    = 2048
	MaxDescriptionLength = 2048
	MaxKmsKeyIDLength    = 2048
	MaxValueBytes        = 65536
	MinTokenLength       = 32
	MaxTokenLength       = 64
	MaxStageLength       = 256
	MaxStages            = 20
	MaxTagKeyLength      = 128
	MaxTagValueLength    = 256
	MinRecoveryDays      = 7
	MaxRecoveryDays      = 30
	DefaultRecoveryDays  = 30
	MaxListResults       = 100
	MaxFilterValues      = 10
	MaxFilterValueLength = 512
	MaxBatchSecretIDs    = 20
)

var (
	namePattern        = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)
	filterValuePattern = regexp.MustCompile(`^!?[a-zA-Z0-9 :_@/+=.\-!]*$`)
)

// ValidName applies CreateSecret's name rules: 1 to 512 ASCII letters,
// digits and /_+=.@- . (A name ending in a hyphen and six characters is
// legal: AWS only warns that partial-ARN look-ups may confuse it.)
func ValidName(name string) bool {
	return len(name) >= 1 && len(name) <= MaxNameLength && namePattern.MatchString(name)
}

// checkName answers a bad name as Secrets Manager does.
func checkName(name *string) (string, error) {
	if name == nil {
		return "", invalidParameter("You must provide a name for the secret.")
	}
	if !ValidName(*name) {
		return "", invalidParameter("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	return *name, nil
}

func checkSecretID(id *string) (string, error) {
	if id == nil || *id == "" {
		return "", invalidParameter("You must provide a SecretId: the name or ARN of the secret.")
	}
	if len(*id) > MaxSecretIDLength {
		return "", invalidParameter("The SecretId is longer than %d characters.", MaxSecretIDLength)
	}
	return *id, nil
}

// checkToken checks a ClientRequestToken (the version ID it names).
func checkToken(tok *string) (string, bool, error) {
	if tok == nil {
		return "", false, nil
	}
	if n := len(*tok); n < MinTokenLength || n > MaxTokenLength {
		return "", false, invalidParameter("ClientRequestToken must be %d to %d characters long.", MinTokenLength, MaxTokenLength)
	}
	return *tok, true, nil
}

// value is a request's secret value.
type value struct {
	plain  []byte
	binary bool
}

// checkValue takes SecretString or SecretBinary; ok is false when the
// request gives neither.
func checkValue(s *string, b []byte) (value, bool, error) {
	switch {
	case s != nil && b != nil:
		return value{}, false, invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.")
	case s != nil:
		if len(*s) > MaxValueBytes {
			return value{}, false, invalidParameter("The SecretString is larger than %d bytes.", MaxValueBytes)
		}
		return value{plain: []byte(*s)}, true, nil
	case b != nil:
		if len(b) > MaxValueBytes {
			return value{}, false, invalidParameter("The SecretBinary is larger than %d bytes.", MaxValueBytes)
		}
		return value{plain: b, binary: true}, true, nil
	}
	return value{}, false, nil
}

func checkDescription(d *string) error {
	if d != nil && utf8.RuneCountInString(*d) > MaxDescriptionLength {
		return invalidParameter("The Description is longer than %d characters.", MaxDescriptionLength)
	}
	return nil
}

func checkKmsKeyID(k *string) error {
	if k != nil && (len(*k) > MaxKmsKeyIDLength || *k == "") {
		return invalidParameter("The KmsKeyId must be 1 to %d characters long.", MaxKmsKeyIDLength)
	}
	return nil
}

func checkStage(s string) error {
	if s == "" || len(s) > MaxStageLength {
		return invalidParameter("A staging label must be 1 to %d characters long.", MaxStageLength)
	}
	return nil
}

func checkTagKey(k string) error {
	if k == "" || utf8.RuneCountInString(k) > MaxTagKeyLength {
		return invalidParameter("A tag key must be 1 to %d characters long.", MaxTagKeyLength)
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return invalidParameter("Tag keys beginning with aws: are reserved for AWS use.")
	}
	return nil
}

func checkTags(tags []smshape.Tag) ([]smTag, error) {
	if len(tags) > 50 {
		return nil, invalidParameter("A secret can have at most 50 tags; the request has %d.", len(tags))
	}
	out := make([]smTag, 0, len(tags))
	for _, t := range tags {
		if t.Key == nil {
			return nil, invalidParameter("A tag key must be 1 to %d characters long.", MaxTagKeyLength)
		}
		if err := checkTagKey(*t.Key); err != nil {
			return nil, err
		}
		v := ""
		if t.Value != nil {
			v = *t.Value
		}
		if utf8.RuneCountInString(v) > MaxTagValueLength {
			return nil, invalidParameter("A tag value must be at most %d characters long.", MaxTagValueLength)
		}
		out = append(out, smTag{Key: *t.Key, Value: v})
	}
	return out, nil
}

type smTag struct{ Key, Value string }
