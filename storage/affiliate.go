package storage

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// AffiliateTx reads and writes a store's membership of the affiliate
// program and its commission rates.
type AffiliateTx interface {
	// MembershipCreate inserts a store's membership of the affiliate
	// program.
	MembershipCreate(ctx context.Context, m *promokit.Membership) error
	// MembershipGetLatest returns the store's latest membership;
	// ErrNotFound when it never joined. With lock it also locks the store's row until
	// the transaction ends (as GetStore does), which serialises joins and
	// exits of one store.
	MembershipGetLatest(ctx context.Context, storeID string, lock bool) (*promokit.Membership, error)
	// MembershipSetExit records an exit request at requestedAt taking
	// effect at exitsAt; ErrNotFound when the membership does not exist
	// or has already asked to exit.
	MembershipSetExit(ctx context.Context, id string, requestedAt, exitsAt time.Time) error
	// RateAdd inserts a rate and sets its ID.
	RateAdd(ctx context.Context, r *promokit.Rate) error
	// RateListAt returns the rates of a store in force at t for the general
	// rate and the products among productIDs: for each, the row with the
	// latest effective_at at or before t (the highest id among equal
	// times), Removed rows included; one that never had a rate is left
	// out.
	RateListAt(ctx context.Context, storeID string, t time.Time, productIDs []string) ([]*promokit.Rate, error)
	// RateList returns a store's rate history, newest first (by id):
	// the rates with an id below p.After when it is set.
	RateList(ctx context.Context, storeID string, p IDPage) ([]*promokit.Rate, error)
}
