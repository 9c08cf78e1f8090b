package http

import (
	"net/http"

	"github.com/promokit/promokit"
)

// handleCodeJobCreate starts the generation of codes for a promotion and
// answers 202 with the job, whose progress /v1/jobs/{id} shows. A spec
// whose code space is too small is 422 code_space_too_small with the
// largest count it allows as limit.
func (s *Server) handleCodeJobCreate(w http.ResponseWriter, r *http.Request) {
	var spec promokit.CodeSpec
	if err := decodeJSON(w, r, &spec); err != nil {
		writeError(w, r, err)
		return
	}
	j, err := s.svc.CreateCodeJob(r.Context(), r.PathValue("id"), spec)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/jobs/"+j.ID)
	writeJSON(w, r, http.StatusAccepted, j)
}

// handleJobGet answers a job of the caller's store (admin: any).
func (s *Server) handleJobGet(w http.ResponseWriter, r *http.Request) {
	j, err := s.svc.GetJob(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, j)
}
