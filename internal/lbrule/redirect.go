package lbrule

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/lbconfig"
)

// RedirectInput is the original request as a redirect action sees it.
type RedirectInput struct {
	Protocol string // HTTP or HTTPS (the listener's)
	Host     string // Host header, possibly with a port
	Port     int    // the listener port
	Path     string // path with its leading '/'
	Query    string // raw query without '?'
}

// RedirectURL builds the Location of a redirect action. Empty fields
// default as ELB's do: protocol #{protocol}, host #{host}, port #{port},
// path /#{path}, query #{query}; #{path} stands for the original path
// without its leading '/'. The default port of the resulting protocol is
// left out of the URL.
func RedirectURL(rd *lbconfig.Redirect, in RedirectInput) string {
	orig := strings.TrimPrefix(in.Path, "/")
	repl := strings.NewReplacer(
		"#{protocol}", strings.ToLower(in.Protocol),
		"#{host}", StripPort(in.Host),
		"#{port}", strconv.Itoa(in.Port),
		"#{path}", orig,
		"#{query}", in.Query,
	)
	or := func(v, def string) string {
		if v == "" {
			v = def
		}
		return repl.Replace(v)
	}
	proto := strings.ToLower(or(rd.Protocol, "#{protocol}"))
	host := or(rd.Host, "#{host}")
	port := or(rd.Port, "#{port}")
	path := or(rd.Path, "/#{path}")
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	query := or(rd.Query, "#{query}")
	var b strings.Builder
	b.WriteString(proto)
	b.WriteString("://")
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	b.WriteString(host)
	if !(proto == "http" && port == "80" || proto == "https" && port == "443") && port != "" {
		b.WriteString(":")
		b.WriteString(port)
	}
	b.WriteString(path)
	if query != "" {
		b.WriteString("?")
		b.WriteString(query)
	}
	return b.String()
}

// TraceID returns the X-Amzn-Trace-Id a request carries to its target,
// given the header it came with (empty when none), the time and 12 random
// bytes: without a Root field it becomes "Root=1-<epoch hex>-<24 hex>"
// (plus the custom fields it had); with a Root and no Self, "Self=1-…;" is
// prepended; an existing Self is replaced. Other fields are kept in order.
func TraceID(existing string, now time.Time, rnd [12]byte) string {
	var b [5 + 2 + 8 + 1 + 24]byte
	copy(b[:], "Root=1-")
	ts := uint32(now.Unix())
	for i := 0; i < 8; i++ {
		b[7+i] = hexDigits[(ts>>(28-4*i))&0xf]
	}
	b[15] = '-'
	hex.Encode(b[16:], rnd[:])
	if strings.TrimSpace(existing) == "" {
		return string(b[:])
	}
	id := string(b[5:])
	fields := strings.Split(existing, ";")
	hasRoot := false
	for _, f := range fields {
		if k, _, _ := strings.Cut(strings.TrimSpace(f), "="); k == "Root" {
			hasRoot = true
		}
	}
	if !hasRoot {
		out := []string{"Root=" + id}
		for _, f := range fields {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
		return strings.Join(out, ";")
	}
	out := []string{"Self=" + id}
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if k, _, _ := strings.Cut(f, "="); k == "Self" {
			continue
		}
		out = append(out, f)
	}
	return strings.Join(out, ";")
}

const hexDigits = "0123456789abcdef"
