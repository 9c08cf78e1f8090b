package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit/engine"
)

// PlaceOrders writes a batch of placed orders: every event, order and
// visitor insert goes in one round trip, then the entries in one
// statement. A duplicate event or order is EConflict and the transaction
// must be rolled back.
func (t *tx) PlaceOrders(ctx context.Context, p engine.PlacedOrders) error {
	var b pgx.Batch
	for _, e := range p.Events {
		b.Queue(`INSERT INTO order_events (`+orderEventColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			e.StoreID, e.ID, e.OrderID, e.Type, nonNilBytes(e.RequestHash), e.At, e.CreatedAt)
	}
	for _, o := range p.Orders {
		lines, payment, err := encodeOrder(o)
		if err != nil {
			return err
		}
		program, linkID, partnerID, clickID, clickedAt := attributionArgs(o.Attribution)
		b.Queue(`INSERT INTO orders (`+orderColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)`,
			o.StoreID, o.ID, o.CustomerID, o.VisitorID, o.Currency, lines, o.Shipping, emptyIfNil(o.Codes), payment, o.State, o.Paid,
			o.RefundedShipping, o.PlacedAt, o.PaidAt, o.CompletedAt, o.CancelledAt,
			program, linkID, partnerID, clickID, clickedAt,
			o.ReleaseAt, o.Released, o.Version, o.CreatedAt, o.UpdatedAt)
	}
	for _, v := range p.Visitors {
		b.Queue(`INSERT INTO visitors (customer_id, visitor_id, last_seen) VALUES ($1, $2, $3)
			ON CONFLICT (customer_id, visitor_id) DO UPDATE SET last_seen = EXCLUDED.last_seen`, v.CustomerID, v.VisitorID, v.Seen)
	}
	err := t.sendBatch(ctx, &b, "place orders", func(i int, br pgx.BatchResults) error {
		_, err := br.Exec()
		if err != nil {
			return createErr(err, "placed order", "", "", "")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return t.AddEntries(ctx, p.Entries)
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
