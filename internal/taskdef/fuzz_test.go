package taskdef

import (
	"reflect"
	"testing"

	"berth.dev/berth/internal/apierr"
)

// FuzzBuild decodes arbitrary JSON into a request and builds it: Build never
// panics, every error is an *apierr.Error, the request is left alone, and a
// successful result builds again to itself.
func FuzzBuild(f *testing.F) {
	for _, in := range seedInputs(f) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := decodeRequest(data, false)
		if err != nil {
			return
		}
		before := deepCopy(*req)
		td, err := Build(req)
		if !reflect.DeepEqual(*req, before) {
			t.Fatalf("Build modified its request: got %+v, want %+v", *req, before)
		}
		if err != nil {
			if _, ok := apierr.As(err); !ok {
				t.Fatalf("error type: got %T (%v), want *apierr.Error", err, err)
			}
			if td != nil {
				t.Fatalf("result with error: got %+v, want nil", td)
			}
			return
		}
		if path, ok := sharedMemory(req, td); ok {
			t.Fatalf("aliasing: got %s, want none", path)
		}
		again, err := Build(requestFrom(t, td))
		if err != nil {
			t.Fatalf("rebuild: got error %v, want none", err)
		}
		if !reflect.DeepEqual(again, td) {
			t.Fatalf("rebuild: got %s, want %s", mustJSON(t, again), mustJSON(t, td))
		}
	})
}
