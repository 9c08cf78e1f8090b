package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the clicks on links (migration 0007) and the visitor ids
// of customers at each store (migration 0010).

const clickColumns = `id, link_id, store_id, partner_id, visitor_id, clicked_at, referrer, user_agent, flag`

// ClickInsertMany inserts clicks and sets their IDs, one prepared statement
// each: on the writer connection that costs less than one dynamic
// multi-row INSERT, and the rowid of each is exact.
func (t *tx) ClickInsertMany(ctx context.Context, clicks []*promokit.Click) error {
	for _, c := range clicks {
		res, err := t.q.ExecContext(ctx, `INSERT INTO clicks (link_id, store_id, partner_id, visitor_id, clicked_at, referrer, user_agent, flag)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			c.LinkID, c.StoreID, c.PartnerID, c.VisitorID, micros(c.ClickedAt), c.Referrer, c.UserAgent, c.Flag)
		if err != nil {
			return fmt.Errorf("sqlite: insert click: %w", err)
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlite: insert click: %w", err)
		}
	}
	return nil
}

// ClickCountMany counts the clicks of each visitor and link pair since since,
// the pairs travelling as one JSON array of [visitor, link].
func (t *tx) ClickCountMany(ctx context.Context, since time.Time, pairs []storage.VisitorLink, max int64) (map[storage.VisitorLink]int64, error) {
	out := make(map[storage.VisitorLink]int64, len(pairs))
	if len(pairs) == 0 {
		return out, nil
	}
	seen := make(map[storage.VisitorLink]bool, len(pairs))
	list := make([][2]string, 0, len(pairs))
	for _, p := range pairs {
		if !seen[p] {
			seen[p] = true
			list = append(list, [2]string{p.VisitorID, p.LinkID})
		}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode click pairs: %w", err)
	}
	if max <= 0 {
		max = math.MaxInt64
	}
	// Each pair reads at most max entries of the link's index: a visitor
	// who floods a link costs no more than one who passes the limit once.
	rows, err := t.q.QueryContext(ctx, `SELECT visitor_id, link_id, n FROM (
		SELECT k.value ->> 0 AS visitor_id, k.value ->> 1 AS link_id, (SELECT count(*) FROM (
			SELECT 1 FROM clicks c WHERE c.link_id = k.value ->> 1 AND c.visitor_id = k.value ->> 0 AND c.clicked_at >= ?
			LIMIT ?)) AS n
		FROM json_each(?) k) WHERE n > 0`, micros(since), max, string(b))
	if err != nil {
		return nil, fmt.Errorf("sqlite: click counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k storage.VisitorLink
			n int64
		)
		if err := rows.Scan(&k.VisitorID, &k.LinkID, &n); err != nil {
			return nil, fmt.Errorf("sqlite: click counts: %w", err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: click counts: %w", err)
	}
	return out, nil
}

// ClickGetLatest returns the latest unflagged click of the visitors on the
// store's links within [from, to].
func (t *tx) ClickGetLatest(ctx context.Context, p storage.ClickQuery) (*promokit.Click, error) {
	storeID, visitorIDs, from, to := p.StoreID, p.VisitorIDs, p.From, p.To
	if len(visitorIDs) == 0 {
		return nil, storage.NotFound("click", "")
	}
	list, err := json.Marshal(visitorIDs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode visitor ids: %w", err)
	}
	c, err := scanClick(t.q.QueryRowContext(ctx, `SELECT `+clickColumns+` FROM clicks
		WHERE store_id = ? AND visitor_id IN (SELECT value FROM json_each(?)) AND flag = ''
		  AND clicked_at >= ? AND clicked_at <= ?
		ORDER BY clicked_at DESC, id DESC LIMIT 1`, storeID, string(list), micros(from), micros(to)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storage.NotFound("click", "")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: latest click: %w", err)
	}
	return c, nil
}

func scanClick(row scanner) (*promokit.Click, error) {
	var (
		c       promokit.Click
		clicked int64
	)
	if err := row.Scan(&c.ID, &c.LinkID, &c.StoreID, &c.PartnerID, &c.VisitorID, &clicked, &c.Referrer, &c.UserAgent, &c.Flag); err != nil {
		return nil, err
	}
	c.ClickedAt = fromMicros(clicked)
	return &c, nil
}

// LinkStatGetMany counts the clicks of each link among linkIDs that has any,
// from the index of clicks by link alone.
func (t *tx) LinkStatGetMany(ctx context.Context, linkIDs []string) (map[string]storage.LinkStat, error) {
	out := make(map[string]storage.LinkStat, len(linkIDs))
	if len(linkIDs) == 0 {
		return out, nil
	}
	list, err := json.Marshal(distinct(linkIDs))
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode link ids: %w", err)
	}
	rows, err := t.q.QueryContext(ctx, `SELECT link_id, count(*), count(*) FILTER (WHERE flag <> '') FROM clicks
		WHERE link_id IN (SELECT value FROM json_each(?)) GROUP BY link_id`, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite: link stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			s  storage.LinkStat
		)
		if err := rows.Scan(&id, &s.Clicks, &s.Flagged); err != nil {
			return nil, fmt.Errorf("sqlite: link stats: %w", err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: link stats: %w", err)
	}
	return out, nil
}

// VisitorAdd records a customer's visitor id at a store, or refreshes
// when it was last seen there.
func (t *tx) VisitorAdd(ctx context.Context, p storage.VisitorSeen) error {
	storeID, customerID, visitorID, now := p.StoreID, p.CustomerID, p.VisitorID, p.Seen
	_, err := t.q.ExecContext(ctx, `INSERT INTO visitors (store_id, customer_id, visitor_id, last_seen) VALUES (?, ?, ?, ?)
		ON CONFLICT (store_id, customer_id, visitor_id) DO UPDATE SET last_seen = excluded.last_seen`,
		storeID, customerID, visitorID, micros(now))
	if err != nil {
		return fmt.Errorf("sqlite: add visitor: %w", err)
	}
	return nil
}

// VisitorList returns the visitor ids a customer used at a store,
// the most recently seen first.
func (t *tx) VisitorList(ctx context.Context, storeID, customerID string, limit int) ([]string, error) {
	return queryList(ctx, t, "visitors", `SELECT visitor_id FROM visitors
		WHERE store_id = ? AND customer_id = ? ORDER BY last_seen DESC, visitor_id LIMIT ?`, []any{storeID, customerID, limit}, scanString)
}
