package taskdef

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestBuild runs the golden files in testdata. Directive:
//
//	build [file=<name>] [show=<member>,...]
//	<request JSON, unless file names one in testdata>
//	----
//	<the TaskDefinition JSON (only the listed top-level members with show=), or
//	 error: <Code>: <message>>
//
// Every successful case is also checked to leave its request untouched, to
// share no memory with it and to be idempotent.
func TestBuild(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("golden files: got %v (err %v), want some", files, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				if d.Cmd != "build" {
					d.Fatalf(t, "unknown directive %q", d.Cmd)
				}
				input := []byte(d.Input)
				var show []string
				for _, arg := range d.CmdArgs {
					switch arg.Key {
					case "file":
						b, err := os.ReadFile(filepath.Join("testdata", arg.Vals[0]))
						if err != nil {
							d.Fatalf(t, "read %s: %v", arg.Vals[0], err)
						}
						input = b
					case "show":
						for _, v := range arg.Vals {
							show = append(show, strings.Split(v, ",")...)
						}
					default:
						d.Fatalf(t, "unknown argument %q", arg.Key)
					}
				}
				return runBuild(t, d, input, show)
			})
		})
	}
}

func runBuild(t *testing.T, d *datadriven.TestData, input []byte, show []string) string {
	req, err := decodeRequest(input, true)
	if err != nil {
		d.Fatalf(t, "decode request: %v", err)
	}
	before, _ := json.Marshal(req)
	td, err := Build(req)
	after, _ := json.Marshal(req)
	if string(before) != string(after) {
		d.Fatalf(t, "Build modified its request: got %s, want %s", after, before)
	}
	if err != nil {
		return errorLine(t, err) + "\n"
	}
	if path, ok := sharedMemory(req, td); ok {
		d.Fatalf(t, "result shares memory with the request: got %s, want none", path)
	}
	again, err := Build(requestFrom(t, td))
	if err != nil {
		d.Fatalf(t, "rebuild: got error %v, want none", err)
	}
	if !reflect.DeepEqual(again, td) {
		d.Fatalf(t, "rebuild: got %s, want %s", mustJSON(t, again), mustJSON(t, td))
	}
	out := any(td)
	if len(show) > 0 {
		var all map[string]json.RawMessage
		if err := json.Unmarshal([]byte(mustJSON(t, td)), &all); err != nil {
			d.Fatalf(t, "re-decode: %v", err)
		}
		picked := map[string]json.RawMessage{}
		for _, k := range show {
			if v, ok := all[k]; ok {
				picked[k] = v
			}
		}
		out = picked
	}
	return mustJSON(t, out) + "\n"
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

// TestBuildRoundTrip registers a request that sets every member of the request
// and of a container definition and checks that each comes back unchanged.
func TestBuildRoundTrip(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "full_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := decodeRequest(body, true)
	if err != nil {
		t.Fatalf("decode: got %v, want nil", err)
	}
	// The fixture must set everything, so the test fails when the model grows.
	zero := zeroMembers(reflect.ValueOf(*req), "req")
	for k := range zeroMembers(reflect.ValueOf(req.ContainerDefinitions[0]), "req.ContainerDefinitions[0]") {
		zero[k] = true
	}
	if len(zero) > 0 {
		t.Fatalf("fixture leaves members unset: got %v, want none", keys(zero))
	}

	td, err := Build(req)
	if err != nil {
		t.Fatalf("Build: got %v, want nil", err)
	}
	rv := reflect.ValueOf(*req)
	tv := reflect.ValueOf(*td)
	for i := range rv.NumField() {
		name := rv.Type().Field(i).Name
		if name == "Tags" {
			continue // stored by the caller, not part of the TaskDefinition
		}
		got := tv.FieldByName(name)
		if !got.IsValid() {
			t.Errorf("%s: got no such TaskDefinition member, want one", name)
			continue
		}
		if want := rv.Field(i).Interface(); !reflect.DeepEqual(got.Interface(), want) {
			t.Errorf("%s: got %s, want %s", name, mustJSON(t, got.Interface()), mustJSON(t, want))
		}
	}
	if path, ok := sharedMemory(req, td); ok {
		t.Errorf("aliasing: got %s, want none", path)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// seedInputs returns the request bodies of the golden files.
func seedInputs(t testing.TB) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cur []string
		in := false
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(line, "build"):
				in, cur = true, nil
			case line == "----" && in:
				in = false
				if len(cur) > 0 {
					out = append(out, []byte(strings.Join(cur, "\n")))
				}
			case in:
				cur = append(cur, line)
			}
		}
	}
	if full, err := os.ReadFile(filepath.Join("testdata", "full_request.json")); err == nil {
		out = append(out, full)
	}
	return out
}
