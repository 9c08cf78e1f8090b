package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the clicks on links (migration 0007) and the visitor ids
// of customers at each store (migration 0010).

const clickColumns = `id, link_id, store_id, partner_id, visitor_id, clicked_at, referrer, user_agent, flag`

// ClickInsertMany inserts clicks in one statement, their columns travelling
// as arrays, and sets their IDs. The rows are inserted in the order of the
// batch (WITH ORDINALITY and ORDER BY), so the identity gives them
// increasing ids in that order; the ids returned are sorted before they
// are handed out, so that nothing depends on the order of RETURNING.
func (t *tx) ClickInsertMany(ctx context.Context, clicks []*promokit.Click) error {
	if len(clicks) == 0 {
		return nil
	}
	n := len(clicks)
	var (
		links, stores, partners, visitors = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		referrers, agents, flags          = make([]string, n), make([]string, n), make([]string, n)
		times                             = make([]time.Time, n)
	)
	for i, c := range clicks {
		links[i], stores[i], partners[i], visitors[i] = c.LinkID, c.StoreID, c.PartnerID, c.VisitorID
		referrers[i], agents[i], flags[i], times[i] = c.Referrer, c.UserAgent, c.Flag, c.ClickedAt
	}
	rows, err := t.q.Query(ctx, `INSERT INTO clicks (link_id, store_id, partner_id, visitor_id, clicked_at, referrer, user_agent, flag)
		SELECT link_id, store_id, partner_id, visitor_id, clicked_at, referrer, user_agent, flag
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[])
			WITH ORDINALITY AS c(link_id, store_id, partner_id, visitor_id, clicked_at, referrer, user_agent, flag, n)
		ORDER BY n
		RETURNING id`, links, stores, partners, visitors, times, referrers, agents, flags)
	if err != nil {
		return fmt.Errorf("postgres: insert clicks: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("postgres: insert clicks: %w", err)
	}
	if len(ids) != n {
		return fmt.Errorf("postgres: insert clicks: %d ids for %d clicks", len(ids), n)
	}
	slices.Sort(ids)
	for i, c := range clicks {
		c.ID = ids[i]
	}
	return nil
}

// ClickCountMany counts the clicks of each visitor and link pair since since,
// the pairs travelling as two arrays.
func (t *tx) ClickCountMany(ctx context.Context, since time.Time, pairs []storage.VisitorLink, max int64) (map[storage.VisitorLink]int64, error) {
	out := make(map[storage.VisitorLink]int64, len(pairs))
	if len(pairs) == 0 {
		return out, nil
	}
	seen := make(map[storage.VisitorLink]bool, len(pairs))
	visitors, links := make([]string, 0, len(pairs)), make([]string, 0, len(pairs))
	for _, p := range pairs {
		if !seen[p] {
			seen[p] = true
			visitors, links = append(visitors, p.VisitorID), append(links, p.LinkID)
		}
	}
	if max <= 0 {
		max = maxID
	}
	// Each pair reads at most max entries of the link's index: a visitor
	// who floods a link costs no more than one who passes the limit once.
	rows, err := t.q.Query(ctx, `SELECT k.visitor_id, k.link_id, n.count
		FROM unnest($2::text[], $3::text[]) AS k(visitor_id, link_id)
		CROSS JOIN LATERAL (SELECT count(*) AS count FROM (
			SELECT 1 FROM clicks c WHERE c.link_id = k.link_id AND c.visitor_id = k.visitor_id AND c.clicked_at >= $1
			LIMIT $4) x) n
		WHERE n.count > 0`, since, visitors, links, max)
	if err != nil {
		return nil, fmt.Errorf("postgres: click counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k storage.VisitorLink
			n int64
		)
		if err := rows.Scan(&k.VisitorID, &k.LinkID, &n); err != nil {
			return nil, fmt.Errorf("postgres: click counts: %w", err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: click counts: %w", err)
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
	c, err := scanClick(t.q.QueryRow(ctx, `SELECT `+clickColumns+` FROM clicks
		WHERE store_id = $1 AND visitor_id = ANY($2::text[]) AND flag = ''
		  AND clicked_at >= $3 AND clicked_at <= $4
		ORDER BY clicked_at DESC, id DESC LIMIT 1`, storeID, visitorIDs, from, to))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.NotFound("click", "")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: latest click: %w", err)
	}
	return c, nil
}

func scanClick(row pgx.Row) (*promokit.Click, error) {
	var c promokit.Click
	if err := row.Scan(&c.ID, &c.LinkID, &c.StoreID, &c.PartnerID, &c.VisitorID, &c.ClickedAt, &c.Referrer, &c.UserAgent, &c.Flag); err != nil {
		return nil, err
	}
	return &c, nil
}

// LinkStatGetMany counts the clicks of each link among linkIDs that has any.
func (t *tx) LinkStatGetMany(ctx context.Context, linkIDs []string) (map[string]storage.LinkStat, error) {
	out := make(map[string]storage.LinkStat, len(linkIDs))
	if len(linkIDs) == 0 {
		return out, nil
	}
	rows, err := t.q.Query(ctx, `SELECT link_id, count(*), count(*) FILTER (WHERE flag <> '') FROM clicks
		WHERE link_id = ANY($1::text[]) GROUP BY link_id`, distinct(linkIDs))
	if err != nil {
		return nil, fmt.Errorf("postgres: link stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			s  storage.LinkStat
		)
		if err := rows.Scan(&id, &s.Clicks, &s.Flagged); err != nil {
			return nil, fmt.Errorf("postgres: link stats: %w", err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: link stats: %w", err)
	}
	return out, nil
}

// VisitorAdd records a customer's visitor id at a store, or refreshes
// when it was last seen there.
func (t *tx) VisitorAdd(ctx context.Context, p storage.VisitorSeen) error {
	storeID, customerID, visitorID, now := p.StoreID, p.CustomerID, p.VisitorID, p.Seen
	_, err := t.q.Exec(ctx, `INSERT INTO visitors (store_id, customer_id, visitor_id, last_seen) VALUES ($1, $2, $3, $4)
		ON CONFLICT (store_id, customer_id, visitor_id) DO UPDATE SET last_seen = EXCLUDED.last_seen`,
		storeID, customerID, visitorID, now)
	if err != nil {
		return fmt.Errorf("postgres: add visitor: %w", err)
	}
	return nil
}

// VisitorList returns the visitor ids a customer used at a store,
// the most recently seen first.
func (t *tx) VisitorList(ctx context.Context, storeID, customerID string, limit int) ([]string, error) {
	return queryList(ctx, t.q, "visitors", `SELECT visitor_id FROM visitors
		WHERE store_id = $1 AND customer_id = $2 ORDER BY last_seen DESC, visitor_id LIMIT $3`,
		[]any{storeID, customerID, limit}, scanString)
}
