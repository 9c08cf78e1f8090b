package promokit

import (
	"bytes"
	"time"
	"unicode/utf8"
)

// Payouts. Money changes hands outside the engine (a bank transfer, a
// wallet); a payout is the payer's record of it: who paid whom, how much
// in which currency, on which day and under which external reference,
// with an optional proof file. Recording it moves that amount of the
// pair's payable balance to paid (two ledger entries of kind
// EntryPaidOut), and never more than the payable balance at that moment.
// The payee then confirms receipt, or disputes it with a message; a
// disputed payout may still be confirmed later, and a confirmed one is
// final.

// Payout states.
const (
	PayoutRecorded  = "recorded"  // the payer recorded it; the payee has not answered
	PayoutConfirmed = "confirmed" // the payee confirmed receipt: final
	PayoutDisputed  = "disputed"  // the payee disputes it (Message says why); it may still confirm
)

// Limits of a payout's texts, in characters.
const (
	MaxPayoutReference = 200
	MaxPayoutMessage   = 2000
)

// Payout is a payment from Payer to Payee (party ids: PartyKind) of
// Amount minor units of Currency, made on PaidOn (a date of the
// marketplace's time zone, YYYY-MM-DD). StoreID is the store among payer
// and payee, "" when neither is one. Message is the payee's, when it
// disputes. Proof describes the proof file, never its bytes.
type Payout struct {
	ID          string       `json:"id"`
	Payer       string       `json:"payer"`
	Payee       string       `json:"payee"`
	StoreID     string       `json:"store_id,omitempty"`
	Currency    string       `json:"currency"`
	Amount      int64        `json:"amount"`
	PaidOn      string       `json:"paid_on"`
	Reference   string       `json:"reference"`
	State       string       `json:"state"`
	Message     string       `json:"message,omitempty"`
	Proof       *PayoutProof `json:"proof"`
	CreatedAt   time.Time    `json:"created_at"`
	DisputedAt  *time.Time   `json:"disputed_at,omitempty"`
	ConfirmedAt *time.Time   `json:"confirmed_at,omitempty"`
}

// In sets p's times in loc, the marketplace's time zone, in which the API
// answers them (the database keeps them in UTC), and returns p. The
// instants are the same: only their offsets change.
func (p *Payout) In(loc *time.Location) *Payout {
	p.CreatedAt = p.CreatedAt.In(loc)
	p.DisputedAt = timeIn(p.DisputedAt, loc)
	p.ConfirmedAt = timeIn(p.ConfirmedAt, loc)
	if p.Proof != nil {
		p.Proof.UploadedAt = p.Proof.UploadedAt.In(loc)
	}
	return p
}

// timeIn returns a new pointer to *t in loc, nil for nil: the time t
// points to may be shared.
func timeIn(t *time.Time, loc *time.Location) *time.Time {
	if t == nil {
		return nil
	}
	in := t.In(loc)
	return &in
}

// PayoutProof describes a payout's proof file: its type (ProofTypes),
// size in bytes and SHA-256 (hex), and when it was uploaded.
type PayoutProof struct {
	Type       string    `json:"type"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	UploadedAt time.Time `json:"uploaded_at"`
}

// Proof file types, as their media types.
const (
	ProofPDF  = "application/pdf"
	ProofPNG  = "image/png"
	ProofJPEG = "image/jpeg"
)

// ProofType returns the type of a proof file decided by its first bytes
// (PDF: "%PDF-"; PNG: its 8-byte signature; JPEG: FF D8 FF), "" when it
// is none of them. A file's name and declared type count for nothing: a
// text file renamed .pdf is no PDF.
func ProofType(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return ProofPDF
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return ProofPNG
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return ProofJPEG
	}
	return ""
}

// ProofExtension returns the file name extension of a proof type.
func ProofExtension(typ string) string {
	switch typ {
	case ProofPDF:
		return ".pdf"
	case ProofPNG:
		return ".png"
	case ProofJPEG:
		return ".jpg"
	}
	return ""
}

// Validate checks a new payout's fields at now, in the marketplace's
// time zone loc: two different parties, of which the payer is the
// marketplace or a store (partners never pay), a currency, an amount
// above zero, paid_on a date not after today, a reference of 1 to 200
// printable characters. Whether the amount is payable is the engine's
// question: it needs the ledger.
func (p *Payout) Validate(now time.Time, loc *time.Location) error {
	var v Validation
	switch PartyKind(p.Payer) {
	case PartyMarketplace, PartyStore:
	case PartyPartner:
		v.Add("payer", "invalid", "a partner is never a payer: payouts are made by the marketplace or a store")
	default:
		v.Add("payer", "invalid", "payer must be %q, a store id or a partner id", Marketplace)
	}
	switch {
	case PartyKind(p.Payee) == "":
		v.Add("payee", "invalid", "payee must be %q, a store id or a partner id", Marketplace)
	case p.Payee == p.Payer:
		v.Add("payee", "invalid", "a party does not pay itself")
	}
	if !ValidCurrency(p.Currency) {
		v.Add("currency", "unknown_currency", "currency %q is not an ISO 4217 code", p.Currency)
	}
	if p.Amount <= 0 || p.Amount > MaxAmount {
		v.Add("amount", "out_of_range", "amount must be from 1 to %d minor units", int64(MaxAmount))
	}
	if d, err := time.ParseInLocation(time.DateOnly, p.PaidOn, loc); err != nil {
		v.Add("paid_on", "invalid", "paid_on must be a date such as 2026-01-31")
	} else if today := now.In(loc); d.After(today) {
		v.Add("paid_on", "in_future", "paid_on %s is after today (%s in %s)", p.PaidOn, today.Format(time.DateOnly), loc)
	}
	if n := utf8.RuneCountInString(p.Reference); n == 0 || n > MaxPayoutReference || !printable(p.Reference) || !utf8.ValidString(p.Reference) {
		v.Add("reference", "invalid", "reference must have 1 to %d printable characters", MaxPayoutReference)
	}
	return v.Err()
}

// ValidPayoutMessage reports whether m can be a dispute's message: 1 to
// MaxPayoutMessage characters of valid UTF-8 text, not only white space,
// with no control character other than tab and line breaks.
func ValidPayoutMessage(m string) bool {
	n := utf8.RuneCountInString(m)
	if n == 0 || n > MaxPayoutMessage || !utf8.ValidString(m) {
		return false
	}
	blank := true
	for _, r := range m {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == ' ':
		case r < ' ' || r >= 0x7f && r <= 0x9f:
			return false
		default:
			blank = false
		}
	}
	return !blank
}

// Confirm records the payee's confirmation at now: from recorded or
// disputed; a confirmed payout is EConflict.
func (p *Payout) Confirm(now time.Time) error {
	if p.State == PayoutConfirmed {
		return Errorf(EConflict, "payout %q is confirmed already", p.ID)
	}
	p.State, p.ConfirmedAt = PayoutConfirmed, &now
	return nil
}

// Dispute records the payee's dispute at now with its message: from
// recorded only; a disputed or confirmed payout is EConflict. The message
// must be ValidPayoutMessage (EInvalid).
func (p *Payout) Dispute(message string, now time.Time) error {
	if !ValidPayoutMessage(message) {
		var v Validation
		v.Add("message", "invalid", "message must have 1 to %d characters of text", MaxPayoutMessage)
		return v.Err()
	}
	switch p.State {
	case PayoutConfirmed:
		return Errorf(EConflict, "payout %q is confirmed: a confirmation is final", p.ID)
	case PayoutDisputed:
		return Errorf(EConflict, "payout %q is disputed already", p.ID)
	}
	p.State, p.Message, p.DisputedAt = PayoutDisputed, message, &now
	return nil
}

// PayoutEntries returns the two ledger entries of a payout recorded at
// now: the pair's payable balance down by the amount, its paid balance up
// by it, both of kind EntryPaidOut and naming the payout.
func PayoutEntries(p *Payout, now time.Time) []*LedgerEntry {
	entry := func(status string, amount int64) *LedgerEntry {
		return &LedgerEntry{Payer: p.Payer, Payee: p.Payee, StoreID: p.StoreID, Status: status, Kind: EntryPaidOut,
			Amount: amount, Currency: p.Currency, PayoutID: p.ID, CreatedAt: now}
	}
	return []*LedgerEntry{entry(LedgerPayable, -p.Amount), entry(LedgerPaid, p.Amount)}
}

// PayoutStore returns the store among payer and payee, "" when neither is
// one.
func PayoutStore(payer, payee string) string {
	if PartyKind(payer) == PartyStore {
		return payer
	}
	if PartyKind(payee) == PartyStore {
		return payee
	}
	return ""
}
