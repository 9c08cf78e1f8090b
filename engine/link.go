package engine

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// LinkInput creates an affiliate link to a product of a store, or to the
// store itself when ProductID is empty. PartnerID is for the admin, who
// creates links on a partner's behalf; a partner's link is its own.
type LinkInput struct {
	StoreID   string `json:"store_id"`
	ProductID string `json:"product_id"`
	PartnerID string `json:"partner_id"`
}

// LinkView is a link with its click counts.
type LinkView struct {
	*promokit.Link
	storage.LinkStat
}

// CreateLink creates an affiliate link (A3) for an affiliate partner, to a
// product of a store in the affiliate program (its page) or to the store
// (the page it gave when joining). The link keeps a copy of that page's
// URL. A page that the store's redirect hosts no longer allow (it was
// saved before they were set), or that the rules of page URLs refuse, is
// EConflict: the seller must set another first.
func (s *Service) CreateLink(ctx context.Context, in LinkInput) (*promokit.Link, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RolePartner)
	if err != nil {
		return nil, err
	}
	var v promokit.Validation
	if p.Role == promokit.RolePartner {
		if in.PartnerID != "" && in.PartnerID != p.PartnerID {
			v.Add("partner_id", "invalid", "a partner creates links for itself only; leave partner_id out")
		}
		in.PartnerID = p.PartnerID
	} else if in.PartnerID == "" {
		v.Add("partner_id", "required", "partner_id is required")
	}
	if in.StoreID == "" {
		v.Add("store_id", "required", "store_id is required")
	}
	if in.ProductID != "" && !promokit.ValidProductID(in.ProductID) {
		v.Add("product_id", "invalid", "product id must have 1 to 64 printable ASCII characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var l *promokit.Link
	err = s.write(ctx, func(tx storage.Tx) error {
		pa, err := tx.PartnerGet(ctx, in.PartnerID)
		if err != nil {
			return err
		}
		if pa.Kind != promokit.PartnerAffiliate {
			return promokit.Errorf(promokit.EForbidden, "partner %q is an %s; only affiliates create affiliate links", pa.ID, pa.Kind)
		}
		st, err := tx.StoreGet(ctx, in.StoreID, false)
		if err != nil {
			return err
		}
		now := s.now()
		m, err := tx.MembershipGetLatest(ctx, in.StoreID, false)
		if isNotFound(err) || err == nil && !m.ActiveAt(now) || err == nil && m.ExitsAt != nil {
			return promokit.Errorf(promokit.EConflict, "store %q is not in the affiliate program", in.StoreID)
		}
		if err != nil {
			return err
		}
		target, page := m.URL, "the store's page (its affiliate url)"
		if in.ProductID != "" {
			pr, err := tx.ProductGet(ctx, in.StoreID, in.ProductID)
			if err != nil {
				return err
			}
			if pr.URL == "" {
				return promokit.Errorf(promokit.EConflict, "product %q has no url for a link to open; set one first", pr.ID)
			}
			target, page = pr.URL, "the page of product "+strconv.Quote(pr.ID)
		}
		if code, _ := promokit.PageURLProblem("url", target, st.RedirectHosts); code != "" {
			return promokit.Errorf(promokit.EConflict, "%s is not a page links may open (%s): the store must set another first", page, code)
		}
		for attempt := 0; ; attempt++ {
			l = &promokit.Link{
				ID: promokit.NewID(promokit.PrefixLink, now), Token: promokit.NewLinkToken(),
				PartnerID: in.PartnerID, StoreID: in.StoreID, ProductID: in.ProductID, URL: target, CreatedAt: now,
			}
			err := tx.LinkCreate(ctx, l)
			if errors.Is(err, storage.ErrNotFound) {
				// Deleted since they were read.
				return promokit.Errorf(promokit.ENotFound, "store %q or partner %q not found", l.StoreID, l.PartnerID)
			}
			if !errors.Is(err, storage.ErrTaken) || attempt == 2 {
				return err
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// GetLink returns a link with its click counts: to the admin, its partner
// and its store's seller.
func (s *Service) GetLink(ctx context.Context, id string) (*LinkView, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RolePartner, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	var out *LinkView
	err = s.read(ctx, func(tx storage.Tx) error {
		l, err := tx.LinkGet(ctx, p.Scope(), id)
		if err != nil {
			return err
		}
		stats, err := tx.LinkStatGetMany(ctx, []string{l.ID})
		if err != nil {
			return err
		}
		out = &LinkView{Link: l, LinkStat: stats[l.ID]}
		return nil
	})
	return out, err
}

// ListLinks lists the links the caller sees, with their click counts.
func (s *Service) ListLinks(ctx context.Context, page storage.Page) ([]*LinkView, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RolePartner, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	page.Bound()
	var out []*LinkView
	err = s.read(ctx, func(tx storage.Tx) error {
		ls, err := tx.LinkList(ctx, p.Scope(), page)
		if err != nil {
			return err
		}
		ids := make([]string, len(ls))
		for i, l := range ls {
			ids[i] = l.ID
		}
		stats, err := tx.LinkStatGetMany(ctx, ids)
		if err != nil {
			return err
		}
		out = make([]*LinkView, len(ls))
		for i, l := range ls {
			out[i] = &LinkView{Link: l, LinkStat: stats[l.ID]}
		}
		return nil
	})
	return out, err
}

// botAgents are user-agent fragments of crawlers and link previews
// (lower case): their clicks are stored, flagged, and never attribute.
var botAgents = []string{
	"bot", "crawler", "spider", "slurp", "preview", "facebookexternalhit", "embedly",
	"whatsapp", "skypeuripreview", "bitlybot", "headlesschrome", "python-requests",
	"curl/", "wget/", "go-http-client", "okhttp", "java/", "libwww",
}

// isBot reports whether a user agent is a crawler's, a link preview's or a
// script's; an empty one counts as a bot.
func isBot(ua string) bool {
	if ua == "" {
		return true
	}
	l := strings.ToLower(ua)
	for _, b := range botAgents {
		if strings.Contains(l, b) {
			return true
		}
	}
	return false
}
