package http

import (
	"io"
	"net/http"

	"github.com/promokit/promokit"
)

// handleHealthz answers 200 for as long as the process serves: it says
// that the process lives, not that its database answers (see /readyz).
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "{\"status\":\"ok\"}\n")
}

// handleReadyz answers 200 when Config.Ready (by default a ping of the
// database) succeeds, and 503 "unavailable" otherwise, so that a load
// balancer stops sending traffic to a process that cannot serve it.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			info := infoFrom(r.Context())
			writeError(w, r, promokit.Errorf(promokit.EUnavailable, "the server is not ready"))
			if info != nil {
				info.err = err // logged, not shown
			}
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "{\"status\":\"ready\"}\n")
}

// handleMetrics serves Config.Registry in the Prometheus text format.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s.promHandler.ServeHTTP(w, r)
}

// handleOpenAPI serves Config.OpenAPI, the API's description.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	if len(s.openapi) == 0 {
		writeError(w, r, promokit.Errorf(promokit.ENotFound, "this server has no OpenAPI document"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.openapi)
}
