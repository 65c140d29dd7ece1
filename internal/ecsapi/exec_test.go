package ecsapi_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"berth.dev/berth/internal/fsm"
)

// enableExecuteCommand is refused where it is set (RunTask, StartTask,
// CreateService, UpdateService): berth has no ECS Exec, so storing the
// flag would report a capability that does not exist. false is accepted.
func TestEnableExecuteCommandRefused(t *testing.T) {
	m := fsm.New(fuzzNamer, slog.New(slog.DiscardHandler))
	if err := m.Restore(bytes.NewReader(fuzzState(t))); err != nil {
		t.Fatal(err)
	}
	api := newFuzzAPI(m)
	if rec := serve(api, "CreateService", []byte(`{"serviceName":"web","taskDefinition":"app","desiredCount":0}`)); rec.Code != http.StatusOK {
		t.Fatalf("setup: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct{ op, body string }{
		{"RunTask", `{"taskDefinition":"app","enableExecuteCommand":true}`},
		{"StartTask", `{"taskDefinition":"app","containerInstances":["` + instanceID + `"],"enableExecuteCommand":true}`},
		{"CreateService", `{"serviceName":"api","taskDefinition":"app","desiredCount":0,"enableExecuteCommand":true}`},
		{"UpdateService", `{"service":"web","enableExecuteCommand":true}`},
	} {
		rec := serve(api, tc.op, []byte(tc.body))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "UnsupportedFeatureException") ||
			!strings.Contains(rec.Body.String(), "enableExecuteCommand must be false") {
			t.Errorf("%s with enableExecuteCommand: got %d %s", tc.op, rec.Code, rec.Body)
		}
	}
	before := persist(t, m)
	if rec := serve(api, "UpdateService", []byte(`{"service":"web","enableExecuteCommand":false}`)); rec.Code != http.StatusOK {
		t.Errorf("UpdateService with enableExecuteCommand false: got %d %s", rec.Code, rec.Body)
	}
	if bytes.Equal(before, persist(t, m)) {
		t.Error("the accepted update changed nothing: the test cannot tell a refusal from a no-op")
	}
}
