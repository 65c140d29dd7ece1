package server

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"berth.dev/berth/internal/ecsapi"
)

// unserved answers requests for AWS services berth does not serve yet in
// that service's own protocol, saying so, before they reach the ECS API
// (which would answer a signature error scoped to "ecs", or JSON a Query
// client cannot parse). The service is the request's SigV4 signing name.
//
// Protocols: a request with X-Amz-Target is AWS JSON (1.0 or 1.1, as its
// Content-Type says) and gets {"__type","message"}; any other is the
// Query protocol (form-encoded Action=...) and gets an XML ErrorResponse.
// Both are 400 with code UnknownOperationException (JSON) or InvalidAction
// (Query), so SDKs do not retry them.
func unserved(ecs http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc := signingName(r)
		if svc == "" || svc == "ecs" {
			ecs.ServeHTTP(w, r)
			return
		}
		requestID := ecsapi.NewUUID()
		w.Header().Set("x-amzn-RequestId", requestID)
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			msg := fmt.Sprintf("berth does not serve the %s API yet (%s); it serves ECS (ecs).", svc, target)
			ct := r.Header.Get("Content-Type")
			if !strings.HasPrefix(ct, "application/x-amz-json-") {
				ct = "application/x-amz-json-1.1"
			}
			w.Header().Set("Content-Type", ct)
			w.Header().Set("X-Amzn-ErrorType", "UnknownOperationException")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": "UnknownOperationException", "message": msg})
			return
		}
		action := queryAction(r)
		msg := fmt.Sprintf("berth does not serve the %s API yet (%s); it serves ECS (ecs).", svc, action)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		_ = xml.NewEncoder(w).Encode(queryError{Error: queryErrorBody{Type: "Sender", Code: "InvalidAction", Message: msg}, RequestID: requestID})
	})
}

type queryError struct {
	XMLName   xml.Name       `xml:"ErrorResponse"`
	Error     queryErrorBody `xml:"Error"`
	RequestID string         `xml:"RequestId"`
}

type queryErrorBody struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// signingName is the service of the request's SigV4 credential scope
// (ACCESSKEY/DATE/REGION/SERVICE/aws4_request), from the Authorization
// header or a presigned URL's X-Amz-Credential; "" when it has none.
func signingName(r *http.Request) string {
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

// queryAction reads a Query request's Action without consuming more than a
// small form body (the reply does not depend on it otherwise).
func queryAction(r *http.Request) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	v, err := url.ParseQuery(string(b))
	if err != nil || v.Get("Action") == "" {
		return "unknown action"
	}
	return v.Get("Action")
}
