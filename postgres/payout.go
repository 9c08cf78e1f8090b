package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds payouts, their proof files and the accounts that
// serialise the payouts of a pair (migration 0015).

const payoutColumns = `p.id, p.payer, p.payee, p.store_id, p.currency, p.amount, to_char(p.paid_on, 'YYYY-MM-DD'), p.reference,
	p.state, p.message, p.created_at, p.disputed_at, p.confirmed_at, f.type, f.size, f.sha256, f.uploaded_at`

const payoutFrom = ` FROM payouts p LEFT JOIN payout_proofs f ON f.payout_id = p.id`

// PayoutLock upserts the pair's row of payout_accounts: INSERT … ON
// CONFLICT DO UPDATE locks the row until the transaction ends, so a second
// payout of the pair waits here until the first commits or rolls back.
// Write transactions run at READ COMMITTED: the statements after the lock
// see what the first committed.
func (t *tx) PayoutLock(ctx context.Context, payer, payee, currency string, now time.Time) error {
	_, err := t.q.Exec(ctx, `INSERT INTO payout_accounts (payer, payee, currency, locked_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (payer, payee, currency) DO UPDATE SET locked_at = excluded.locked_at`, payer, payee, currency, now)
	if err != nil {
		return fmt.Errorf("postgres: lock the payouts of %s to %s: %w", payer, payee, err)
	}
	return nil
}

// PayoutPayable sums the pair's payable entries on ledger_payable, the
// partial index of the payable entries (the status is written in the
// query, as the index's condition, for the planner to use it).
func (t *tx) PayoutPayable(ctx context.Context, payer, payee, currency string) (int64, error) {
	var n int64
	if err := t.q.QueryRow(ctx, `SELECT coalesce(sum(amount), 0)::bigint FROM ledger_entries
		WHERE payer = $1 AND payee = $2 AND currency = $3 AND status = '`+promokit.LedgerPayable+`'`, payer, payee, currency).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: the payable balance of %s to %s: %w", payer, payee, err)
	}
	return n, nil
}

// PayoutCreate inserts a payout.
func (t *tx) PayoutCreate(ctx context.Context, p *promokit.Payout) error {
	_, err := t.q.Exec(ctx, `INSERT INTO payouts (id, payer, payee, store_id, currency, amount, paid_on, reference, state,
			message, created_at, disputed_at, confirmed_at) VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8, $9, $10, $11, $12, $13)`,
		p.ID, p.Payer, p.Payee, p.StoreID, p.Currency, p.Amount, p.PaidOn, p.Reference, p.State, p.Message,
		p.CreatedAt, p.DisputedAt, p.ConfirmedAt)
	if err != nil {
		return createErr(err, "payout", p.ID, "", "")
	}
	return nil
}

// PayoutGet returns a payout that party pays or is paid, any when party is
// empty.
func (t *tx) PayoutGet(ctx context.Context, party, id string) (*promokit.Payout, error) {
	var w where
	w.add("p.id = ?", id)
	if party != "" {
		w.add(betweenCond("p.", w.arg(party), ""))
	}
	p, err := scanPayout(t.q.QueryRow(ctx, `SELECT `+payoutColumns+payoutFrom+w.sql(), w.args...))
	if err != nil {
		return nil, scanErr(err, "payout", id)
	}
	return p, nil
}

// PayoutList returns one page of the payouts f selects, by id.
func (t *tx) PayoutList(ctx context.Context, f storage.PayoutFilter, pg storage.Page) ([]*promokit.Payout, error) {
	var w where
	if f.Party != "" {
		counterparty := ""
		if f.Counterparty != "" {
			counterparty = w.arg(f.Counterparty)
		}
		w.add(betweenCond("p.", w.arg(f.Party), counterparty))
	}
	w.add("p.id > ?", pg.After)
	return queryList(ctx, t.q, "payouts", `SELECT `+payoutColumns+payoutFrom+w.sql()+` ORDER BY p.id LIMIT `+w.arg(pg.Size()),
		w.args, scanPayout)
}

// PayoutAnswer stores the payee's answer when the payout is still in
// state from.
func (t *tx) PayoutAnswer(ctx context.Context, p *promokit.Payout, from string) error {
	tag, err := t.q.Exec(ctx, `UPDATE payouts SET state = $1, message = $2, disputed_at = $3, confirmed_at = $4
		WHERE id = $5 AND state = $6`, p.State, p.Message, p.DisputedAt, p.ConfirmedAt, p.ID, from)
	if err != nil {
		return fmt.Errorf("postgres: answer payout %q: %w", p.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return storage.Stale("payout", p.ID)
	}
	return nil
}

// PayoutProofAdd stores a payout's proof file.
func (t *tx) PayoutProofAdd(ctx context.Context, id string, proof *promokit.PayoutProof, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	_, err := t.q.Exec(ctx, `INSERT INTO payout_proofs (payout_id, type, size, sha256, data, uploaded_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, proof.Type, proof.Size, proof.SHA256, data, proof.UploadedAt)
	if err != nil {
		if constraintViolation(err) == uniqueViolation {
			return storage.Exists("payout proof", id)
		}
		return createErr(err, "payout proof", id, "payout", id)
	}
	return nil
}

// PayoutProofGet returns a payout's proof file.
func (t *tx) PayoutProofGet(ctx context.Context, id string) (*promokit.PayoutProof, []byte, error) {
	var (
		p    promokit.PayoutProof
		data []byte
	)
	err := t.q.QueryRow(ctx, `SELECT type, size, sha256, data, uploaded_at FROM payout_proofs WHERE payout_id = $1`, id).
		Scan(&p.Type, &p.Size, &p.SHA256, &data, &p.UploadedAt)
	if err != nil {
		return nil, nil, scanErr(err, "payout proof", id)
	}
	p.UploadedAt = p.UploadedAt.UTC()
	return &p, data, nil
}

func scanPayout(row pgx.Row) (*promokit.Payout, error) {
	var (
		p        promokit.Payout
		typ, sum *string
		size     *int64
		uploaded *time.Time
	)
	if err := row.Scan(&p.ID, &p.Payer, &p.Payee, &p.StoreID, &p.Currency, &p.Amount, &p.PaidOn, &p.Reference, &p.State,
		&p.Message, &p.CreatedAt, &p.DisputedAt, &p.ConfirmedAt, &typ, &size, &sum, &uploaded); err != nil {
		return nil, err
	}
	p.CreatedAt = p.CreatedAt.UTC()
	if p.DisputedAt != nil {
		*p.DisputedAt = p.DisputedAt.UTC()
	}
	if p.ConfirmedAt != nil {
		*p.ConfirmedAt = p.ConfirmedAt.UTC()
	}
	if typ != nil {
		p.Proof = &promokit.PayoutProof{Type: *typ, Size: *size, SHA256: *sum, UploadedAt: uploaded.UTC()}
	}
	return &p, nil
}
