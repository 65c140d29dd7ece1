package awsproto

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The answers to requests for an AWS API berth does not serve (by their
// signing name, target prefix or Query version): an error in the
// request's own protocol that says so, rather than a signature error
// scoped to another service or JSON a Query client cannot parse. Both are
// 400 with code UnknownOperationException (JSON) or InvalidAction
// (Query), so SDKs do not retry them. They are answered before
// authentication: they reveal nothing but what berth serves.

func (e *Edge) unservedJSON(x *exchange, signing, target string) {
	msg := fmt.Sprintf("berth does not serve the %s API yet (%s); it serves %s.", signing, echo(target), e.served())
	ct := x.r.Header.Get("Content-Type")
	if ct != "application/x-amz-json-1.0" && ct != "application/x-amz-json-1.1" {
		ct = JSON11.contentType()
	}
	x.w.Header().Set("X-Amzn-ErrorType", CodeUnknownOperation)
	write(x.w, ct, http.StatusBadRequest, jsonError(CodeUnknownOperation, "message", msg, nil))
}

func (e *Edge) unservedQuery(x *exchange, signing string, form url.Values) {
	action := form.Get("Action")
	if action == "" {
		action = "unknown action"
	}
	api := signing
	if v := form.Get("Version"); v != "" && e.bySigning[signing] != nil {
		api += " version " + v // another version of a served API
	}
	msg := fmt.Sprintf("berth does not serve the %s API yet (%s); it serves %s.", api, echo(action), e.served())
	var buf bytes.Buffer
	writeQueryError(&buf, "", NewError(CodeInvalidAction, msg), x.id)
	write(x.w, Query.contentType(), http.StatusBadRequest, buf.Bytes())
}

// served lists the served APIs: "ECS (ecs), ELBv2 (elasticloadbalancing)".
func (e *Edge) served() string {
	names := make([]string, len(e.services))
	for i, s := range e.services {
		names[i] = s.Name + " (" + s.SigningName + ")"
	}
	return strings.Join(names, ", ")
}

// SigningName is the service of the request's SigV4 credential scope
// (ACCESSKEY/DATE/REGION/SERVICE/aws4_request), from the Authorization
// header or a presigned URL's X-Amz-Credential; "" when it has none.
func SigningName(r *http.Request) string {
	cred := ""
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
				cred = v
			}
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return ""
	}
	return parts[3]
}
