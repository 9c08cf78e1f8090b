package storage

import (
	"context"

	"github.com/promokit/promokit"
)

// LinkTx reads and writes affiliate links and their click statistics.
type LinkTx interface {
	// LinkCreate inserts a link; ErrTaken when the token exists,
	// ErrExists when the id does, ErrNotFound (naming the store) when
	// its store or partner does not.
	LinkCreate(ctx context.Context, l *promokit.Link) error
	// LinkGet returns a link visible to scope (its store's, its
	// partner's); ErrNotFound otherwise.
	LinkGet(ctx context.Context, scope promokit.Scope, id string) (*promokit.Link, error)
	// LinkList lists the links visible to scope, by id.
	LinkList(ctx context.Context, scope promokit.Scope, p Page) ([]*promokit.Link, error)
	// LinkGetTarget returns the link of a token and its store's latest
	// membership in one query; ErrNotFound when no link has the token.
	LinkGetTarget(ctx context.Context, token string) (*promokit.ClickTarget, error)
	// LinkStatGetMany returns the clicks of each link among linkIDs: all and
	// flagged.
	LinkStatGetMany(ctx context.Context, linkIDs []string) (map[string]LinkStat, error)
}

// LinkStat counts a link's clicks.
type LinkStat struct {
	Clicks  int64 `json:"clicks"`
	Flagged int64 `json:"flagged"`
}
