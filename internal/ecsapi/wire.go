package ecsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"berth.dev/berth/internal/apierr"
	"berth.dev/berth/internal/shape"
)

// handler decodes a body and runs an operation.
type handler func(a *API, c *call, body []byte) (any, error)

// op adapts a typed operation to a handler.
func op[I any](f func(a *API, c *call, in *I) (any, error)) handler {
	return func(a *API, c *call, body []byte) (any, error) {
		in := new(I)
		if err := Decode(body, in); err != nil {
			return nil, err
		}
		return f(a, c, in)
	}
}

// Decode strictly decodes an AWS JSON 1.1 request body into v, which must
// point to a request shape.
//
// The rules follow the Smithy protocol tests for malformed requests and ECS's
// member names: an empty body is {}; anything but one JSON object (null, a
// list, a scalar, or data after the object) is a SerializationException, as
// is a value of the wrong type (a float or an out-of-range number for an
// integer, a string for a number, ...) and a null inside a list or as a map
// value. A null member is an absent member. Member names match exactly, case
// included, and a member the shape does not define is an
// InvalidParameterException naming where it is.
func Decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	chk := bodyChecker{dec: dec}
	if err := chk.value(reflect.TypeOf(v), "", false); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return apierr.New(apierr.Serialization, "Unexpected data after the JSON request object.")
	}
	// The body is now known to fit v exactly, so this cannot fail; should it,
	// the error is still the client's.
	if err := json.Unmarshal(body, v); err != nil {
		return decodeError(err)
	}
	return nil
}

// maxDepth bounds how deeply a request body may nest objects and lists; the
// deepest ECS request shape nests less than ten levels.
const maxDepth = 64

// maxEcho bounds how much of a client-supplied name or value an error
// message repeats.
const maxEcho = 64

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	timestampType  = reflect.TypeFor[shape.Timestamp]()
)

// bodyChecker walks a JSON body alongside the Go type it must decode into.
type bodyChecker struct {
	dec   *json.Decoder
	depth int
}

func (c *bodyChecker) next() (json.Token, error) {
	tok, err := c.dec.Token()
	if err != nil {
		return nil, decodeError(err)
	}
	return tok, nil
}

func (c *bodyChecker) enter() error {
	c.depth++
	if c.depth > maxDepth {
		return apierr.Newf(apierr.Serialization, "The request body nests objects and lists more than %d levels deep.", maxDepth)
	}
	return nil
}

// value checks the next JSON value against t. path names it in messages
// ("" is the whole body); nullOK tells whether null may stand for it.
func (c *bodyChecker) value(t reflect.Type, path string, nullOK bool) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType || t.Kind() == reflect.Interface {
		return c.anyValue(path, nullOK)
	}
	tok, err := c.next()
	if err != nil {
		return err
	}
	if tok == nil {
		if nullOK {
			return nil
		}
		if path == "" {
			return apierr.New(apierr.Serialization, "The request body must be a JSON object, not null.")
		}
		return apierr.Newf(apierr.Serialization, "Invalid value for '%s': expected %s, got null.", shortPath(path), jsonKind(t))
	}
	if path == "" && tok != json.Delim('{') {
		return apierr.Newf(apierr.Serialization, "The request body must be a JSON object, not %s.", tokenKind(tok))
	}
	if t == timestampType {
		n, ok := tok.(json.Number)
		if !ok {
			return mismatch(path, t, tok)
		}
		var ts shape.Timestamp
		if ts.UnmarshalJSON([]byte(n)) != nil {
			return apierr.Newf(apierr.Serialization, "Invalid value for '%s': expected a timestamp (epoch seconds), got %s.", shortPath(path), tokenKind(tok))
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if tok != json.Delim('{') {
			return mismatch(path, t, tok)
		}
		return c.object(path, func(key string) error {
			f, ok := fieldsOf(t)[key]
			if !ok {
				return unknownMember(path, key, t)
			}
			return c.value(f, join(path, key), true)
		})
	case reflect.Map:
		if tok != json.Delim('{') {
			return mismatch(path, t, tok)
		}
		return c.object(path, func(key string) error {
			return c.value(t.Elem(), join(path, echo(key)), false)
		})
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // a blob: a base64 string
			if _, ok := tok.(string); !ok {
				return mismatch(path, t, tok)
			}
			return nil
		}
		if tok != json.Delim('[') {
			return mismatch(path, t, tok)
		}
		if err := c.enter(); err != nil {
			return err
		}
		for i := 0; c.dec.More(); i++ {
			if err := c.value(t.Elem(), fmt.Sprintf("%s[%d]", path, i), false); err != nil {
				return err
			}
		}
		c.depth--
		_, err := c.next() // ]
		return err
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return mismatch(path, t, tok)
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return mismatch(path, t, tok)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := tok.(json.Number)
		if !ok {
			return mismatch(path, t, tok)
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return mismatch(path, t, tok)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := tok.(json.Number)
		if !ok {
			return mismatch(path, t, tok)
		}
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			return mismatch(path, t, tok)
		}
	case reflect.Float32, reflect.Float64:
		n, ok := tok.(json.Number)
		if !ok {
			return mismatch(path, t, tok)
		}
		if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			return mismatch(path, t, tok)
		}
	default:
		return apierr.Newf(apierr.Serialization, "Invalid value for '%s': it cannot be decoded.", shortPath(path))
	}
	return nil
}

// object walks the members of an object whose '{' was read, calling member
// with each name; member must consume the value.
func (c *bodyChecker) object(path string, member func(key string) error) error {
	if err := c.enter(); err != nil {
		return err
	}
	for c.dec.More() {
		tok, err := c.next()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok { // unreachable: the decoder only yields strings as names
			return apierr.Newf(apierr.Serialization, "The request body is not valid JSON: an object in '%s' has a name that is not a string.", shortPath(path))
		}
		if err := member(key); err != nil {
			return err
		}
	}
	c.depth--
	_, err := c.next() // }
	return err
}

// anyValue checks a value of any type (documents and unions, which berth
// keeps as raw JSON).
func (c *bodyChecker) anyValue(path string, nullOK bool) error {
	tok, err := c.next()
	if err != nil {
		return err
	}
	switch tok {
	case nil:
		if !nullOK {
			return apierr.Newf(apierr.Serialization, "Invalid value for '%s': expected a value, got null.", shortPath(path))
		}
	case json.Delim('{'):
		return c.object(path, func(key string) error { return c.anyValue(join(path, echo(key)), true) })
	case json.Delim('['):
		if err := c.enter(); err != nil {
			return err
		}
		for i := 0; c.dec.More(); i++ {
			if err := c.anyValue(fmt.Sprintf("%s[%d]", path, i), true); err != nil {
				return err
			}
		}
		c.depth--
		_, err := c.next()
		return err
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// echo shortens a client-supplied string for a message.
func echo(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func mismatch(path string, t reflect.Type, tok json.Token) error {
	return apierr.Newf(apierr.Serialization, "Invalid value for '%s': expected %s, got %s.", shortPath(path), jsonKind(t), tokenKind(tok))
}

// shortPath keeps the end of a long member path for a message.
func shortPath(path string) string {
	const keep = 256
	if len(path) <= keep {
		return path
	}
	tail := path[len(path)-keep:]
	for len(tail) > 0 && !utf8.RuneStart(tail[0]) {
		tail = tail[1:]
	}
	return "..." + tail
}

// tokenKind describes the value a token starts.
func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		if v == '[' {
			return "a list"
		}
		return "an object"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + echo(string(v))
	}
	return fmt.Sprintf("%T", tok)
}

// unknownMember names the member the way botocore's parameter validation
// does, with the members that t does define.
func unknownMember(path, key string, t reflect.Type) error {
	where := shortPath(path)
	if where == "" {
		where = "input"
	}
	names := make([]string, 0, len(fieldsOf(t)))
	for name := range fieldsOf(t) {
		names = append(names, name)
	}
	slices.Sort(names)
	return apierr.InvalidParameterf("Unknown parameter in %s: %q, must be one of: %s", where, echo(key), strings.Join(names, ", "))
}

// fields caches, per struct type, the type of each member by its exact JSON
// name.
var fields sync.Map // reflect.Type -> map[string]reflect.Type

func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fields.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		m[name] = f.Type
	}
	fields.Store(t, m)
	return m
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return apierr.New(apierr.Serialization, "The request body is not valid JSON: it ends early.")
	case errors.As(err, &syn):
		return apierr.Newf(apierr.Serialization, "The request body is not valid JSON (at byte %d): %s.", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return apierr.Newf(apierr.Serialization, "The request body must be a JSON object, not %s.", typ.Value)
		}
		return apierr.Newf(apierr.Serialization, "Invalid value for '%s': expected %s, got %s.", shortPath(typ.Field), jsonKind(typ.Type), typ.Value)
	}
	return apierr.Newf(apierr.Serialization, "The request body could not be read: %s.", echo(strings.TrimPrefix(err.Error(), "json: ")))
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(shape.Timestamp{}) {
		return "a timestamp (epoch seconds)"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("an integer that fits in %d bits", t.Bits())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

func isModelOperation(name string) bool {
	for _, op := range shape.Operations {
		if op == name {
			return true
		}
	}
	return false
}
