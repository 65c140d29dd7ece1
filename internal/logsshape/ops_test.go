package logsshape

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestOperationsAndErrors(t *testing.T) {
	for _, op := range []string{"PutLogEvents", "FilterLogEvents", "DescribeMetricFilters"} {
		if !slices.Contains(Operations, op) {
			t.Errorf("%s missing from Operations", op)
		}
	}
	for _, code := range []string{"ResourceNotFoundException", "ResourceAlreadyExistsException", "InvalidParameterException", "LimitExceededException", "DataAlreadyAcceptedException"} {
		if ErrorCodes[code] != code || ErrorStatus[code] != 400 {
			t.Errorf("%s: %q %d", code, ErrorCodes[code], ErrorStatus[code])
		}
	}
}

func TestJSONEncoding(t *testing.T) {
	ts, msg := int64(1714567890123), "hello"
	b, err := json.Marshal(GetLogEventsResponse{Events: []OutputLogEvent{{Timestamp: &ts, Message: &msg}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"events":[{"message":"hello","timestamp":1714567890123}]}`; string(b) != want {
		t.Fatalf("got %s want %s", b, want)
	}
}
