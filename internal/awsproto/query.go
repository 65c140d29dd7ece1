package awsproto

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxListIndex bounds the N of X.member.N and X.entry.N.
const MaxListIndex = 1000

// node is one dotted segment of the parameter names.
type node struct {
	path  string
	vals  []string // the values of the parameter named path, if sent
	sent  bool
	kids  map[string]*node
	order []string // kid names in first-seen order, for stable errors
}

func (n *node) kid(name string) *node {
	if k := n.kids[name]; k != nil {
		return k
	}
	if n.kids == nil {
		n.kids = map[string]*node{}
	}
	p := name
	if n.path != "" {
		p = n.path + "." + name
	}
	k := &node{path: p}
	n.kids[name] = k
	n.order = append(n.order, name)
	return k
}

// DecodeQuery decodes awsQuery parameters into out, a pointer to a struct
// whose fields carry `query:"MemberName"` tags: scalars (strings and
// string enums, integers, bools, floats, time.Time in ISO 8601, []byte in
// base64, and pointers to them), nested structs (Name.Sub), lists
// (Name.member.N, 1-based, no gaps, N ≤ MaxListIndex; "Name=" is an empty
// list) and maps with string keys (Name.entry.N.key / .value).
// It is strict: an unknown parameter, a parameter sent twice or a value
// of the wrong form is a ValidationError naming the parameter.
func DecodeQuery(form url.Values, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("awsproto: DecodeQuery needs a pointer to a struct, not %T", out)
	}
	root := &node{}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		n := root
		for seg := range strings.SplitSeq(k, ".") {
			n = n.kid(seg)
		}
		n.vals, n.sent = form[k], true
	}
	return decodeStruct(v.Elem(), root)
}

func invalidParam(path, format string, args ...any) *Error {
	return Errorf(CodeValidation, "Invalid value for parameter %s: %s.", echo(path), fmt.Sprintf(format, args...))
}

func unknownParam(path string) *Error {
	return Errorf(CodeValidation, "The parameter %s is not recognized.", echo(path))
}

func decodeStruct(v reflect.Value, n *node) error {
	if n.sent && (len(n.vals) != 1 || n.vals[0] != "") {
		return unknownParam(n.path)
	}
	for _, name := range n.order {
		f, ok := fieldNamed(v.Type(), name)
		if !ok {
			return unknownParam(n.kids[name].path)
		}
		if err := decodeValue(v.Field(f.index), n.kids[name]); err != nil {
			return err
		}
	}
	return nil
}

func decodeValue(v reflect.Value, n *node) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeValue(v.Elem(), n)
	}
	switch {
	case v.Type() == timeType || v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return decodeScalar(v, n)
	case v.Kind() == reflect.Struct:
		return decodeStruct(v, n)
	case v.Kind() == reflect.Slice:
		items, err := indexed(n, "member")
		if err != nil {
			return err
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			if err := decodeValue(s.Index(i), item); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case v.Kind() == reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("awsproto: map keys must be strings, not %s", v.Type().Key())
		}
		entries, err := indexed(n, "entry")
		if err != nil {
			return err
		}
		m := reflect.MakeMapWithSize(v.Type(), len(entries))
		for _, e := range entries {
			if e.sent {
				return unknownParam(e.path)
			}
			k, val := e.kids["key"], e.kids["value"]
			for _, name := range e.order {
				if name != "key" && name != "value" {
					return unknownParam(e.kids[name].path)
				}
			}
			if k == nil || val == nil {
				return invalidParam(e.path, "a map entry needs a key and a value")
			}
			key := reflect.New(v.Type().Key()).Elem()
			if err := decodeScalar(key, k); err != nil {
				return err
			}
			if m.MapIndex(key).IsValid() {
				return invalidParam(k.path, "the key %q is given twice", echo(key.String()))
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decodeValue(elem, val); err != nil {
				return err
			}
			m.SetMapIndex(key, elem)
		}
		v.Set(m)
		return nil
	}
	return decodeScalar(v, n)
}

// indexed returns the items of n.<word>.1 ... n.<word>.N; "Name=" alone is
// an empty list.
func indexed(n *node, word string) ([]*node, error) {
	if n.sent {
		if len(n.vals) != 1 || n.vals[0] != "" || len(n.kids) > 0 {
			return nil, invalidParam(n.path, "a list or map is sent as %s.%s.N", n.path, word)
		}
		return []*node{}, nil
	}
	for _, name := range n.order {
		if name != word {
			return nil, unknownParam(n.kids[name].path)
		}
	}
	w := n.kids[word]
	if w == nil {
		return []*node{}, nil
	}
	if w.sent {
		return nil, unknownParam(w.path)
	}
	items := make([]*node, len(w.kids))
	if len(w.kids) > MaxListIndex {
		return nil, invalidParam(w.path, "more than %d items", MaxListIndex)
	}
	for _, name := range w.order {
		i, err := strconv.Atoi(name)
		if err != nil || i < 1 || strconv.Itoa(i) != name {
			return nil, unknownParam(w.kids[name].path)
		}
		if i > MaxListIndex {
			return nil, invalidParam(w.kids[name].path, "an index may be at most %d", MaxListIndex)
		}
		if i > len(items) {
			return nil, invalidParam(w.path, "item %d is missing", missing(w, len(items)))
		}
		items[i-1] = w.kids[name]
	}
	return items, nil
}

// missing is the first index absent of w.1 ... w.n.
func missing(w *node, n int) int {
	for i := 1; i <= n; i++ {
		if w.kids[strconv.Itoa(i)] == nil {
			return i
		}
	}
	return n + 1
}

func decodeScalar(v reflect.Value, n *node) error {
	if len(n.kids) > 0 {
		return unknownParam(n.kids[n.order[0]].path)
	}
	if len(n.vals) != 1 {
		return invalidParam(n.path, "it is given %d times", len(n.vals))
	}
	s := n.vals[0]
	switch {
	case v.Type() == timeType:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return invalidParam(n.path, "%q is not an ISO 8601 timestamp", echo(s))
		}
		v.Set(reflect.ValueOf(t.UTC()))
		return nil
	case v.Kind() == reflect.Slice: // []byte
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return invalidParam(n.path, "it is not base64")
		}
		v.SetBytes(b)
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch s {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return invalidParam(n.path, "%q is not true or false", echo(s))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return invalidParam(n.path, "%q is not an integer of %d bits", echo(s), v.Type().Bits())
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return invalidParam(n.path, "%q is not an unsigned integer of %d bits", echo(s), v.Type().Bits())
		}
		v.SetUint(i)
	case reflect.Float32, reflect.Float64:
		f, err := parseFloat(s, v.Type().Bits())
		if err != nil {
			return invalidParam(n.path, "%q is not a number", echo(s))
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("awsproto: cannot decode into %s", v.Type())
	}
	return nil
}

func parseFloat(s string, bits int) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	if strings.ContainsAny(s, "nNiIxX_") { // no inf, nan, hex or digit separators
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(s, bits)
}

// EncodeQuery writes v (a struct or pointer to one, with query tags) as
// awsQuery parameters, the inverse of DecodeQuery: nil pointers, slices
// and maps are left out, an empty list or map is "Name=".
func EncodeQuery(v any) (url.Values, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("awsproto: EncodeQuery needs a struct, not %T", v)
	}
	form := url.Values{}
	return form, encodeQueryFields(form, "", rv)
}

func encodeQueryFields(form url.Values, prefix string, v reflect.Value) error {
	for _, f := range fieldsOf(v.Type()) {
		if err := encodeQueryValue(form, prefix+f.name, v.Field(f.index)); err != nil {
			return err
		}
	}
	return nil
}

func encodeQueryValue(form url.Values, key string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		if v.IsNil() {
			return nil
		}
	}
	switch {
	case v.Kind() == reflect.Pointer:
		return encodeQueryValue(form, key, v.Elem())
	case v.Type() == timeType:
		form.Set(key, v.Interface().(time.Time).UTC().Format(time.RFC3339Nano))
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		form.Set(key, base64.StdEncoding.EncodeToString(v.Bytes()))
	case v.Kind() == reflect.Struct:
		before := len(form)
		if err := encodeQueryFields(form, key+".", v); err != nil {
			return err
		}
		if len(form) == before {
			form.Set(key, "")
		}
	case v.Kind() == reflect.Slice:
		if v.Len() == 0 {
			form.Set(key, "")
		}
		for i := range v.Len() {
			if err := encodeQueryValue(form, fmt.Sprintf("%s.member.%d", key, i+1), v.Index(i)); err != nil {
				return err
			}
		}
	case v.Kind() == reflect.Map:
		if v.Len() == 0 {
			form.Set(key, "")
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for i, k := range keys {
			p := fmt.Sprintf("%s.entry.%d.", key, i+1)
			form.Set(p+"key", k.String())
			if err := encodeQueryValue(form, p+"value", v.MapIndex(k)); err != nil {
				return err
			}
		}
	default:
		s, err := scalarText(v)
		if err != nil {
			return err
		}
		form.Set(key, s)
	}
	return nil
}
