package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Payouts: a payer records money it paid a payee outside the engine, which
// moves that much of the pair's payable balance to paid; the payee
// confirms receipt or disputes it. Who may do what:
//
//	               record         read   confirm, dispute   upload proof
//	admin          any payer      any    marketplace payee  any
//	seller         its store      own    its store payee    its store payer
//	partner        never          own    its own payouts    never
//
// "Own" is a payout whose payer or payee is the caller's store or
// partner; any other payout is ENotFound to it, exactly as a missing one.
// Checkout and storefront keys make none of these calls (EForbidden).

// PayoutInput records a payout. A seller may leave Payer out: it is its
// store.
type PayoutInput struct {
	Payer     string `json:"payer"`
	Payee     string `json:"payee"`
	Currency  string `json:"currency"`
	Amount    int64  `json:"amount"`
	PaidOn    string `json:"paid_on"`
	Reference string `json:"reference"`
}

// DisputeInput is a payee's dispute of a payout: why.
type DisputeInput struct {
	Message string `json:"message"`
}

// PayoutQuery selects payouts: those Party pays or is paid, only those
// with Counterparty when it is set. The admin may leave Party out (every
// payout); a seller's or a partner's Party is its own.
type PayoutQuery struct {
	Party        string
	Counterparty string
}

// ownParty returns the party a principal acts as: its store for a
// seller, its partner for a partner, "" for the admin (any party).
func ownParty(p promokit.Principal) string {
	switch p.Role {
	case promokit.RoleSeller:
		return p.StoreID
	case promokit.RolePartner:
		return p.PartnerID
	}
	return ""
}

// isParty reports whether p acts as party: the admin as the marketplace,
// a seller as its store, a partner as itself.
func isParty(p promokit.Principal, party string) bool {
	if p.Role == promokit.RoleAdmin {
		return party == promokit.Marketplace
	}
	return party != "" && ownParty(p) == party
}

// RecordPayout records a payout from in.Payer to in.Payee and writes its
// two ledger entries (promokit.PayoutEntries) in the same transaction.
// The admin records for any payer; a seller for its own store (another
// store is ENotFound, the marketplace EForbidden); a partner never pays
// (EForbidden). A missing payee is ENotFound; invalid fields are EInvalid.
//
// The amount may not exceed the pair's payable balance in the currency
// (all entries of the pair with status payable, over all time) at the time
// it is recorded, concurrent payouts included: the transaction first locks
// the pair (storage.PayoutTx.PayoutLock), then sums (PayoutPayable). Above it the payout is
// EPayoutExceeds with Limit the payable balance and Current the amount, and
// nothing is written. A negative balance (a refund after a payout) refuses
// every payout until earnings make it positive again.
//
// The payout's times are in the marketplace's time zone, as every answer
// of the payouts' calls gives them.
func (s *Service) RecordPayout(ctx context.Context, in PayoutInput) (*promokit.Payout, error) {
	return s.recordPayout(ctx, in, nil, false)
}

// RecordPayoutWithProof is RecordPayout with the payout's proof file,
// stored in the same transaction: the file is checked as
// AttachPayoutProof checks it (EUnsupportedMedia for a file that is no
// PDF, PNG or JPEG, EInvalid naming the field "proof" for an empty one),
// and when it is refused, or the payout is, nothing is written. Whoever
// may record the payout may prove it. Limiting the size is the caller's.
func (s *Service) RecordPayoutWithProof(ctx context.Context, in PayoutInput, proof []byte) (*promokit.Payout, error) {
	return s.recordPayout(ctx, in, proof, true)
}

// recordPayout is RecordPayout, with the proof file data when proved.
func (s *Service) recordPayout(ctx context.Context, in PayoutInput, data []byte, proved bool) (*promokit.Payout, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller)
	if err != nil {
		return nil, err
	}
	if p.Role == promokit.RoleSeller {
		switch {
		case in.Payer == "" || in.Payer == p.StoreID:
			in.Payer = p.StoreID
		case promokit.PartyKind(in.Payer) == promokit.PartyStore:
			return nil, notFound("store", in.Payer)
		case promokit.PartyKind(in.Payer) == promokit.PartyMarketplace:
			return nil, promokit.Errorf(promokit.EForbidden, "a seller records the payouts of its own store, not the marketplace's")
		}
	}
	now := s.now()
	po := &promokit.Payout{
		ID: promokit.NewID(promokit.PrefixPayout, now), Payer: in.Payer, Payee: in.Payee,
		StoreID: promokit.PayoutStore(in.Payer, in.Payee), Currency: in.Currency, Amount: in.Amount, PaidOn: in.PaidOn,
		Reference: in.Reference, State: promokit.PayoutRecorded, CreatedAt: now,
	}
	var loc *time.Location
	err = s.write(ctx, func(tx storage.Tx) error {
		settings, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		loc = settings.Location()
		if err := po.Validate(now, loc); err != nil {
			return err
		}
		var proof *promokit.PayoutProof
		if proved {
			if proof, err = newProof(data, "proof", now); err != nil {
				return err
			}
		}
		for _, id := range []string{po.Payer, po.Payee} {
			if err := partyExists(ctx, tx, id); err != nil {
				return err
			}
		}
		if err := tx.PayoutLock(ctx, po.Payer, po.Payee, po.Currency, now); err != nil {
			return err
		}
		payable, err := tx.PayoutPayable(ctx, po.Payer, po.Payee, po.Currency)
		if err != nil {
			return err
		}
		if po.Amount > payable {
			return &promokit.Error{Code: promokit.EPayoutExceeds, Limit: &payable, Current: &po.Amount,
				Message: payoutExceedsMessage(po, payable)}
		}
		if err := tx.PayoutCreate(ctx, po); err != nil {
			return err
		}
		if proof != nil {
			if err := tx.PayoutProofAdd(ctx, po.ID, proof, data); err != nil {
				return err
			}
			po.Proof = proof
		}
		return tx.LedgerAddMany(ctx, promokit.PayoutEntries(po, now))
	})
	if err != nil {
		return nil, err
	}
	return po.In(loc), nil
}

// payoutExceedsMessage says why a payout above the payable balance is
// refused.
func payoutExceedsMessage(po *promokit.Payout, payable int64) string {
	amount := promokit.Money{Minor: po.Amount, Currency: po.Currency}.Format()
	bal := promokit.Money{Minor: payable, Currency: po.Currency}.Format()
	if payable <= 0 {
		return "nothing is payable from " + po.Payer + " to " + po.Payee + " in " + po.Currency +
			" (the payable balance is " + bal + "): a payout of " + amount + " would pay what is not owed"
	}
	return "a payout of " + amount + " exceeds the payable balance of " + bal + " from " + po.Payer + " to " + po.Payee
}

// partyExists reports ENotFound for a store or partner id that names no
// store or partner; the marketplace always exists.
func partyExists(ctx context.Context, tx storage.Tx, id string) error {
	var err error
	switch promokit.PartyKind(id) {
	case promokit.PartyStore:
		_, err = tx.StoreGet(ctx, id, false)
	case promokit.PartyPartner:
		_, err = tx.PartnerGet(ctx, id)
	}
	return err
}

// GetPayout returns a payout to its payer, its payee and the admin; it is
// ENotFound to anyone else.
func (s *Service) GetPayout(ctx context.Context, id string) (*promokit.Payout, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RolePartner)
	if err != nil {
		return nil, err
	}
	var out *promokit.Payout
	err = s.read(ctx, func(tx storage.Tx) error {
		loc, err := marketplaceZone(ctx, tx)
		if err != nil {
			return err
		}
		if out, err = tx.PayoutGet(ctx, ownParty(p), id); err != nil {
			return err
		}
		out.In(loc)
		return nil
	})
	return out, err
}

// marketplaceZone returns the marketplace's time zone, in which the
// payouts' calls answer their times, as statements do.
func marketplaceZone(ctx context.Context, tx storage.Tx) (*time.Location, error) {
	settings, err := tx.SettingsGet(ctx)
	if err != nil {
		return nil, err
	}
	return settings.Location(), nil
}

// ListPayouts lists the payouts q selects, by id. A seller or a partner
// sees only its own: its Party is its store or itself (a query naming
// another party and not it as the counterparty is ENotFound); the admin
// sees every payout when Party is empty.
func (s *Service) ListPayouts(ctx context.Context, q PayoutQuery, page storage.Page) ([]*promokit.Payout, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RolePartner)
	if err != nil {
		return nil, err
	}
	if own := ownParty(p); own != "" {
		switch {
		case q.Party == "" || q.Party == own:
			q.Party = own
		case q.Counterparty == own:
			q.Party, q.Counterparty = own, q.Party
		default:
			return nil, partyNotFound(q.Party)
		}
	}
	var v promokit.Validation
	if q.Party != "" && promokit.PartyKind(q.Party) == "" {
		v.Add("party", "invalid", "party must be %q, a store id or a partner id", promokit.Marketplace)
	}
	if q.Counterparty != "" {
		switch {
		case promokit.PartyKind(q.Counterparty) == "":
			v.Add("counterparty", "invalid", "counterparty must be %q, a store id or a partner id", promokit.Marketplace)
		case q.Party == "":
			v.Add("counterparty", "invalid", "counterparty needs party")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	page.Bound()
	var out []*promokit.Payout
	err = s.read(ctx, func(tx storage.Tx) error {
		loc, err := marketplaceZone(ctx, tx)
		if err != nil {
			return err
		}
		if out, err = tx.PayoutList(ctx, storage.PayoutFilter{Party: q.Party, Counterparty: q.Counterparty}, page); err != nil {
			return err
		}
		for _, po := range out {
			po.In(loc)
		}
		return nil
	})
	return out, err
}

// ConfirmPayout records that the payee received the payout: only the
// payee may (the partner's key, the store's seller, the admin for the
// marketplace); the payer and the admin of another payee's payout are
// EForbidden, anyone else ENotFound. A recorded or disputed payout may be
// confirmed; a confirmed one is EConflict.
func (s *Service) ConfirmPayout(ctx context.Context, id string) (*promokit.Payout, error) {
	return s.answerPayout(ctx, id, func(po *promokit.Payout, now time.Time) error { return po.Confirm(now) })
}

// DisputePayout records that the payee disputes the payout, with its
// message (1 to 2,000 characters, else EInvalid). Who may is as for
// ConfirmPayout; only a recorded payout may be disputed (EConflict
// otherwise).
func (s *Service) DisputePayout(ctx context.Context, id string, in DisputeInput) (*promokit.Payout, error) {
	return s.answerPayout(ctx, id, func(po *promokit.Payout, now time.Time) error { return po.Dispute(in.Message, now) })
}

// answerPayout reads the payout, checks that the caller is its payee and
// stores the answer that fn makes.
func (s *Service) answerPayout(ctx context.Context, id string, fn func(*promokit.Payout, time.Time) error) (*promokit.Payout, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RolePartner)
	if err != nil {
		return nil, err
	}
	var out *promokit.Payout
	err = s.write(ctx, func(tx storage.Tx) error {
		po, err := tx.PayoutGet(ctx, ownParty(p), id)
		if err != nil {
			return err
		}
		if !isParty(p, po.Payee) {
			return promokit.Errorf(promokit.EForbidden, "only the payee of payout %q, %s, confirms or disputes it", po.ID, po.Payee)
		}
		from := po.State
		if err := fn(po, s.now()); err != nil {
			return err
		}
		if err := tx.PayoutAnswer(ctx, po, from); err != nil {
			if errors.Is(err, storage.ErrStale) {
				return promokit.Errorf(promokit.EConflict, "payout %q was answered meanwhile", po.ID)
			}
			return err
		}
		loc, err := marketplaceZone(ctx, tx)
		if err != nil {
			return err
		}
		out = po.In(loc)
		return nil
	})
	return out, err
}

// AttachPayoutProof stores the proof file of a payout, data, whose type
// its first bytes decide (promokit.ProofType: PDF, PNG or JPEG; anything
// else is EUnsupportedMedia; an empty file EInvalid). Only the payer's
// side uploads: the seller of a store payer, or the admin (EForbidden for
// a payee or a partner); once (EConflict when the payout has a proof).
// Limiting the size is the caller's: the API reads at most its limit.
func (s *Service) AttachPayoutProof(ctx context.Context, id string, data []byte) (*promokit.Payout, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RolePartner)
	if err != nil {
		return nil, err
	}
	var out *promokit.Payout
	err = s.write(ctx, func(tx storage.Tx) error {
		po, err := tx.PayoutGet(ctx, ownParty(p), id)
		if err != nil {
			return err
		}
		if p.Role != promokit.RoleAdmin && !isParty(p, po.Payer) {
			return promokit.Errorf(promokit.EForbidden, "only the payer of payout %q, %s, or the admin uploads its proof", po.ID, po.Payer)
		}
		if po.Proof != nil {
			return promokit.Errorf(promokit.EConflict, "payout %q has a proof already: a proof is never replaced", po.ID)
		}
		proof, err := newProof(data, "body", s.now())
		if err != nil {
			return err
		}
		if err := tx.PayoutProofAdd(ctx, po.ID, proof, data); err != nil {
			if errors.Is(err, storage.ErrExists) {
				return promokit.Errorf(promokit.EConflict, "payout %q has a proof already: a proof is never replaced", po.ID)
			}
			return err
		}
		po.Proof = proof
		loc, err := marketplaceZone(ctx, tx)
		if err != nil {
			return err
		}
		out = po.In(loc)
		return nil
	})
	return out, err
}

// newProof describes the proof file data uploaded at now: EInvalid naming
// field when it is empty, EUnsupportedMedia when its bytes are no PDF, PNG
// or JPEG (promokit.ProofType).
func newProof(data []byte, field string, now time.Time) (*promokit.PayoutProof, error) {
	if len(data) == 0 {
		var v promokit.Validation
		v.Add(field, "required", "the proof file is empty: it must be a PDF, PNG or JPEG file")
		return nil, v.Err()
	}
	typ := promokit.ProofType(data)
	if typ == "" {
		return nil, promokit.Errorf(promokit.EUnsupportedMedia, "a proof must be a PDF, PNG or JPEG file: its bytes are none of them")
	}
	sum := sha256.Sum256(data)
	return &promokit.PayoutProof{Type: typ, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), UploadedAt: now}, nil
}

// PayoutProof returns a payout's proof file and its description, to its
// payer, its payee and the admin (ENotFound to anyone else, and when the
// payout has no proof).
func (s *Service) PayoutProof(ctx context.Context, id string) (*promokit.PayoutProof, []byte, error) {
	p, err := require(ctx, promokit.RoleAdmin, promokit.RoleSeller, promokit.RolePartner)
	if err != nil {
		return nil, nil, err
	}
	var (
		proof *promokit.PayoutProof
		data  []byte
	)
	err = s.read(ctx, func(tx storage.Tx) error {
		po, err := tx.PayoutGet(ctx, ownParty(p), id)
		if err != nil {
			return err
		}
		proof, data, err = tx.PayoutProofGet(ctx, po.ID)
		if errors.Is(err, storage.ErrNotFound) {
			return promokit.Errorf(promokit.ENotFound, "payout %q has no proof", po.ID)
		}
		if err != nil {
			return err
		}
		loc, err := marketplaceZone(ctx, tx)
		if err != nil {
			return err
		}
		proof.UploadedAt = proof.UploadedAt.In(loc)
		return nil
	})
	return proof, data, err
}
