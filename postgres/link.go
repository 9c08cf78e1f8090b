package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds the links of partners to stores and products, and the
// target of a click: a link with its store's membership (migration 0007)
// and redirect hosts (migration 0012).

const linkColumns = `id, token, partner_id, store_id, product_id, url, created_at`

// LinkCreate inserts a link: storage.ErrTaken when its token exists,
// storage.ErrExists when its id does, storage.ErrNotFound when its store or
// partner does not. A conflict inserts nothing without failing the statement,
// so that the transaction stays usable to try another token; one more query
// then tells which key it was.
func (t *tx) LinkCreate(ctx context.Context, l *promokit.Link) error {
	tag, err := t.q.Exec(ctx, `INSERT INTO links (`+linkColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		l.ID, l.Token, l.PartnerID, l.StoreID, l.ProductID, l.URL, l.CreatedAt)
	if err != nil {
		if constraintViolation(err) == foreignKeyViolation {
			return notFound("store or partner", "")
		}
		return fmt.Errorf("postgres: create link %q: %w", l.ID, err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var taken bool
	if err := t.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM links WHERE token = $1)`, l.Token).Scan(&taken); err != nil {
		return fmt.Errorf("postgres: create link %q: %w", l.ID, err)
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
	l, err := scanLink(t.q.QueryRow(ctx, `SELECT `+linkColumns+` FROM links`+w.sql(), w.args...))
	if err != nil {
		return nil, scanErr(err, "link", id)
	}
	return l, nil
}

// LinkList returns one page of the links visible to scope, by id.
func (t *tx) LinkList(ctx context.Context, scope promokit.Scope, p storage.Page) ([]*promokit.Link, error) {
	var w where
	scopeLinks(&w, scope)
	w.add("id > ?", p.After)
	return queryList(ctx, t.q, "links", `SELECT `+linkColumns+` FROM links`+w.sql()+` ORDER BY id LIMIT `+w.arg(p.Size()),
		w.args, scanLink)
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
		hosts           []string
		mID, mStore     *string
		mURL            *string
		joined          *time.Time
		requested, exit *time.Time
	)
	err := t.q.QueryRow(ctx, `SELECT l.id, l.token, l.partner_id, l.store_id, l.product_id, l.url, l.created_at, s.redirect_hosts,
			m.id, m.store_id, m.url, m.joined_at, m.exit_requested_at, m.exits_at
		FROM links l JOIN stores s ON s.id = l.store_id
		LEFT JOIN LATERAL (
			SELECT `+membershipColumns+` FROM memberships WHERE store_id = l.store_id
			ORDER BY joined_at DESC, id DESC LIMIT 1) m ON true
		WHERE l.token = $1`, token).Scan(&l.ID, &l.Token, &l.PartnerID, &l.StoreID, &l.ProductID, &l.URL, &l.CreatedAt, &hosts,
		&mID, &mStore, &mURL, &joined, &requested, &exit)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.NotFound("link", "")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: click target: %w", err)
	}
	out := &promokit.ClickTarget{Link: &l, RedirectHosts: emptyIfNil(hosts)}
	if mID != nil {
		out.Membership = &promokit.Membership{ID: *mID, StoreID: *mStore, URL: *mURL, JoinedAt: *joined,
			ExitRequestedAt: requested, ExitsAt: exit}
	}
	return out, nil
}

func scanLink(row pgx.Row) (*promokit.Link, error) {
	var l promokit.Link
	if err := row.Scan(&l.ID, &l.Token, &l.PartnerID, &l.StoreID, &l.ProductID, &l.URL, &l.CreatedAt); err != nil {
		return nil, err
	}
	return &l, nil
}
