package http

import (
	"net/http"
	"strings"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// keyRoles are the roles a new key may have, in the order the form offers
// them.
var keyRoles = []promokit.Role{
	promokit.RoleSeller, promokit.RoleCheckout, promokit.RoleStorefront, promokit.RolePartner, promokit.RoleAdmin,
}

// keysPage is the data of the list of keys and its form of a new one.
type keysPage struct {
	Keys      []*promokit.Key
	Pager     pager
	StoreID   string // the list's filter
	PartnerID string
	Roles     []promokit.Role
	New       engine.KeyInput // what the form of a new key holds
}

// keyCreatedPage is the data of the page that shows a new key's secret,
// the one time it is ever shown.
type keyCreatedPage struct {
	Key    *promokit.Key
	Secret string
}

// handleConsoleKeyList lists keys, a page at a time, those of one store or
// partner when ?store_id or ?partner_id names one, with the form of a new
// key (bound to that store or partner).
func (s *Server) handleConsoleKeyList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := engine.KeyInput{StoreID: q.Get("store_id"), PartnerID: q.Get("partner_id"), Role: promokit.RoleSeller}
	if in.PartnerID != "" {
		in.Role = promokit.RolePartner
	}
	s.renderKeyList(w, r, &page{Title: "Keys"}, in)
}

// renderKeyList renders the list of keys in pg with the form of a new key
// holding in; the status is the form's errors' or 200.
func (s *Server) renderKeyList(w http.ResponseWriter, r *http.Request, pg *page, in engine.KeyInput) {
	p, err := listPage(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	q := r.URL.Query()
	f := storage.KeyFilter{StoreID: q.Get("store_id"), PartnerID: q.Get("partner_id"), Page: p}
	keys, err := s.svc.ListKeys(r.Context(), f)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	pg.Data = keysPage{Keys: keys, Pager: pagerOf(r, keys, func(v *promokit.Key) string { return v.ID }), StoreID: f.StoreID, PartnerID: f.PartnerID, Roles: keyRoles, New: in}
	status := http.StatusOK
	if pg.Form != nil {
		status = pg.Form.Status
	}
	s.render(w, r, status, "keys", pg)
}

// handleConsoleKeyCreate creates a key and shows its secret, this once: the
// page is not cached and the secret is stored nowhere, so that reloading
// or going back cannot show it again. A refused form is shown again with
// its errors.
func (s *Server) handleConsoleKeyCreate(w http.ResponseWriter, r *http.Request) {
	in := engine.KeyInput{
		Name: strings.TrimSpace(r.PostFormValue("name")), Role: promokit.Role(r.PostFormValue("role")),
		StoreID: strings.TrimSpace(r.PostFormValue("store_id")), PartnerID: strings.TrimSpace(r.PostFormValue("partner_id")),
	}
	// The form has both inputs; the role says which one counts.
	switch in.Role {
	case promokit.RoleAdmin:
		in.StoreID, in.PartnerID = "", ""
	case promokit.RolePartner:
		in.StoreID = ""
	default:
		in.PartnerID = ""
	}
	k, secret, err := s.svc.CreateKey(r.Context(), in)
	if err != nil {
		if !formError(err) {
			s.consoleFail(w, r, err)
			return
		}
		pg := &page{Title: "Keys", Form: newFormErrors(err)}
		s.logFormError(r, err, pg.Form)
		s.renderKeyList(w, r, pg, in)
		return
	}
	s.render(w, r, http.StatusCreated, "key_created", &page{Title: "Key created", Data: keyCreatedPage{Key: k, Secret: secret}})
}

// handleConsoleKeyRevoke revokes a key, which ends its console sessions
// too, and goes back to the keys.
func (s *Server) handleConsoleKeyRevoke(w http.ResponseWriter, r *http.Request) {
	if _, err := s.svc.RevokeKey(r.Context(), r.PathValue("id")); err != nil {
		s.consoleFail(w, r, err)
		return
	}
	redirectNotice(w, r, "/console/keys", "key-revoked")
}
