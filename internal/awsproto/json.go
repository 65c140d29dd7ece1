package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// DecodeJSON strictly decodes an AWS JSON request body into out: an empty
// body is {}; a member out does not define, a value of the wrong type,
// anything but one JSON object is a SerializationException.
func DecodeJSON(body []byte, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if t := bytes.TrimSpace(body); t[0] != '{' {
		return NewError(CodeSerialization, "The request body must be a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return Errorf(CodeSerialization, "The request body is not valid JSON (at byte %d): %s.", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
		case errors.As(err, &typ):
			return Errorf(CodeSerialization, "Invalid value for '%s': expected %s, got %s.", echo(typ.Field), typ.Type, typ.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return NewError(CodeSerialization, "The request body is not valid JSON: it ends early.")
		}
		return Errorf(CodeSerialization, "The request body could not be read: %s.", echo(strings.TrimPrefix(err.Error(), "json: ")))
	}
	if _, err := dec.Token(); err != io.EOF {
		return NewError(CodeSerialization, "Unexpected data after the JSON request object.")
	}
	return nil
}

// Handle adapts a typed operation: it decodes the request per the
// service's protocol (DecodeJSON or DecodeQuery) into a new In and
// answers f's *Out (nil: {} in JSON, no result element in Query).
func Handle[In any, Out any](f func(ctx context.Context, req *Request, in *In) (*Out, error)) Operation {
	return func(ctx context.Context, req *Request) (any, error) {
		in := new(In)
		var err error
		if req.Protocol == Query {
			err = DecodeQuery(req.Form, in)
		} else {
			err = DecodeJSON(req.Body, in)
		}
		if err != nil {
			return nil, err
		}
		out, err := f(ctx, req, in)
		if err != nil || out == nil {
			return nil, err // no typed nil in the interface
		}
		return out, nil
	}
}
