package demoapp

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// resolveAnswer is the body of GET /resolve.
type resolveAnswer struct {
	Name      string      `json:"name"`
	Type      string      `json:"type"`
	Addresses []string    `json:"addresses,omitempty"`
	SRV       []srvAnswer `json:"srv,omitempty"`
}

type srvAnswer struct {
	Target   string `json:"target"`
	Port     uint16 `json:"port"`
	Priority uint16 `json:"priority"`
	Weight   uint16 `json:"weight"`
}

// handleResolve answers GET /resolve?name=N&type=A|AAAA|SRV with the
// container's resolver (net.DefaultResolver: /etc/resolv.conf), 502 with
// the error's text when the lookup fails.
func handleResolve(res *net.Resolver) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		typ := strings.ToUpper(r.URL.Query().Get("type"))
		if typ == "" {
			typ = "A"
		}
		if name == "" {
			http.Error(w, "name is required", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		ans := resolveAnswer{Name: name, Type: typ}
		var err error
		switch typ {
		case "A", "AAAA":
			network := "ip4"
			if typ == "AAAA" {
				network = "ip6"
			}
			addrs, lerr := res.LookupNetIP(ctx, network, name)
			err = lerr
			for _, a := range addrs {
				ans.Addresses = append(ans.Addresses, a.Unmap().String())
			}
		case "SRV":
			_, srvs, lerr := res.LookupSRV(ctx, "", "", name)
			err = lerr
			for _, s := range srvs {
				ans.SRV = append(ans.SRV, srvAnswer{Target: s.Target, Port: s.Port, Priority: s.Priority, Weight: s.Weight})
			}
		default:
			http.Error(w, "type must be A, AAAA or SRV", http.StatusBadRequest)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(ans)
	}
}

// handleFetch answers GET /fetch?url=U: it GETs U (5 s timeout) and relays
// the status and body, 502 with the error's text when the request fails.
func handleFetch(client *http.Client) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := r.URL.Query().Get("url")
		if u == "" {
			http.Error(w, "url is required", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, "reading the response: "+err.Error(), http.StatusBadGateway)
			return
		}
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	}
}
