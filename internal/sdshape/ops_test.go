package sdshape

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestOperationsListed(t *testing.T) {
	for _, op := range []string{"CreatePrivateDnsNamespace", "DiscoverInstances", "DiscoverInstancesRevision", "ListTagsForResource"} {
		if !slices.Contains(Operations, op) {
			t.Errorf("%s missing from Operations", op)
		}
	}
	if ErrorCodes["NamespaceAlreadyExists"] != "NamespaceAlreadyExists" || ErrorStatus["InvalidInput"] != 400 {
		t.Errorf("error tables: %v %v", ErrorCodes, ErrorStatus)
	}
}

func TestJSONEncoding(t *testing.T) {
	id := "gv4g5meo7ndmeh4fqskygvk23d2fijwa-k9302yzd"
	b, err := json.Marshal(GetOperationResponse{Operation: &Operation{Id: &id, Status: OperationStatusSuccess,
		Targets: map[string]string{"NAMESPACE": "ns-ylexjili4cdxy3xm"}, CreateDate: NewTimestamp(time.UnixMilli(1587055860121))}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Operation":{"CreateDate":1587055860.121,"Id":"` + id + `","Status":"SUCCESS","Targets":{"NAMESPACE":"ns-ylexjili4cdxy3xm"}}}`
	if string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
}
