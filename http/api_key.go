package http

import (
	"net/http"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// handleKeyCreate creates a key (admin: any; seller: seller, checkout and
// storefront keys of its store) and answers it with its secret, shown this
// once: a replay of the request (Idempotency-Key) answers the key with its
// secret null and secret_withheld true, since the secret is never stored.
func (s *Server) handleKeyCreate(w http.ResponseWriter, r *http.Request) {
	var in engine.KeyInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	k, secret, err := s.svc.CreateKey(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/keys/"+k.ID)
	writeJSON(w, r, http.StatusCreated, keyJSON{Key: k, Secret: secret})
}

// handleKeyList lists keys without secrets: the admin's filtered by
// ?store_id and ?partner_id, a seller's of its store, a partner's its own.
func (s *Server) handleKeyList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var v promokit.Validation
	f := storage.KeyFilter{StoreID: q.Get("store_id"), PartnerID: q.Get("partner_id"), Page: pageParams(q, &v)}
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	keys, err := s.svc.ListKeys(r.Context(), f)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newList(keys, f.Limit, func(k *promokit.Key) string { return k.ID }))
}

// handleKeyRevoke revokes a key and answers it. A key the caller may not
// manage is not found.
func (s *Server) handleKeyRevoke(w http.ResponseWriter, r *http.Request) {
	k, err := s.svc.RevokeKey(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, k)
}
