package http

import (
	"net/http"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// handleSettingsGet answers the marketplace settings, which every key may
// read, with their version as ETag.
func (s *Server) handleSettingsGet(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.Settings(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeSettings(w, r, st)
}

// handleSettingsUpdate changes the settings (admin only). It needs the
// ETag the client read as If-Match: 428 without it, 412 when the settings
// changed since.
func (s *Server) handleSettingsUpdate(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var in engine.SettingsInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	st, err := s.svc.UpdateSettings(r.Context(), version, in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeSettings(w, r, st)
}

func writeSettings(w http.ResponseWriter, r *http.Request, st *promokit.Settings) {
	w.Header().Set("ETag", etag(st.Version))
	writeJSON(w, r, http.StatusOK, st)
}
