// Package sdkhttp holds the HTTP client berth's own aws-sdk-go-v2 clients
// (the CLI, the agent, the tests and benchmarks) use to talk to a berth
// server.
//
// It works around a race between the SDK and net/http
// (aws/aws-sdk-go-v2#2737) that fails a call now and then with "use of
// closed network connection": the SDK closes a request's body as soon as
// the response arrives, and its closed body's WriteTo answers io.EOF as an
// error. When net/http's write loop reads the body once more after sending
// it (to check its length) through WriteTo, that error closes the
// connection, sometimes while the SDK still reads the response. Hiding
// WriteTo makes that last read a plain Read, whose io.EOF is the normal end.
//
// Invariant: the client changes nothing else about a request (no retry, no
// header, no timeout); the SDK's retryer decides as before.
package sdkhttp

import (
	"io"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Client is an aws.HTTPClient (the SDK's buildable client) whose request
// bodies hide WriteTo.
type Client struct{ c doer }

type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// New returns a Client over the SDK's default buildable client.
func New() Client { return Client{awshttp.NewBuildableClient()} }

// Wrap returns a Client over c (a buildable client with its own transport
// options, such as a sized connection pool).
func Wrap(c *awshttp.BuildableClient) Client { return Client{c} }

// Do sends r with its body reduced to Read and Close.
func (p Client) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body = struct{ io.ReadCloser }{r.Body}
	}
	return p.c.Do(r)
}
