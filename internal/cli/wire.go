package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"

	"berth.dev/berth/internal/shape"
)

// The SDK's types have no JSON member names, and encoding/json would print
// them with Go's field names, nulls and RFC 3339 times. berth prints and
// reads ECS's wire shapes instead: the structs of internal/shape, which are
// generated from the same SDK and carry the same Go field names, so a value
// is copied between the two by field name.

var (
	timeType      = reflect.TypeFor[time.Time]()
	timestampType = reflect.TypeFor[shape.Timestamp]()
	rawType       = reflect.TypeFor[json.RawMessage]()
)

// copyByName copies src into dst (both addressable or settable), matching
// struct fields by Go name and converting time.Time and shape.Timestamp.
// Fields dst lacks are dropped; kinds that do not match are left zero.
func copyByName(dst, src reflect.Value) {
	if !src.IsValid() {
		return
	}
	// Pointers and interfaces on either side.
	if src.Kind() == reflect.Interface {
		if src.IsNil() {
			return
		}
		if dst.Type() == rawType {
			if b, err := json.Marshal(src.Interface()); err == nil {
				dst.SetBytes(b)
			}
			return
		}
		copyByName(dst, src.Elem())
		return
	}
	if src.Kind() == reflect.Pointer {
		if src.IsNil() {
			return
		}
		copyByName(dst, src.Elem())
		return
	}
	if dst.Kind() == reflect.Pointer {
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		copyByName(dst.Elem(), src)
		return
	}
	switch {
	case src.Type() == timeType && dst.Type() == timestampType:
		dst.Set(reflect.ValueOf(*shape.NewTimestamp(src.Interface().(time.Time))))
		return
	case src.Type() == timestampType && dst.Type() == timeType:
		ts := src.Interface().(shape.Timestamp)
		dst.Set(reflect.ValueOf(ts.Time()))
		return
	case src.Type() == rawType && dst.Kind() == reflect.Interface:
		return // documents (none in the inputs berth reads)
	}
	switch dst.Kind() {
	case reflect.Struct:
		if src.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < dst.NumField(); i++ {
			f := dst.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			if sf := src.FieldByName(f.Name); sf.IsValid() {
				copyByName(dst.Field(i), sf)
			}
		}
	case reflect.Slice:
		if src.Kind() != reflect.Slice || src.IsNil() {
			return
		}
		if dst.Type() == rawType {
			return
		}
		s := reflect.MakeSlice(dst.Type(), src.Len(), src.Len())
		for i := 0; i < src.Len(); i++ {
			copyByName(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.Kind() != reflect.Map || src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(dst.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			k := reflect.New(dst.Type().Key()).Elem()
			copyByName(k, it.Key())
			v := reflect.New(dst.Type().Elem()).Elem()
			copyByName(v, it.Value())
			m.SetMapIndex(k, v)
		}
		dst.Set(m)
	case reflect.String:
		if src.Kind() == reflect.String {
			dst.SetString(src.String())
		}
	case reflect.Bool:
		if src.Kind() == reflect.Bool {
			dst.SetBool(src.Bool())
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if src.CanConvert(dst.Type()) && src.Kind() != reflect.String && src.Kind() != reflect.Bool {
			dst.Set(src.Convert(dst.Type()))
		}
	}
}

// toWire returns the wire shape W of an SDK value.
func toWire[W any](sdk any) *W {
	var w W
	copyByName(reflect.ValueOf(&w).Elem(), reflect.ValueOf(sdk))
	return &w
}

// fromWire copies a wire shape into an SDK value (a pointer).
func fromWire(sdk, w any) {
	copyByName(reflect.ValueOf(sdk).Elem(), reflect.ValueOf(w))
}

// writeWire prints the wire shape W of an SDK value as the AWS CLI does:
// ECS's member names, no nulls, timestamps in epoch seconds, 4-space
// indent.
func writeWire[W any](w io.Writer, sdk any) error {
	return writeJSON(w, toWire[W](sdk))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// decodeFile strictly decodes the JSON document raw into the wire shape v
// (a pointer to an internal/shape or manifest struct). Errors name the
// member as written in the file: containerDefinitions[0].image.
func decodeFile(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("not valid JSON: %v", err)
	}
	if dec.More() {
		return fmt.Errorf("not valid JSON: more than one document")
	}
	if err := checkShape(doc, reflect.TypeOf(v).Elem(), ""); err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// memberName is the JSON member name of a struct field, "" when it has none.
func memberName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

func join(path, member string) string {
	if path == "" {
		return member
	}
	return path + "." + member
}

// checkShape checks the decoded JSON value doc against type t: members
// known by their exact names, and values of the right JSON type.
func checkShape(doc any, t reflect.Type, path string) error {
	if doc == nil {
		return nil // null: the member is absent
	}
	where := path
	if where == "" {
		where = "the document"
	}
	want := func(what string) error {
		return fmt.Errorf("%s: must be %s, not %s", where, what, jsonKind(doc))
	}
	if t == rawType || t.Kind() == reflect.Interface {
		return nil
	}
	if t == timestampType {
		if _, ok := doc.(json.Number); !ok {
			return want("a number of epoch seconds")
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkShape(doc, t.Elem(), path)
	case reflect.Struct:
		obj, ok := doc.(map[string]any)
		if !ok {
			return want("an object")
		}
		fields := map[string]reflect.StructField{}
		for i := 0; i < t.NumField(); i++ {
			if n := memberName(t.Field(i)); n != "" {
				fields[n] = t.Field(i)
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				return fmt.Errorf("%s: unknown member%s", join(path, k), suggest(k, fields))
			}
			if err := checkShape(obj[k], f.Type, join(path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		arr, ok := doc.([]any)
		if !ok {
			return want("a list")
		}
		for i, e := range arr {
			if err := checkShape(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		obj, ok := doc.(map[string]any)
		if !ok {
			return want("an object")
		}
		for k, e := range obj {
			if err := checkShape(e, t.Elem(), join(path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		if _, ok := doc.(string); !ok {
			return want("a string")
		}
	case reflect.Bool:
		if _, ok := doc.(bool); !ok {
			return want("true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := doc.(json.Number)
		if !ok {
			return want("a whole number")
		}
		if _, err := n.Int64(); err != nil || (t.Kind() == reflect.Int32 && !fitsInt32(n)) {
			return fmt.Errorf("%s: must be a whole number, not %s", where, n)
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := doc.(json.Number); !ok {
			return want("a number")
		}
	}
	return nil
}

func fitsInt32(n json.Number) bool {
	i, err := n.Int64()
	return err == nil && i >= -1<<31 && i < 1<<31
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case json.Number:
		return "the number " + v.String()
	case bool:
		return fmt.Sprintf("%t", v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// suggest names the known member k differs from only in case.
func suggest(k string, fields map[string]reflect.StructField) string {
	for n := range fields {
		if strings.EqualFold(n, k) {
			return fmt.Sprintf(" (did you mean %s?)", n)
		}
	}
	return ""
}
