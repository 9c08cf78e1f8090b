package storage

import (
	"context"
	"time"

	"github.com/promokit/promokit"
)

// PayoutTx records payouts, their answers and their proof files.
type PayoutTx interface {
	// PayoutLock locks the account of payouts from payer to payee in
	// currency until the transaction ends, creating its row when needed
	// (its locked_at is now),
	// so that two payouts of one pair run one after the other on every
	// database and in every process: the second reads the payable
	// balance once the first has committed its entries.
	PayoutLock(ctx context.Context, payer, payee, currency string, now time.Time) error
	// PayoutPayable returns the payable balance of the pair in currency:
	// the sum of the entries from payer to payee in currency with status
	// payable, over all time (LedgerSum's, for the one pair, status and
	// currency), read on an index of the payable entries alone (migration
	// 0015) so that a payout's check costs little while it holds the
	// pair's lock.
	PayoutPayable(ctx context.Context, payer, payee, currency string) (int64, error)
	// PayoutCreate inserts a payout (its proof is set apart:
	// PayoutProofAdd); ErrExists when its id exists.
	PayoutCreate(ctx context.Context, p *promokit.Payout) error
	// PayoutGet returns a payout with its proof's description when party
	// is its payer or payee, or party is empty; ErrNotFound otherwise.
	PayoutGet(ctx context.Context, party, id string) (*promokit.Payout, error)
	// PayoutList returns at most p.Size() payouts that f selects, by id,
	// after the id p.After.
	PayoutList(ctx context.Context, f PayoutFilter, p Page) ([]*promokit.Payout, error)
	// PayoutAnswer stores the payee's answer to a payout read in state
	// from: its State, Message, DisputedAt and ConfirmedAt. ErrStale when
	// its state is no longer from (another answer came first).
	PayoutAnswer(ctx context.Context, p *promokit.Payout, from string) error
	// PayoutProofAdd stores a payout's proof file and its description;
	// ErrExists when the payout has one.
	PayoutProofAdd(ctx context.Context, id string, proof *promokit.PayoutProof, data []byte) error
	// PayoutProofGet returns the proof file of a payout and its
	// description; ErrNotFound when it has none.
	PayoutProofGet(ctx context.Context, id string) (*promokit.PayoutProof, []byte, error)
}

// PayoutFilter selects payouts: those Party pays or is paid (every
// payout when it is empty), only those between it and Counterparty when
// that is set.
type PayoutFilter struct {
	Party        string
	Counterparty string
}
