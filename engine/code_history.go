package engine

import (
	"context"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// CodeUse is one use of a code in its usage history: the redemption, and
// what the order system reported of its order. Amount is what the buyer
// paid for the order's lines that the code's promotion covers (after
// discounts, without shipping), as the order's placed event reported them;
// Refunded what was refunded or returned of those lines since; OrderState
// the order's state. All three are null until the order is reported
// (a held code's order usually is not yet).
type CodeUse struct {
	*promokit.Redemption
	Amount     *int64  `json:"amount"`
	Refunded   *int64  `json:"refunded"`
	OrderState *string `json:"order_state"`
}

// ListCodeRedemptions returns one page of a code's usage history: its
// redemptions in every state (held, redeemed, released, rolled_back), by
// id, which is the order they were made in, each with the amounts of its
// order's lines that the code covers (CodeUse). page.After is the last id of
// the previous page; one that is not an id is EInvalid on the field
// "after". The code is found in any case and in the caller's scope: the
// admin's any code, a seller's its store's, a partner's those assigned to
// it. Any other code is not found, whether or not it exists. A checkout
// key has no use for the history and is forbidden.
func (s *Service) ListCodeRedemptions(ctx context.Context, value string, page storage.Page) ([]*CodeUse, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RolePartner)
	if err != nil {
		return nil, err
	}
	page.Bound()
	ip, err := idPage(page)
	if err != nil {
		var v promokit.Validation
		v.Add("after", "invalid", "after must be a cursor returned as next_cursor")
		return nil, v.Err()
	}
	code := promokit.NormalizeCode(value)
	if !promokit.ValidCode(code) {
		return nil, notFound("code", truncateID(value))
	}
	var out []*CodeUse
	err = s.read(ctx, func(tx storage.Tx) error {
		c, err := tx.CodeGet(ctx, p.Scope(), code)
		if err != nil {
			return err
		}
		list, err := tx.RedemptionListByCode(ctx, code, ip)
		if err != nil || len(list) == 0 {
			out = []*CodeUse{}
			return err
		}
		// A code's redemptions are all of its promotion's store.
		pr, err := tx.PromotionGet(ctx, promokit.Scope{StoreID: list[0].StoreID}, c.PromotionID)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(list))
		for _, r := range list {
			ids = append(ids, r.OrderID)
		}
		orders, err := tx.OrderGetMany(ctx, list[0].StoreID, ids)
		if err != nil {
			return err
		}
		out = codeUses(list, orders, pr)
		return nil
	})
	return out, err
}

// codeUses are the uses of list, each with what its order (among orders)
// paid and had refunded for the lines the promotion pr covers.
func codeUses(list []*promokit.Redemption, orders []*promokit.Order, pr *promokit.Promotion) []*CodeUse {
	byID := make(map[string]*promokit.Order, len(orders))
	for _, o := range orders {
		byID[o.ID] = o
	}
	out := make([]*CodeUse, len(list))
	for i, r := range list {
		u := &CodeUse{Redemption: r}
		if o := byID[r.OrderID]; o != nil {
			var amount, refunded int64
			for _, l := range o.Lines {
				if pr.AppliesTo(l.ProductID) {
					amount += l.Amount
					refunded += l.Refunded
				}
			}
			u.Amount, u.Refunded, u.OrderState = &amount, &refunded, &o.State
		}
		out[i] = u
	}
	return out
}

// storeExportPromotions is how many promotions ExportStoreCodes reads at a
// time.
const storeExportPromotions = 100

// ExportStoreCodes streams every code of a store, each with its promotion,
// to fn: the store's promotions by id, and each one's codes in creation
// order, without holding them in memory (one page of promotions, and the
// codes of the database's export chunk). The admin exports any store and
// a seller its own; another store is not found. Other keys are
// forbidden: a partner exports its own codes by partner, and a checkout
// key a promotion's. Like every export it is not one snapshot: a code
// created while it runs may or may not be in it. It stops at the first
// error fn returns and returns it.
func (s *Service) ExportStoreCodes(ctx context.Context, storeID string, fn func(*promokit.Code, *promokit.Promotion) error) error {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return err
	}
	if p.Role == promokit.RoleSeller && p.StoreID != storeID || !possibleID(storeID) {
		return notFound("store", truncateID(storeID))
	}
	scope := p.Scope()
	f := storage.PromotionFilter{StoreID: storeID, Page: storage.Page{Limit: storeExportPromotions}}
	for first := true; ; first = false {
		var promos []*promokit.Promotion
		err := s.read(ctx, func(tx storage.Tx) error {
			if first {
				if _, err := tx.StoreGet(ctx, storeID, false); err != nil {
					return err
				}
			}
			var err error
			promos, err = tx.PromotionList(ctx, scope, f)
			return err
		})
		if err != nil {
			return err
		}
		for _, pr := range promos {
			if err := s.exportPromotionCodes(ctx, scope, pr, fn); err != nil {
				return err
			}
		}
		if len(promos) < f.Limit {
			return nil
		}
		f.After = promos[len(promos)-1].ID
	}
}

// exportPromotionCodes streams the codes of the promotion pr to fn. An
// automatic promotion has none and costs no query.
func (s *Service) exportPromotionCodes(ctx context.Context, scope promokit.Scope, pr *promokit.Promotion, fn func(*promokit.Code, *promokit.Promotion) error) error {
	if pr.Automatic {
		return nil
	}
	return apiError(s.db.CodeExport(ctx, scope, storage.CodeFilter{PromotionID: pr.ID}, func(c *promokit.Code) error {
		return fn(c, pr)
	}))
}
