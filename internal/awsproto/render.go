package awsproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
)

// writeResult answers out; an error means nothing was written.
func (e *Edge) writeResult(x *exchange, out any) error {
	s := x.svc
	var b []byte
	if s.Protocol == Query {
		var buf bytes.Buffer
		if err := writeQueryResponse(&buf, s.XMLNamespace, x.op, x.id, out); err != nil {
			return fmt.Errorf("the response could not be encoded: %w", err)
		}
		b = buf.Bytes()
	} else {
		var err error
		if out == nil {
			b = []byte("{}")
		} else if b, err = json.Marshal(out); err != nil {
			return fmt.Errorf("the response could not be encoded: %w", err)
		}
	}
	write(x.w, s.Protocol.contentType(), http.StatusOK, b)
	return nil
}

// writeError answers err in the service's form and returns its code.
func (e *Edge) writeError(x *exchange, err error) string {
	s := x.svc
	ae, ok := s.asError(err)
	var rerr *readError
	switch {
	case ok:
	case errors.Is(err, errTooLarge):
		ae, ok = s.tooLarge(), true
	case errors.As(err, &rerr):
		code := CodeSerialization
		if s.Protocol == Query {
			code = CodeMalformedQuery
		}
		ae, ok = NewError(code, rerr.Error()), true
	}
	if !ok {
		e.log.Error("request failed", "service", s.Name, "op", x.op, "request_id", x.id, "err", err)
		ae = WithStatus(http.StatusInternalServerError, s.internalCode(), "The server encountered an internal error. Request ID: "+x.id)
	} else if ae.status() >= 500 {
		e.log.Error("request failed", "service", s.Name, "op", x.op, "request_id", x.id, "err", err)
	}
	if x.authErr && s.Protocol == Query {
		if q, ok := queryAuth[ae.Code]; ok {
			ae = &Error{Code: q.code, Message: ae.Message, Status: q.status}
		}
	}
	if s.Protocol == Query {
		var buf bytes.Buffer
		writeQueryError(&buf, s.XMLNamespace, ae, x.id)
		write(x.w, s.Protocol.contentType(), ae.status(), buf.Bytes())
	} else {
		x.w.Header().Set("X-Amzn-ErrorType", ae.Code)
		write(x.w, s.Protocol.contentType(), ae.status(), jsonError(ae.Code, s.messageMember(), ae.Message, ae.Members))
	}
	return ae.Code
}

// jsonError is {"__type": code, member: message}, in that order, then
// the error shape's other members in key order.
func jsonError(code, member, message string, members map[string]string) []byte {
	c, _ := json.Marshal(code) // strings always encode
	m, _ := json.Marshal(message)
	k, _ := json.Marshal(member)
	b := append([]byte(`{"__type":`), c...)
	b = append(b, ',')
	b = append(b, k...)
	b = append(b, ':')
	b = append(b, m...)
	keys := make([]string, 0, len(members))
	for k := range members {
		if k != member && k != "__type" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(members[k])
		b = append(b, ',')
		b = append(b, kb...)
		b = append(b, ':')
		b = append(b, vb...)
	}
	return append(b, '}')
}

func write(w http.ResponseWriter, contentType string, status int, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
