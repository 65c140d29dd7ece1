package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// pair is one decoded query parameter, in the order sent.
type pair struct{ key, value string }

// parseQuery splits a raw query on '&' and decodes each side of the first
// '=' ('+' means space, as in url.ParseQuery). A part that does not decode is
// kept literally, so it still takes part in the signature.
func parseQuery(raw string) []pair {
	var out []pair
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		out = append(out, pair{unescape(k), unescape(v)})
	}
	return out
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func has(q []pair, key string) bool {
	_, n := lookup(q, key)
	return n > 0
}

// lookup returns the first value of key and how many times key appears.
func lookup(q []pair, key string) (string, int) {
	var v string
	n := 0
	for _, p := range q {
		if p.key == key {
			if n == 0 {
				v = p.value
			}
			n++
		}
	}
	return v, n
}

// escape percent-encodes every byte outside A-Za-z0-9-_.~ (and '/' when
// keepSlash) with uppercase hex, as SigV4 requires.
func escape(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// canonicalQuery encodes, sorts by name then value, and joins the query.
// A presigned request's own signature is left out.
func canonicalQuery(q []pair, presigned bool) string {
	enc := make([]pair, 0, len(q))
	for _, p := range q {
		if presigned && p.key == qSignature {
			continue
		}
		enc = append(enc, pair{escape(p.key, false), escape(p.value, false)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].key != enc[j].key {
			return enc[i].key < enc[j].key
		}
		return enc[i].value < enc[j].value
	})
	parts := make([]string, len(enc))
	for i, p := range enc {
		parts[i] = p.key + "=" + p.value
	}
	return strings.Join(parts, "&")
}

// wirePath is the request path exactly as the client sent it.
func wirePath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// normalizePath removes "." and ".." segments and empty segments (duplicate
// slashes), keeping a leading and trailing slash, as AWS's suite and
// botocore do.
func normalizePath(p string) string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	n := "/" + strings.Join(out, "/")
	if len(out) > 0 && strings.HasSuffix(p, "/") {
		n += "/"
	}
	return n
}

// canonicalURIs returns the canonical URI as signed by clients that keep the
// path as sent (aws-sdk-go-v2) and, when different, as signed by clients that
// normalise it first (botocore, the AWS suite).
func canonicalURIs(r *http.Request) []string {
	p := wirePath(r)
	uris := []string{escape(p, true)}
	if n := escape(normalizePath(p), true); n != uris[0] {
		uris = append(uris, n)
	}
	return uris
}

// headerValues returns the values of a signed header, or false when the
// request does not carry it. host and content-length live outside
// Request.Header on the server side.
func headerValues(r *http.Request, name string) ([]string, bool) {
	switch name {
	case "host":
		return []string{r.Host}, r.Host != ""
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			return v, true
		}
		if r.ContentLength > 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}, true
		}
		return nil, false
	}
	if name == "" {
		return nil, false
	}
	v := r.Header.Values(name)
	return v, len(v) > 0
}

// canonicalValue trims each value, collapses inner whitespace runs to one
// space, and joins repeated values with ','.
func canonicalValue(vals []string) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = trimAll(v)
	}
	return strings.Join(out, ",")
}

func trimAll(s string) string {
	var b strings.Builder
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
	}
	return b.String()
}

// canonicalHeaders renders "name:value\n" for each signed header, in the
// order of SignedHeaders. Callers have checked every header is present.
func canonicalHeaders(r *http.Request, names []string) string {
	var b strings.Builder
	for _, n := range names {
		v, _ := headerValues(r, n)
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(canonicalValue(v))
		b.WriteByte('\n')
	}
	return b.String()
}

func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	return strings.Join([]string{method, uri, query, headers, signedHeaders, payloadHash}, "\n")
}

func stringToSign(amzDate, scope, canonicalRequest string) string {
	return algorithm + "\n" + amzDate + "\n" + scope + "\n" + hashHex([]byte(canonicalRequest))
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

func signature(key []byte, stringToSign string) string {
	return hex.EncodeToString(hmacSHA256(key, stringToSign))
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
