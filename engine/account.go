package engine

import (
	"context"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// StoreInput creates or changes a store. RedirectHosts replaces the
// store's list whole ([] removes every restriction).
type StoreInput struct {
	Name                  *string   `json:"name"`
	PartnerPromoCodes     *bool     `json:"partner_promo_codes"`
	MaxPromotionsPerOrder *int64    `json:"max_promotions_per_order"`
	RedirectHosts         *[]string `json:"redirect_hosts"`
}

// apply writes the fields set in in onto st, the redirect hosts
// normalised; EInvalid names a redirect host that is not a domain name.
func (in StoreInput) apply(st *promokit.Store) error {
	if in.Name != nil {
		st.Name = *in.Name
	}
	if in.PartnerPromoCodes != nil {
		st.PartnerPromoCodes = *in.PartnerPromoCodes
	}
	if in.MaxPromotionsPerOrder != nil {
		st.MaxPromotionsPerOrder = *in.MaxPromotionsPerOrder
	}
	if in.RedirectHosts != nil {
		hosts, err := promokit.NormalizeRedirectHosts(*in.RedirectHosts)
		if err != nil {
			return err
		}
		st.RedirectHosts = hosts
	}
	if st.RedirectHosts == nil {
		st.RedirectHosts = []string{}
	}
	return nil
}

// CreateStore creates a seller's store; admin only.
func (s *Service) CreateStore(ctx context.Context, in StoreInput) (*promokit.Store, error) {
	if _, err := require(ctx, promokit.RoleAdmin); err != nil {
		return nil, err
	}
	now := s.now()
	st := &promokit.Store{ID: promokit.NewID(promokit.PrefixStore, now), CreatedAt: now}
	if err := in.apply(st); err != nil {
		return nil, err
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	if err := s.write(ctx, func(tx storage.Tx) error { return tx.StoreCreate(ctx, st) }); err != nil {
		return nil, err
	}
	return st, nil
}

// GetStore returns a store: any for the admin and unbound checkout keys, its
// own for a seller or bound checkout key; anything else is not found.
func (s *Service) GetStore(ctx context.Context, id string) (*promokit.Store, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RoleCheckout)
	if err != nil {
		return nil, err
	}
	if sc := p.Scope(); sc.StoreID != "" && sc.StoreID != id {
		return nil, notFound("store", id)
	}
	var st *promokit.Store
	err = s.read(ctx, func(tx storage.Tx) error {
		st, err = tx.StoreGet(ctx, id, false)
		return err
	})
	return st, err
}

// ListStores lists the stores the caller can see.
func (s *Service) ListStores(ctx context.Context, page storage.Page) ([]*promokit.Store, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RoleCheckout)
	if err != nil {
		return nil, err
	}
	if id := p.Scope().StoreID; id != "" {
		if page.After != "" && page.After >= id {
			return []*promokit.Store{}, nil
		}
		st, err := s.GetStore(ctx, id)
		if err != nil {
			return nil, err
		}
		return []*promokit.Store{st}, nil
	}
	page.Bound()
	var list []*promokit.Store
	err = s.read(ctx, func(tx storage.Tx) error {
		list, err = tx.StoreList(ctx, page)
		return err
	})
	return list, err
}

// UpdateStore changes a store's name, whether it runs under the P4
// partner promo code policy, how many promotions an order may combine, or
// the domains its affiliate links may open (RedirectHosts); admin only,
// since these are the marketplace's decisions: any other key, the store's
// own seller included, is EForbidden. Pages saved before a restriction
// are not changed; the links whose page it no longer allows stop
// redirecting (Click).
func (s *Service) UpdateStore(ctx context.Context, id string, in StoreInput) (*promokit.Store, error) {
	if _, err := require(ctx, promokit.RoleAdmin); err != nil {
		return nil, err
	}
	var st *promokit.Store
	err := s.write(ctx, func(tx storage.Tx) error {
		var err error
		if st, err = tx.StoreGet(ctx, id, true); err != nil {
			return err
		}
		if err := in.apply(st); err != nil {
			return err
		}
		if err := st.Validate(); err != nil {
			return err
		}
		return tx.StoreUpdate(ctx, st)
	})
	return st, err
}

// PartnerInput creates a partner.
type PartnerInput struct {
	Name string               `json:"name"`
	Kind promokit.PartnerKind `json:"kind"`
}

// CreatePartner creates a partner account; admin only.
func (s *Service) CreatePartner(ctx context.Context, in PartnerInput) (*promokit.Partner, error) {
	if _, err := require(ctx, promokit.RoleAdmin); err != nil {
		return nil, err
	}
	now := s.now()
	pa := &promokit.Partner{ID: promokit.NewID(promokit.PrefixPartner, now), Name: in.Name, Kind: in.Kind, CreatedAt: now}
	if err := pa.Validate(); err != nil {
		return nil, err
	}
	if err := s.write(ctx, func(tx storage.Tx) error { return tx.PartnerCreate(ctx, pa) }); err != nil {
		return nil, err
	}
	return pa, nil
}

// GetPartner returns a partner: any for the admin, itself for a partner.
// Sellers and checkout keys see partners through their codes only.
func (s *Service) GetPartner(ctx context.Context, id string) (*promokit.Partner, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RolePartner)
	if err != nil {
		return nil, err
	}
	if p.Role == promokit.RolePartner && p.PartnerID != id {
		return nil, notFound("partner", id)
	}
	var pa *promokit.Partner
	err = s.read(ctx, func(tx storage.Tx) error {
		pa, err = tx.PartnerGet(ctx, id)
		return err
	})
	return pa, err
}

// ListPartners lists partners; admin only.
func (s *Service) ListPartners(ctx context.Context, page storage.Page) ([]*promokit.Partner, error) {
	if _, err := require(ctx, promokit.RoleAdmin); err != nil {
		return nil, err
	}
	page.Bound()
	var list []*promokit.Partner
	err := s.read(ctx, func(tx storage.Tx) error {
		var err error
		list, err = tx.PartnerList(ctx, page)
		return err
	})
	return list, err
}

// ProductInput creates or replaces a product of a store.
type ProductInput struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// PutProduct creates or replaces a product of a store: the admin for any
// store, a seller for its own (another store is ENotFound). Its url, the
// page affiliate links open, must be a page URL (promokit.PageURLProblem)
// on one of the store's redirect hosts when it has any: EInvalid names the
// field and the rule otherwise.
func (s *Service) PutProduct(ctx context.Context, storeID, id string, in ProductInput) (*promokit.Product, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	if p.Role == promokit.RoleSeller && p.StoreID != storeID {
		return nil, notFound("store", storeID)
	}
	now := s.now()
	pr := &promokit.Product{StoreID: storeID, ID: id, Name: in.Name, URL: in.URL, CreatedAt: now, UpdatedAt: now}
	if err := pr.Validate(); err != nil {
		return nil, err
	}
	err = s.write(ctx, func(tx storage.Tx) error {
		st, err := tx.StoreGet(ctx, storeID, false)
		if err != nil {
			return err
		}
		if pr.URL != "" {
			var v promokit.Validation
			promokit.CheckPageURL(&v, "url", pr.URL, st.RedirectHosts)
			if err := v.Err(); err != nil {
				return err
			}
		}
		if old, err := tx.ProductGet(ctx, storeID, id); err == nil {
			pr.CreatedAt = old.CreatedAt
		} else if !isNotFound(err) {
			return err
		}
		return tx.ProductPut(ctx, pr)
	})
	return pr, err
}

// GetProduct returns a product. Products are catalogue facts: partners (who
// link to them) and checkout keys read them too; sellers read their own.
func (s *Service) GetProduct(ctx context.Context, storeID, id string) (*promokit.Product, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if sc := p.Scope(); sc.StoreID != "" && sc.StoreID != storeID {
		return nil, notFound("store", storeID)
	}
	var pr *promokit.Product
	err = s.read(ctx, func(tx storage.Tx) error {
		pr, err = tx.ProductGet(ctx, storeID, id)
		return err
	})
	return pr, err
}

// ListProducts lists a store's products, with the visibility of GetProduct.
func (s *Service) ListProducts(ctx context.Context, storeID string, page storage.Page) ([]*promokit.Product, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if sc := p.Scope(); sc.StoreID != "" && sc.StoreID != storeID {
		return nil, notFound("store", storeID)
	}
	page.Bound()
	var list []*promokit.Product
	err = s.read(ctx, func(tx storage.Tx) error {
		if _, err := tx.StoreGet(ctx, storeID, false); err != nil {
			return err
		}
		list, err = tx.ProductList(ctx, storeID, page)
		return err
	})
	return list, err
}
