package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// This file holds payouts, their proof files and the accounts that
// serialise the payouts of a pair (migration 0015).

const payoutColumns = `p.id, p.payer, p.payee, p.store_id, p.currency, p.amount, p.paid_on, p.reference, p.state, p.message,
	p.created_at, p.disputed_at, p.confirmed_at, f.type, f.size, f.sha256, f.uploaded_at`

const payoutFrom = ` FROM payouts p LEFT JOIN payout_proofs f ON f.payout_id = p.id`

// PayoutLock upserts the pair's row of payout_accounts. SQLite's write
// transactions are serialised already (BEGIN IMMEDIATE on the one writer
// connection): the row keeps both databases alike.
func (t *tx) PayoutLock(ctx context.Context, payer, payee, currency string, now time.Time) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO payout_accounts (payer, payee, currency, locked_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (payer, payee, currency) DO UPDATE SET locked_at = excluded.locked_at`,
		payer, payee, currency, micros(now))
	if err != nil {
		return fmt.Errorf("sqlite: lock the payouts of %s to %s: %w", payer, payee, err)
	}
	return nil
}

// PayoutPayable sums the pair's payable entries on ledger_payable, the
// partial index of the payable entries (the status is written in the
// query, as the index's condition, for the planner to use it). Without
// statistics SQLite's planner prefers ledger_payer, whose prefix is the
// payer too and which covers the query, but reads every entry of the
// payer there: INDEXED BY names the index.
func (t *tx) PayoutPayable(ctx context.Context, payer, payee, currency string) (int64, error) {
	var n int64
	if err := t.q.QueryRowContext(ctx, `SELECT coalesce(sum(amount), 0) FROM ledger_entries INDEXED BY ledger_payable
		WHERE payer = ? AND payee = ? AND currency = ? AND status = '`+promokit.LedgerPayable+`'`, payer, payee, currency).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: the payable balance of %s to %s: %w", payer, payee, err)
	}
	return n, nil
}

// PayoutCreate inserts a payout.
func (t *tx) PayoutCreate(ctx context.Context, p *promokit.Payout) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO payouts (id, payer, payee, store_id, currency, amount, paid_on, reference, state,
			message, created_at, disputed_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.Payer, p.Payee, p.StoreID, p.Currency, p.Amount, p.PaidOn, p.Reference, p.State, p.Message,
		micros(p.CreatedAt), nullMicros(p.DisputedAt), nullMicros(p.ConfirmedAt))
	if err != nil {
		if constraintViolation(err) == uniqueViolation {
			return storage.Exists("payout", p.ID)
		}
		return fmt.Errorf("sqlite: create payout %q: %w", p.ID, err)
	}
	return nil
}

// PayoutGet returns a payout that party pays or is paid, any when party is
// empty.
func (t *tx) PayoutGet(ctx context.Context, party, id string) (*promokit.Payout, error) {
	var w where
	w.add("p.id = ?", id)
	if party != "" {
		cond, args := betweenCond("p.", party, "")
		w.add(cond, args...)
	}
	p, err := scanPayout(t.q.QueryRowContext(ctx, `SELECT `+payoutColumns+payoutFrom+w.String(), w.args...))
	if err != nil {
		return nil, noRows(err, "payout", id)
	}
	return p, nil
}

// PayoutList returns one page of the payouts f selects, by id.
func (t *tx) PayoutList(ctx context.Context, f storage.PayoutFilter, pg storage.Page) ([]*promokit.Payout, error) {
	var w where
	if f.Party != "" {
		cond, args := betweenCond("p.", f.Party, f.Counterparty)
		w.add(cond, args...)
	}
	w.add("p.id > ?", pg.After)
	return queryList(ctx, t, "payouts", `SELECT `+payoutColumns+payoutFrom+w.String()+` ORDER BY p.id LIMIT ?`,
		append(w.args, pg.Size()), scanPayout)
}

// PayoutAnswer stores the payee's answer when the payout is still in
// state from.
func (t *tx) PayoutAnswer(ctx context.Context, p *promokit.Payout, from string) error {
	res, err := t.q.ExecContext(ctx, `UPDATE payouts SET state = ?, message = ?, disputed_at = ?, confirmed_at = ?
		WHERE id = ? AND state = ?`, p.State, p.Message, nullMicros(p.DisputedAt), nullMicros(p.ConfirmedAt), p.ID, from)
	if err != nil {
		return fmt.Errorf("sqlite: answer payout %q: %w", p.ID, err)
	}
	return mustAffectStale(res, "payout", p.ID)
}

// PayoutProofAdd stores a payout's proof file.
func (t *tx) PayoutProofAdd(ctx context.Context, id string, proof *promokit.PayoutProof, data []byte) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO payout_proofs (payout_id, type, size, sha256, data, uploaded_at)
		VALUES (?, ?, ?, ?, ?, ?)`, id, proof.Type, proof.Size, proof.SHA256, nonNil(data), micros(proof.UploadedAt))
	switch constraintViolation(err) {
	case noViolation:
	case uniqueViolation:
		return storage.Exists("payout proof", id)
	case foreignKeyViolation:
		return notFound("payout", id)
	}
	if err != nil {
		return fmt.Errorf("sqlite: add the proof of payout %q: %w", id, err)
	}
	return nil
}

// PayoutProofGet returns a payout's proof file.
func (t *tx) PayoutProofGet(ctx context.Context, id string) (*promokit.PayoutProof, []byte, error) {
	var (
		p        promokit.PayoutProof
		data     []byte
		uploaded int64
	)
	err := t.q.QueryRowContext(ctx, `SELECT type, size, sha256, data, uploaded_at FROM payout_proofs WHERE payout_id = ?`, id).
		Scan(&p.Type, &p.Size, &p.SHA256, &data, &uploaded)
	if err != nil {
		return nil, nil, noRows(err, "payout proof", id)
	}
	p.UploadedAt = fromMicros(uploaded)
	return &p, data, nil
}

func scanPayout(row scanner) (*promokit.Payout, error) {
	var (
		p                  promokit.Payout
		created            int64
		disputed, confirmd sql.NullInt64
		typ, sum           sql.NullString
		size, uploaded     sql.NullInt64
	)
	if err := row.Scan(&p.ID, &p.Payer, &p.Payee, &p.StoreID, &p.Currency, &p.Amount, &p.PaidOn, &p.Reference, &p.State,
		&p.Message, &created, &disputed, &confirmd, &typ, &size, &sum, &uploaded); err != nil {
		return nil, err
	}
	p.CreatedAt, p.DisputedAt, p.ConfirmedAt = fromMicros(created), timePtr(disputed), timePtr(confirmd)
	if typ.Valid {
		p.Proof = &promokit.PayoutProof{Type: typ.String, Size: size.Int64, SHA256: sum.String, UploadedAt: fromMicros(uploaded.Int64)}
	}
	return &p, nil
}
