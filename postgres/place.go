package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// OrderPlaceMany writes a batch of placed orders in one round trip of four
// statements, the columns of each travelling as arrays: the events, the
// orders, the visitors seen (per store) and the entries. A duplicate event or
// order is storage.ErrExists and the transaction must be rolled back.
func (t *tx) OrderPlaceMany(ctx context.Context, p storage.PlacedOrders) error {
	var b pgx.Batch
	if n := len(p.Events); n > 0 {
		stores, ids, orders, types := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		hashes, ats, created := make([][]byte, n), make([]time.Time, n), make([]time.Time, n)
		for i, e := range p.Events {
			stores[i], ids[i], orders[i], types[i] = e.StoreID, e.ID, e.OrderID, e.Type
			hashes[i], ats[i], created[i] = nonNilBytes(e.RequestHash), e.At, e.CreatedAt
		}
		b.Queue(`INSERT INTO order_events (`+orderEventColumns+`)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::timestamptz[], $7::timestamptz[])`,
			stores, ids, orders, types, hashes, ats, created)
	}
	if n := len(p.Orders); n > 0 {
		var (
			stores, ids, customers, visitors = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			currencies, states               = make([]string, n), make([]string, n)
			lines, codes, payments           = make([]string, n), make([]string, n), make([]string, n)
			unredeemed                       = make([]string, n)
			shipping, paid, refunded         = make([]int64, n), make([]int64, n), make([]int64, n)
			versions, clickIDs               = make([]int64, n), make([]int64, n)
			programs, links, partners        = make([]string, n), make([]string, n), make([]string, n)
			placed, clicked, created, upd    = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		)
		for i, o := range p.Orders {
			if o.PaidAt != nil || o.CompletedAt != nil || o.CancelledAt != nil || o.ReleaseAt != nil || o.Released {
				return fmt.Errorf("postgres: place orders: order %q is not a new placed order", o.ID)
			}
			l, pay, err := encodeOrder(o)
			if err != nil {
				return err
			}
			c, err := json.Marshal(emptyIfNil(o.Codes))
			if err != nil {
				return fmt.Errorf("postgres: encode order codes: %w", err)
			}
			u, err := json.Marshal(emptyIfNil(o.UnredeemedCodes))
			if err != nil {
				return fmt.Errorf("postgres: encode order codes: %w", err)
			}
			unredeemed[i] = string(u)
			stores[i], ids[i], customers[i], visitors[i] = o.StoreID, o.ID, o.CustomerID, o.VisitorID
			currencies[i], states[i], lines[i], codes[i], payments[i] = o.Currency, o.State, string(l), string(c), string(pay)
			shipping[i], paid[i], refunded[i], versions[i] = o.Shipping, o.Paid, o.RefundedShipping, o.Version
			placed[i], created[i], upd[i] = o.PlacedAt, o.CreatedAt, o.UpdatedAt
			if a := o.Attribution; a != nil {
				programs[i], links[i], partners[i], clickIDs[i], clicked[i] = a.Program, a.LinkID, a.PartnerID, a.ClickID, a.ClickedAt
			}
		}
		// An order without attribution has '' for its link: its
		// attribution columns are NULL, as OrderCreate writes them.
		b.Queue(`INSERT INTO orders (`+orderColumns+`)
			SELECT store_id, id, customer_id, visitor_id, currency, lines::jsonb, shipping,
				ARRAY(SELECT jsonb_array_elements_text(codes::jsonb)), payment::jsonb, state, paid, refunded_shipping,
				placed_at, NULL, NULL, NULL,
				NULLIF(program, ''), NULLIF(link_id, ''), NULLIF(partner_id, ''),
				CASE WHEN link_id = '' THEN NULL ELSE click_id END, CASE WHEN link_id = '' THEN NULL ELSE clicked_at END,
				NULL, false, version, created_at, updated_at, ARRAY(SELECT jsonb_array_elements_text(unredeemed::jsonb))
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[],
				$10::text[], $11::bigint[], $12::bigint[], $13::timestamptz[], $14::text[], $15::text[], $16::text[], $17::bigint[],
				$18::timestamptz[], $19::bigint[], $20::timestamptz[], $21::timestamptz[], $22::text[])
			AS o(store_id, id, customer_id, visitor_id, currency, lines, shipping, codes, payment,
				state, paid, refunded_shipping, placed_at, program, link_id, partner_id, click_id,
				clicked_at, version, created_at, updated_at, unredeemed)`,
			stores, ids, customers, visitors, currencies, lines, shipping, codes, payments,
			states, paid, refunded, placed, programs, links, partners, clickIDs,
			clicked, versions, created, upd, unredeemed)
	}
	if len(p.Visitors) > 0 {
		// One row per store, customer and visitor: an upsert may not
		// touch a row twice.
		last := map[[3]string]time.Time{}
		var keys [][3]string
		for _, v := range p.Visitors {
			k := [3]string{v.StoreID, v.CustomerID, v.VisitorID}
			if at, ok := last[k]; !ok {
				keys = append(keys, k)
				last[k] = v.Seen
			} else if v.Seen.After(at) {
				last[k] = v.Seen
			}
		}
		n := len(keys)
		stores, customers, visitors, seen := make([]string, n), make([]string, n), make([]string, n), make([]time.Time, n)
		for i, k := range keys {
			stores[i], customers[i], visitors[i], seen[i] = k[0], k[1], k[2], last[k]
		}
		b.Queue(`INSERT INTO visitors (store_id, customer_id, visitor_id, last_seen)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
			ON CONFLICT (store_id, customer_id, visitor_id) DO UPDATE SET last_seen = EXCLUDED.last_seen`,
			stores, customers, visitors, seen)
	}
	entries := -1
	if len(p.Entries) > 0 {
		sql, args := insertEntries(p.Entries)
		entries = b.Len()
		b.Queue(sql, args...)
	}
	return t.sendBatch(ctx, &b, "place orders", func(i int, br pgx.BatchResults) error {
		if i == entries {
			rows, err := br.Query()
			if err != nil {
				return fmt.Errorf("postgres: add ledger entries: %w", err)
			}
			return setEntryIDs(rows, p.Entries)
		}
		if _, err := br.Exec(); err != nil {
			return createErr(err, "placed order", "", "", "")
		}
		return nil
	})
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// scanPlaceHead reads the settings, the store (nil when missing) and its
// latest membership (nil when none) of a row of PlaceReadMany' first
// statement.
func scanPlaceHead(row pgx.Row) (*promokit.Settings, *promokit.Store, *promokit.Membership, error) {
	var (
		s                 promokit.Settings
		stID, stName      *string
		stP4              *bool
		stCreated         *time.Time
		stMax             *int64
		mID, mStore, mURL *string
		mJoined           *time.Time
		m                 promokit.Membership
	)
	err := row.Scan(&s.Name, &s.Currency, &s.TimeZone, &s.Policy, &s.Version, &s.UpdatedAt,
		&stID, &stName, &stP4, &stCreated, &stMax,
		&mID, &mStore, &mURL, &mJoined, &m.ExitRequestedAt, &m.ExitsAt)
	if err != nil {
		return nil, nil, nil, err
	}
	var st *promokit.Store
	if stID != nil {
		st = &promokit.Store{ID: *stID, Name: *stName, PartnerPromoCodes: *stP4, CreatedAt: *stCreated, MaxPromotionsPerOrder: *stMax}
	}
	var mp *promokit.Membership
	if mID != nil {
		m.ID, m.StoreID, m.URL, m.JoinedAt = *mID, *mStore, *mURL, *mJoined
		mp = &m
	}
	return &s, st, mp, nil
}

// PlaceReadMany reads what placing many orders needs in one round trip of
// three statements: the settings, store and latest membership of each
// store; the rates in force for each order; the winning click of each
// order (one LATERAL subquery per order). The orders that use their
// redemptions read them in a second (placeReadRedemptions).
func (t *tx) PlaceReadMany(ctx context.Context, qs []storage.PlaceQuery) ([]*storage.PlaceData, error) {
	out := make([]*storage.PlaceData, len(qs))
	if len(qs) == 0 {
		return out, nil
	}
	var (
		b                          pgx.Batch
		stores                     []string
		n                          = len(qs)
		qStores, qVisitors, qCusts = make([]string, n), make([]string, n), make([]string, n)
		qProducts, qOrders         = make([]string, n), make([]string, n)
		qFrom, qAt                 = make([]time.Time, n), make([]time.Time, n)
	)
	for i, q := range qs {
		out[i] = &storage.PlaceData{}
		if !slices.Contains(stores, q.StoreID) {
			stores = append(stores, q.StoreID)
		}
		ids, err := json.Marshal(distinct(append([]string{""}, q.ProductIDs...)))
		if err != nil {
			return nil, fmt.Errorf("postgres: encode product ids: %w", err)
		}
		qStores[i], qVisitors[i], qCusts[i], qProducts[i] = q.StoreID, q.VisitorID, q.CustomerID, string(ids)
		qFrom[i], qAt[i], qOrders[i] = q.From, q.At, q.OrderID
	}
	b.Queue(`SELECT q.id, s.name, s.currency, s.time_zone, s.policy, s.version, s.updated_at,
			st.id, st.name, st.partner_promo_codes, st.created_at, st.max_promotions_per_order,
			m.id, m.store_id, m.url, m.joined_at, m.exit_requested_at, m.exits_at
		FROM unnest($1::text[]) AS q(id)
		CROSS JOIN settings s
		LEFT JOIN stores st ON st.id = q.id
		LEFT JOIN LATERAL (SELECT `+membershipColumns+` FROM memberships WHERE store_id = q.id
		                   ORDER BY joined_at DESC, id DESC LIMIT 1) m ON true
		WHERE s.id = 1`, stores)
	b.Queue(`SELECT q.n, r.id, r.store_id, r.product_id, r.rate_bp, r.removed, r.effective_at
		FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS q(store_id, products, at, n)
		CROSS JOIN LATERAL jsonb_array_elements_text(q.products::jsonb) AS p(id)
		CROSS JOIN LATERAL (
			SELECT `+rateColumns+` FROM affiliate_rates
			WHERE store_id = q.store_id AND product_id = p.id AND effective_at <= q.at
			ORDER BY effective_at DESC, id DESC LIMIT 1) r
		ORDER BY q.n, r.product_id`, qStores, qProducts, qAt)
	b.Queue(`SELECT q.n, c.* FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
			WITH ORDINALITY AS q(store_id, visitor_id, customer_id, since, at, n)
		CROSS JOIN LATERAL (
			WITH v AS (
				SELECT q.visitor_id
				UNION
				SELECT visitor_id FROM (SELECT visitor_id FROM visitors
				                        WHERE store_id = q.store_id AND customer_id = q.customer_id AND q.customer_id <> ''
				                        ORDER BY last_seen DESC, visitor_id LIMIT $6) x
			), w AS (
				SELECT GREATEST(q.since, (SELECT joined_at FROM memberships WHERE store_id = q.store_id
				                          ORDER BY joined_at DESC, id DESC LIMIT 1)) AS since
			)
			SELECT k.* FROM v, w CROSS JOIN LATERAL (
				SELECT `+clickColumns+` FROM clicks
				WHERE store_id = q.store_id AND visitor_id = v.visitor_id AND flag = ''
				  AND clicked_at >= w.since AND clicked_at <= q.at
				ORDER BY clicked_at DESC, id DESC LIMIT 1) k
			ORDER BY k.clicked_at DESC, k.id DESC LIMIT 1) c`,
		qStores, qVisitors, qCusts, qFrom, qAt, qs[0].MaxVisitors)
	heads := map[string]*storage.PlaceData{}
	err := t.sendBatch(ctx, &b, "place reads", func(i int, br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			switch i {
			case 0:
				var id string
				d := &storage.PlaceData{}
				if d.Settings, d.Store, d.Membership, err = scanPlaceHead(prefixed{rows, &id}); err != nil {
					return err
				}
				heads[id] = d
			case 1:
				var k int64
				r, err := scanRate(prefixed{rows, &k})
				if err != nil {
					return err
				}
				out[k-1].Rates = append(out[k-1].Rates, r)
			case 2:
				var k int64
				c, err := scanClick(prefixed{rows, &k})
				if err != nil {
					return err
				}
				out[k-1].Click = c
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	for i, q := range qs {
		h := heads[q.StoreID]
		if h == nil {
			return nil, notFound("settings", "")
		}
		out[i].Settings, out[i].Store, out[i].Membership = h.Settings, h.Store, h.Membership
		if h.Store == nil {
			out[i].Redemptions, out[i].Promotions = nil, nil
		}
		if h.Membership == nil {
			// A store that never joined has no window of clicks and
			// pays no commission: nothing else is read (PlaceData).
			out[i].Click, out[i].Rates = nil, nil
		}
	}
	if err := t.placeReadRedemptions(ctx, qs, out); err != nil {
		return nil, err
	}
	return out, nil
}

// placeReadRedemptions reads, in a second round trip, the redemptions with
// a code of each order that uses them (storage.NeedsRedemptions), through
// the partial unique index of codes (migration 0006), and for the orders of
// a P4 store the promotions they name. Most orders name no code: their
// batch makes no second trip.
func (t *tx) placeReadRedemptions(ctx context.Context, qs []storage.PlaceQuery, out []*storage.PlaceData) error {
	var (
		n                  []int64
		qStores, qOrders   []string
		p4                 []int64
		p4Stores, p4Orders []string
	)
	for i, q := range qs {
		st := out[i].Store
		if !storage.NeedsRedemptions(q, st) {
			continue
		}
		n, qStores, qOrders = append(n, int64(i)), append(qStores, q.StoreID), append(qOrders, q.OrderID)
		if st.PartnerPromoCodes {
			p4, p4Stores, p4Orders = append(p4, int64(i)), append(p4Stores, q.StoreID), append(p4Orders, q.OrderID)
		}
	}
	if len(n) == 0 {
		return nil
	}
	var b pgx.Batch
	b.Queue(`SELECT q.n, r.* FROM unnest($1::bigint[], $2::text[], $3::text[]) AS q(n, store_id, order_id)
		CROSS JOIN LATERAL (
			SELECT `+redemptionColumns+` FROM redemptions
			WHERE store_id = q.store_id AND order_id = q.order_id AND code <> ''
			ORDER BY id) r
		ORDER BY q.n, r.id`, n, qStores, qOrders)
	if len(p4) > 0 {
		b.Queue(`SELECT q.n, x.* FROM unnest($1::bigint[], $2::text[], $3::text[]) AS q(n, store_id, order_id)
			CROSS JOIN LATERAL (
				SELECT `+promotionColumns+` FROM promotions p
				WHERE p.store_id = q.store_id AND p.id IN (
					SELECT promotion_id FROM redemptions
					WHERE store_id = q.store_id AND order_id = q.order_id AND code <> '')
				ORDER BY p.id) x
			ORDER BY q.n, x.id`, p4, p4Stores, p4Orders)
	}
	return t.sendBatch(ctx, &b, "place redemption reads", func(i int, br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k int64
			if i == 0 {
				r, err := scanRedemption(prefixed{rows, &k})
				if err != nil {
					return err
				}
				out[k].Redemptions = append(out[k].Redemptions, r)
				continue
			}
			p, err := scanPromotion(prefixed{rows, &k})
			if err != nil {
				return err
			}
			out[k].Promotions = append(out[k].Promotions, p)
		}
		return rows.Err()
	})
}

// prefixed scans a row whose first column goes to first and the rest to
// the scanner's destinations.
type prefixed struct {
	row   pgx.Row
	first any
}

func (p prefixed) Scan(dest ...any) error {
	return p.row.Scan(append([]any{p.first}, dest...)...)
}
