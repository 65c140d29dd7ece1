package demoapp

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// echo is the body of GET /.
type echo struct {
	Hostname string            `json:"hostname"`
	Env      map[string]string `json:"env"`
	Args     []string          `json:"args"`
	Cwd      string            `json:"cwd"`
	UID      int               `json:"uid"`
	GID      int               `json:"gid"`
	PID      int               `json:"pid"`
}

// newServer serves the endpoints; a request to /exit sends its code on exit.
func newServer(unhealthy bool, exit chan<- int) http.Handler {
	var sick atomic.Bool
	sick.Store(unhealthy)
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if sick.Load() {
			http.Error(w, "unhealthy", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		sick.Store(true)
		w.Write([]byte("now unhealthy\n"))
	})
	mux.HandleFunc("/heal", func(w http.ResponseWriter, r *http.Request) {
		sick.Store(false)
		w.Write([]byte("now healthy\n"))
	})
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil {
			code = 0
		}
		w.Write([]byte("exiting\n"))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		select {
		case exit <- code:
		default:
		}
	})
	mux.HandleFunc("GET /resolve", handleResolve(net.DefaultResolver))
	mux.HandleFunc("GET /fetch", handleFetch(&http.Client{Timeout: 5 * time.Second}))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		e := echo{Env: map[string]string{}, Args: os.Args, UID: os.Getuid(), GID: os.Getgid(), PID: os.Getpid()}
		e.Hostname, _ = os.Hostname()
		e.Cwd, _ = os.Getwd()
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			e.Env[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(e)
	})
	return mux
}
