package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the links of partners to stores and products, and the
// target of a click: a link with its store's membership (migration 0007)
// and redirect hosts (migration 0012).

const linkColumns = `id, token, partner_id, store_id, product_id, url, created_at`

// LinkCreate inserts a link: storage.ErrTaken when its token exists,
// storage.ErrExists when its id does, storage.ErrNotFound when its store or
// partner does not. A conflict inserts nothing, and one more query tells which
// key it was.
func (t *tx) LinkCreate(ctx context.Context, l *promokit.Link) error {
	res, err := t.q.ExecContext(ctx, `INSERT INTO links (`+linkColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		l.ID, l.Token, l.PartnerID, l.StoreID, l.ProductID, l.URL, micros(l.CreatedAt))
	if err != nil {
		if constraintViolation(err) == foreignKeyViolation {
			return storage.NotFound("store or partner", "")
		}
		return fmt.Errorf("sqlite: create link %q: %w", l.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		if err != nil {
			return fmt.Errorf("sqlite: create link %q: %w", l.ID, err)
		}
		return nil
	}
	var taken bool
	if err := t.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM links WHERE token = ?)`, l.Token).Scan(&taken); err != nil {
		return fmt.Errorf("sqlite: create link %q: %w", l.ID, err)
	}
	if taken {
		return storage.Taken("link token", "")
	}
	return storage.Exists("link", l.ID)
}

// LinkGet returns a link visible to scope.
func (t *tx) LinkGet(ctx context.Context, scope promokit.Scope, id string) (*promokit.Link, error) {
	var w where
	w.add("id = ?", id)
	scopeLinks(&w, scope)
	l, err := scanLink(t.q.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM links`+w.String(), w.args...))
	if err != nil {
		return nil, noRows(err, "link", id)
	}
	return l, nil
}

// LinkList returns one page of the links visible to scope, by id.
func (t *tx) LinkList(ctx context.Context, scope promokit.Scope, p storage.Page) ([]*promokit.Link, error) {
	var w where
	scopeLinks(&w, scope)
	w.add("id > ?", p.After)
	return queryList(ctx, t, "links", `SELECT `+linkColumns+` FROM links`+w.String()+` ORDER BY id LIMIT ?`,
		append(w.args, p.Size()), scanLink)
}

// scopeLinks restricts a query on links to what scope can see: its
// store's, its partner's.
func scopeLinks(w *where, scope promokit.Scope) {
	if scope.StoreID != "" {
		w.add("store_id = ?", scope.StoreID)
	}
	if scope.PartnerID != "" {
		w.add("partner_id = ?", scope.PartnerID)
	}
}

// LinkGetTarget returns the link of a token, its store's latest membership
// and its store's redirect hosts in one query.
func (t *tx) LinkGetTarget(ctx context.Context, token string) (*promokit.ClickTarget, error) {
	var (
		l               promokit.Link
		created         int64
		hosts           string
		mID, mStore     sql.NullString
		mURL            sql.NullString
		joined          sql.NullInt64
		requested, exit sql.NullInt64
	)
	err := t.q.QueryRowContext(ctx, `SELECT l.id, l.token, l.partner_id, l.store_id, l.product_id, l.url, l.created_at, s.redirect_hosts,
			m.id, m.store_id, m.url, m.joined_at, m.exit_requested_at, m.exits_at
		FROM links l JOIN stores s ON s.id = l.store_id
		LEFT JOIN memberships m ON m.id = (
			SELECT x.id FROM memberships x WHERE x.store_id = l.store_id ORDER BY x.joined_at DESC, x.id DESC LIMIT 1)
		WHERE l.token = ?`, token).Scan(&l.ID, &l.Token, &l.PartnerID, &l.StoreID, &l.ProductID, &l.URL, &created, &hosts,
		&mID, &mStore, &mURL, &joined, &requested, &exit)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storage.NotFound("link", "")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: click target: %w", err)
	}
	l.CreatedAt = fromMicros(created)
	out := &promokit.ClickTarget{Link: &l}
	if out.RedirectHosts, err = decodeHosts(hosts); err != nil {
		return nil, err
	}
	if mID.Valid {
		out.Membership = &promokit.Membership{ID: mID.String, StoreID: mStore.String, URL: mURL.String,
			JoinedAt: fromMicros(joined.Int64), ExitRequestedAt: timePtr(requested), ExitsAt: timePtr(exit)}
	}
	return out, nil
}

func scanLink(row scanner) (*promokit.Link, error) {
	var (
		l       promokit.Link
		created int64
	)
	if err := row.Scan(&l.ID, &l.Token, &l.PartnerID, &l.StoreID, &l.ProductID, &l.URL, &created); err != nil {
		return nil, err
	}
	l.CreatedAt = fromMicros(created)
	return &l, nil
}
