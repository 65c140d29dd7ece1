package agent

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// newAWSProxy passes the AWS API calls that tasks send to the task
// endpoint on to the server at serverURL. The request is forwarded as it
// came, its Host header included: the client signed it (SigV4) for the
// task endpoint's host, and the server verifies the signature against the
// Host it receives and routes by X-Amz-Target or Action, never by Host.
// The proxy adds no privilege: a call without a valid signature is
// refused by the server as it would be when sent there directly.
func newAWSProxy(serverURL string) (http.Handler, error) {
	target, err := url.Parse(strings.TrimRight(serverURL, "/"))
	if err != nil {
		return nil, err
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			// Forwarding headers are not signed, and tell the server's
			// logs where the call came from.
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`{"__type":"ServiceUnavailableException","message":"The berth server cannot be reached from this host."}`))
		},
	}, nil
}
