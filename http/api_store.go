package http

import (
	"net/http"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// handleStoreCreate creates a store (admin only).
func (s *Server) handleStoreCreate(w http.ResponseWriter, r *http.Request) {
	var in engine.StoreInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	st, err := s.svc.CreateStore(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/stores/"+st.ID)
	writeJSON(w, r, http.StatusCreated, st)
}

// handleStoreList lists the stores the caller sees: all for the admin and
// unbound checkout keys, its own for a seller or bound checkout key.
func (s *Server) handleStoreList(w http.ResponseWriter, r *http.Request) {
	var v promokit.Validation
	page := pageParams(r.URL.Query(), &v)
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.svc.ListStores(r.Context(), page)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newList(list, page.Limit, func(st *promokit.Store) string { return st.ID }))
}

// handleStoreGet answers a store the caller sees; another is not found.
func (s *Server) handleStoreGet(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.GetStore(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, st)
}

// handleStoreUpdate changes a store's name or its P4 flag (admin only).
func (s *Server) handleStoreUpdate(w http.ResponseWriter, r *http.Request) {
	var in engine.StoreInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	st, err := s.svc.UpdateStore(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, st)
}

// handleProductPut creates or replaces a product of a store: the admin's
// for any store, a seller's for its own.
func (s *Server) handleProductPut(w http.ResponseWriter, r *http.Request) {
	var in engine.ProductInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.svc.PutProduct(r.Context(), r.PathValue("id"), r.PathValue("product_id"), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// handleProductList lists a store's products; a store a seller or bound
// checkout key does not own is not found.
func (s *Server) handleProductList(w http.ResponseWriter, r *http.Request) {
	var v promokit.Validation
	page := pageParams(r.URL.Query(), &v)
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.svc.ListProducts(r.Context(), r.PathValue("id"), page)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newList(list, page.Limit, func(p *promokit.Product) string { return p.ID }))
}

// handleProductGet answers one product of a store.
func (s *Server) handleProductGet(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.GetProduct(r.Context(), r.PathValue("id"), r.PathValue("product_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}
