package taskdef

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

// decodeRequest decodes a RegisterTaskDefinition body, rejecting unknown
// members so a typo in a test input cannot go unnoticed.
func decodeRequest(data []byte, strict bool) (*shape.RegisterTaskDefinitionRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	var req shape.RegisterTaskDefinitionRequest
	if err := dec.Decode(&req); err != nil {
		return nil, err
	}
	return &req, nil
}

// requestFrom rebuilds a request from the members a task definition shares
// with it, as a client re-registering a described definition would.
func requestFrom(t testing.TB, td *shape.TaskDefinition) *shape.RegisterTaskDefinitionRequest {
	t.Helper()
	var req shape.RegisterTaskDefinitionRequest
	rv := reflect.ValueOf(&req).Elem()
	tv := reflect.ValueOf(deepCopy(*td))
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if f.Name == "Tags" {
			continue
		}
		src := tv.FieldByName(f.Name)
		if !src.IsValid() {
			t.Fatalf("TaskDefinition has no member %s: got %v, want a member for every request member but Tags", f.Name, src)
		}
		rv.Field(i).Set(src)
	}
	return &req
}

// errorLine renders a Build error for the golden files.
func errorLine(t testing.TB, err error) string {
	t.Helper()
	e, ok := apierr.As(err)
	if !ok {
		t.Fatalf("Build error type: got %T, want *apierr.Error", err)
	}
	return fmt.Sprintf("error: %s: %s", e.Code, e.Message)
}

// sharedMemory reports the first pointer, slice array or map reachable from
// both a and b.
func sharedMemory(a, b any) (string, bool) {
	seen := map[uintptr]string{}
	collect(reflect.ValueOf(a), "req", func(p uintptr, path string) {
		if _, ok := seen[p]; !ok {
			seen[p] = path
		}
	})
	var found string
	collect(reflect.ValueOf(b), "out", func(p uintptr, path string) {
		if found == "" {
			if other, ok := seen[p]; ok {
				found = path + " aliases " + other
			}
		}
	})
	return found, found != ""
}

func collect(v reflect.Value, path string, visit func(uintptr, string)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		visit(v.Pointer(), path)
		collect(v.Elem(), path, visit)
	case reflect.Slice:
		if v.IsNil() || v.Cap() == 0 {
			return
		}
		visit(v.Pointer(), path)
		for i := range v.Len() {
			collect(v.Index(i), fmt.Sprintf("%s[%d]", path, i), visit)
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		visit(v.Pointer(), path)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				collect(v.Field(i), path+"."+v.Type().Field(i).Name, visit)
			}
		}
	case reflect.Interface:
		if !v.IsNil() {
			collect(v.Elem(), path, visit)
		}
	}
}

// zeroMembers lists the members of v left at their zero value. A slice counts
// a member as set when any element sets it; a pointer to a non-struct counts as
// set when it is not nil.
func zeroMembers(v reflect.Value, path string) map[string]bool {
	out := map[string]bool{}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			out[path] = true
		} else if v.Elem().Kind() == reflect.Struct {
			return zeroMembers(v.Elem(), path)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			out[path] = true
			return out
		}
		var common map[string]bool
		for i := range v.Len() {
			m := zeroMembers(v.Index(i), path+"[]")
			if common == nil {
				common = m
				continue
			}
			for k := range common {
				if !m[k] {
					delete(common, k)
				}
			}
		}
		return common
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				for k := range zeroMembers(v.Field(i), path+"."+v.Type().Field(i).Name) {
					out[k] = true
				}
			}
		}
	default:
		if v.IsZero() {
			out[path] = true
		}
	}
	return out
}
