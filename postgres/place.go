package postgres

import (
	"context"
	"errors"

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

// PlaceRead reads what placing an order needs in one round trip: the
// settings, the store, its latest membership, the rates in force and the
// winning click, whose window starts at the later of q.From and the
// membership's join.
func (t *tx) PlaceRead(ctx context.Context, q engine.PlaceQuery) (*engine.PlaceData, error) {
	var (
		b pgx.Batch
		d engine.PlaceData
	)
	b.Queue(getSettingsSQL)
	b.Queue(`SELECT `+storeColumns+` FROM stores WHERE id = $1`, q.StoreID)
	b.Queue(latestMembershipSQL, q.StoreID)
	b.Queue(`SELECT r.id, r.store_id, r.product_id, r.rate_bp, r.removed, r.effective_at
		FROM unnest($2::text[]) AS p(id) CROSS JOIN LATERAL (
			SELECT `+rateColumns+` FROM affiliate_rates
			WHERE store_id = $1 AND product_id = p.id AND effective_at <= $3
			ORDER BY effective_at DESC, id DESC LIMIT 1) r
		ORDER BY r.product_id`, q.StoreID, distinct(append([]string{""}, q.ProductIDs...)), q.At)
	// The winning click: for each visitor id, the latest of its clicks in
	// the window, read backwards on the attribution index; then the latest
	// of those.
	b.Queue(`WITH v AS (
			SELECT $2::text AS visitor_id
			UNION
			SELECT visitor_id FROM (SELECT visitor_id FROM visitors WHERE customer_id = $3 AND $3 <> ''
			                        ORDER BY last_seen DESC, visitor_id LIMIT $4) x
		), w AS (
			SELECT GREATEST($5::timestamptz, (SELECT joined_at FROM memberships WHERE store_id = $1
			                                  ORDER BY joined_at DESC, id DESC LIMIT 1)) AS since
		)
		SELECT c.* FROM v, w CROSS JOIN LATERAL (
			SELECT `+clickColumns+` FROM clicks
			WHERE store_id = $1 AND visitor_id = v.visitor_id AND flag = ''
			  AND clicked_at >= w.since AND clicked_at <= $6
			ORDER BY clicked_at DESC, id DESC LIMIT 1) c
		ORDER BY c.clicked_at DESC, c.id DESC LIMIT 1`, q.StoreID, q.VisitorID, q.CustomerID, q.MaxVisitors, q.From, q.At)
	none := func(err error) error {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	}
	err := t.sendBatch(ctx, &b, "place read", func(i int, br pgx.BatchResults) error {
		var err error
		switch i {
		case 0:
			d.Settings, err = scanSettings(br.QueryRow())
		case 1:
			d.Store, err = scanStore(br.QueryRow())
			err = none(err)
		case 2:
			d.Membership, err = scanMembership(br.QueryRow())
			err = none(err)
		case 3:
			d.Rates, err = collect(br, scanRate)
		case 4:
			d.Click, err = scanClick(br.QueryRow())
			err = none(err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &d, nil
}
