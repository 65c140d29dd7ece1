package ecsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

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

// Decode strictly decodes an AWS JSON 1.1 request body into v: an empty
// body is {}, members v does not define and values of the wrong type are
// errors, and nothing may follow the object.
func Decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apierr.New(apierr.Serialization, "Unexpected data after the JSON request object.")
	}
	return nil
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return apierr.Newf(apierr.Serialization, "The request body is not valid JSON (at byte %d): %s.", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apierr.New(apierr.Serialization, "The request body is not valid JSON: it ends early.")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return apierr.Newf(apierr.Serialization, "The request body must be a JSON object, not %s.", typ.Value)
		}
		return apierr.Newf(apierr.Serialization, "Invalid value for '%s': expected %s, got %s.", typ.Field, jsonKind(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return apierr.InvalidParameterf("Unknown parameter in input: %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return apierr.Newf(apierr.Serialization, "The request body could not be read: %s.", strings.TrimPrefix(err.Error(), "json: "))
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"ServerException","message":"The response could not be encoded."}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func isModelOperation(name string) bool {
	for _, op := range shape.Operations {
		if op == name {
			return true
		}
	}
	return false
}
