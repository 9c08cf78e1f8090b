package engine

import (
	"context"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// OrderView is an order with every ledger entry it made.
type OrderView struct {
	Order   *promokit.Order         `json:"order"`
	Entries []*promokit.LedgerEntry `json:"entries"`
}

// GetOrder answers an order with its ledger entries: to the admin and the
// store's seller and checkout keys.
func (s *Service) GetOrder(ctx context.Context, storeID, orderID string) (*OrderView, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RoleCheckout)
	if err != nil {
		return nil, err
	}
	if sc := p.Scope(); sc.StoreID != "" && sc.StoreID != storeID {
		return nil, notFound("order", orderID)
	}
	var out *OrderView
	err = s.read(ctx, func(tx storage.Tx) error {
		o, err := tx.OrderGet(ctx, storeID, orderID, false)
		if err != nil {
			return err
		}
		es, err := tx.LedgerListByOrder(ctx, storeID, orderID)
		if err != nil {
			return err
		}
		if es == nil {
			es = []*promokit.LedgerEntry{}
		}
		out = &OrderView{Order: o, Entries: es}
		return nil
	})
	return out, err
}
