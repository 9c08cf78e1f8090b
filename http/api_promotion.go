package http

import (
	"context"
	"net/http"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// writePromotion answers a promotion with its status at the server's now
// and its version as ETag.
func (s *Server) writePromotion(w http.ResponseWriter, r *http.Request, status int, p *promokit.Promotion) {
	w.Header().Set("ETag", etag(p.Version))
	writeJSON(w, r, status, newPromotionJSON(p, s.svc.Clock().Now()))
}

// handlePromotionCreate creates a promotion: the admin's for the store_id
// it names, a seller's for its own store. Under P4 a breach of the policy
// is answered 422 with the rule, the limit and the value asked for.
func (s *Server) handlePromotionCreate(w http.ResponseWriter, r *http.Request) {
	var in engine.PromotionInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.svc.CreatePromotion(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/promotions/"+p.ID)
	s.writePromotion(w, r, http.StatusCreated, p)
}

// handlePromotionList lists the promotions the caller sees, filtered by
// ?store_id, ?status (at the server's now) and ?channel.
func (s *Server) handlePromotionList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var v promokit.Validation
	f := storage.PromotionFilter{StoreID: q.Get("store_id"), Page: pageParams(q, &v)}
	f.Status = promokit.Status(queryEnum(q, &v, "status",
		string(promokit.StatusScheduled), string(promokit.StatusActive), string(promokit.StatusInactive), string(promokit.StatusEnded)))
	f.Channel = promokit.Channel(queryEnum(q, &v, "channel",
		string(promokit.ChannelStore), string(promokit.ChannelPartner), string(promokit.ChannelPlatform)))
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.svc.ListPromotions(r.Context(), f)
	if err != nil {
		writeError(w, r, err)
		return
	}
	now := s.svc.Clock().Now()
	out := make([]promotionJSON, len(list))
	for i, p := range list {
		out[i] = newPromotionJSON(p, now)
	}
	writeJSON(w, r, http.StatusOK, newList(out, f.Limit, func(p promotionJSON) string { return p.ID }))
}

// handlePromotionGet answers a promotion the caller sees, with its ETag.
func (s *Server) handlePromotionGet(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.GetPromotion(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writePromotion(w, r, http.StatusOK, p)
}

// handlePromotionUpdate edits a promotion's terms before its start. It
// needs the ETag the client read as If-Match: 428 without it, 412 when
// another edit came first.
func (s *Server) handlePromotionUpdate(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var in engine.PromotionInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.svc.EditPromotion(r.Context(), r.PathValue("id"), version, in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writePromotion(w, r, http.StatusOK, p)
}

// handlePromotionActivate activates a promotion until its end.
func (s *Server) handlePromotionActivate(w http.ResponseWriter, r *http.Request) {
	s.changePromotion(w, r, func(ctx context.Context, id string) (*promokit.Promotion, error) {
		return s.svc.SetPromotionActive(ctx, id, true)
	})
}

// handlePromotionDeactivate deactivates a promotion until it is activated again.
func (s *Server) handlePromotionDeactivate(w http.ResponseWriter, r *http.Request) {
	s.changePromotion(w, r, func(ctx context.Context, id string) (*promokit.Promotion, error) {
		return s.svc.SetPromotionActive(ctx, id, false)
	})
}

// handlePromotionEnd ends a promotion now, for good.
func (s *Server) handlePromotionEnd(w http.ResponseWriter, r *http.Request) {
	s.changePromotion(w, r, s.svc.EndPromotion)
}

// changePromotion runs a change of a promotion's flags, which takes no
// body, and answers the promotion.
func (s *Server) changePromotion(w http.ResponseWriter, r *http.Request, change func(context.Context, string) (*promokit.Promotion, error)) {
	p, err := change(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writePromotion(w, r, http.StatusOK, p)
}
