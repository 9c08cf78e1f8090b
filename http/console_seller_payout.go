package http

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// A seller's payouts: the list of its store's payouts, those it made and
// those made to it; what is payable between the store and each kind of
// party, or one party the seller names; and the form that records a
// payout the store made, with its proof file, in one transaction as
// POST /v1/payouts sent as a form does (RecordPayoutWithProof, or
// RecordPayout without a file). The payout's own page is shared with the
// partner's (console_payout.go).

// payoutEntry is what the form of a new payout shows and sends: the
// amount in major units, as people write it ("12.50").
type payoutEntry struct {
	Payee, Currency, Amount, PaidOn, Reference string
}

// payoutEntryFields are the inputs of the form of a new payout, besides
// its proof file.
var payoutEntryFields = []string{"payee", "currency", "amount", "paid_on", "reference"}

// payableRow is the payable balance of one account of the store: what it
// owes parties of one kind (Side payer) or is owed by them (payee), or
// with one party when the seller named it.
type payableRow struct {
	Currency, Account, Side, Counterparty string
	Payable                               int64
}

// sellerPayoutsPage is the data of the seller's payouts page.
type sellerPayoutsPage struct {
	Store   string
	Payouts []*promokit.Payout
	Pager   pager
	// Payable is the store's payable balance by currency and account;
	// Check the party named to see the balance with it alone, Checked
	// that balance (nil before it is asked for).
	Payable []payableRow
	Check   string
	Checked []payableRow
	// Form is what the form of a new payout holds; MaxProof the largest
	// proof file it takes, in bytes.
	Form     payoutEntry
	MaxProof int64
}

// With says who the other party of a payout is, seen from the store.
func (d *sellerPayoutsPage) With(po *promokit.Payout) string {
	if po.Payer == d.Store {
		return "to " + po.Payee
	}
	return "from " + po.Payer
}

// handleConsolePayoutList shows the store's payouts, a page at a time,
// its payable balances and the form of a new payout; ?counterparty names
// a party whose balance with the store is shown, and which the form then
// pays.
func (s *Server) handleConsolePayoutList(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.Settings(r.Context())
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	check := strings.TrimSpace(r.URL.Query().Get("counterparty"))
	f := payoutEntry{Payee: check, Currency: st.Currency, PaidOn: s.svc.Clock().Now().In(st.Location()).Format(time.DateOnly)}
	pg, err := s.sellerPayoutsPage(r, f)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	if check != "" {
		d := pg.Data.(*sellerPayoutsPage)
		d.Check = check
		if d.Checked, err = s.payableWith(r, check); err != nil {
			s.failForm(w, r, err, "payouts", pg)
			return
		}
	}
	s.render(w, r, http.StatusOK, "payouts", pg)
}

// sellerPayoutsPage loads the payouts page with the form f: a page of the
// store's payouts (as ?after asks) and its payable balances.
func (s *Server) sellerPayoutsPage(r *http.Request, f payoutEntry) (*page, error) {
	p, err := listPage(r)
	if err != nil {
		return nil, err
	}
	d := &sellerPayoutsPage{Store: consolePrincipal(r).StoreID, Form: f, MaxProof: s.proofLimit}
	if d.Payouts, err = s.svc.ListPayouts(r.Context(), engine.PayoutQuery{}, p); err != nil {
		return nil, err
	}
	d.Pager = pagerOf(r, d.Payouts, func(v *promokit.Payout) string { return v.ID })
	if d.Payable, err = s.payableBalances(r, ""); err != nil {
		return nil, err
	}
	return &page{Title: "Payouts", Data: d}, nil
}

// payableBalances returns the store's payable balance of each account,
// with counterparty alone when it is set. It is the closing balance of
// the current month's statement, which is that of all time: every entry
// is written at its moment, none after the month's end. With one
// counterparty it is the balance a payout to it may not exceed.
func (s *Server) payableBalances(r *http.Request, counterparty string) ([]payableRow, error) {
	from, to, _, err := s.svc.Period(r.Context(), "", "")
	if err != nil {
		return nil, err
	}
	st, err := s.svc.GetStatement(r.Context(), engine.StatementQuery{Party: consoleParty(r), Counterparty: counterparty, From: from, To: to})
	if err != nil {
		return nil, err
	}
	rows := []payableRow{}
	for _, c := range st.Currencies {
		for _, a := range c.Accounts {
			row := payableRow{Currency: c.Currency, Account: a.Account, Side: a.Side, Counterparty: a.Counterparty, Payable: a.Closing.Payable}
			if counterparty != "" {
				row.Counterparty = counterparty
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// payableWith returns the store's payable balances with party, a field
// error of counterparty when party is no party, or none the seller can
// see.
func (s *Server) payableWith(r *http.Request, party string) ([]payableRow, error) {
	if promokit.PartyKind(party) == "" {
		return nil, invalidField("counterparty", "invalid", "counterparty must be %q, a store id or a partner id", promokit.Marketplace)
	}
	rows, err := s.payableBalances(r, party)
	if promokit.ErrorCode(err) == promokit.ENotFound {
		err = invalidField("counterparty", "not_found", "%s", errorMessage(err))
	}
	return rows, err
}

// handleConsolePayoutCreate records a payout of the store from the form
// and opens its page; a refused form is shown again with each error next
// to its field, the proof file to choose again.
func (s *Server) handleConsolePayoutCreate(w http.ResponseWriter, r *http.Request) {
	f, proof, err := s.readPayoutEntry(w, r)
	var po *promokit.Payout
	if err == nil {
		var in engine.PayoutInput
		if in, err = s.payoutInput(r, f); err == nil {
			if proof != nil {
				po, err = s.svc.RecordPayoutWithProof(r.Context(), in, proof)
			} else {
				po, err = s.svc.RecordPayout(r.Context(), in)
			}
		}
	}
	if err != nil {
		pg, perr := s.sellerPayoutsPage(r, f)
		if perr != nil {
			s.consoleFail(w, r, perr)
			return
		}
		s.failForm(w, r, payoutFormError(err), "payouts", pg)
		return
	}
	redirectNotice(w, r, "/console/payouts/"+po.ID, "payout-recorded")
}

// readPayoutEntry reads the form of a new payout: multipart/form-data, as
// the page sends it, within the limits of the API's payout form (a proof
// file of at most Config.ProofLimit bytes), or a plain form without a
// file. Each field must be valid text. A file input left empty sends an
// empty file, which is no file: the proof returned is nil.
func (s *Server) readPayoutEntry(w http.ResponseWriter, r *http.Request) (payoutEntry, []byte, error) {
	value := r.PostFormValue
	var proof []byte
	if isForm(r) {
		form, err := readForm(w, r, s.proofForm())
		if err != nil {
			return payoutEntry{}, nil, err
		}
		fields := map[string]string{}
		for _, p := range form.parts {
			switch {
			case p.name == proofPart:
				if len(p.data) > 0 {
					proof = p.data
				}
			case slices.Contains(payoutEntryFields, p.name):
				if !validText(string(p.data)) {
					return payoutEntry{}, nil, invalidText(p.name)
				}
				fields[p.name] = string(p.data)
			}
		}
		value = func(name string) string { return fields[name] }
	}
	f := payoutEntry{Payee: value("payee"), Currency: value("currency"), Amount: value("amount"), PaidOn: value("paid_on"), Reference: value("reference")}
	f.Payee, f.Amount, f.PaidOn = strings.TrimSpace(f.Payee), strings.TrimSpace(f.Amount), strings.TrimSpace(f.PaidOn)
	f.Currency = strings.ToUpper(strings.TrimSpace(f.Currency))
	return f, proof, nil
}

// payoutInput returns the payout of form f, its amount read from major
// units exactly (promokit.ParseMajor) in the form's currency. An amount
// that is missing or cannot be read is an error of its field, given with
// the errors of the payout's other fields, so that the form shows them
// all at once; with a currency that is not one, the currency's error
// alone says what is wrong.
func (s *Server) payoutInput(r *http.Request, f payoutEntry) (engine.PayoutInput, error) {
	in := engine.PayoutInput{Payee: f.Payee, Currency: f.Currency, PaidOn: f.PaidOn, Reference: f.Reference}
	var perr *promokit.FieldError
	switch {
	case f.Amount == "":
		perr = &promokit.FieldError{Field: "amount", Code: "required", Message: "amount is required: the amount paid, such as 12.50"}
	case promokit.ValidCurrency(f.Currency):
		n, err := promokit.ParseMajor(f.Amount, f.Currency)
		if err == nil {
			in.Amount = n
			return in, nil
		}
		perr = &promokit.FieldError{Field: "amount", Code: "invalid", Message: err.Error()}
	}
	st, err := s.svc.Settings(r.Context())
	if err != nil {
		return in, err
	}
	po := &promokit.Payout{Payer: consoleParty(r), Payee: in.Payee, Currency: in.Currency, PaidOn: in.PaidOn, Reference: in.Reference}
	var e *promokit.Error
	if !errors.As(po.Validate(s.svc.Clock().Now(), st.Location()), &e) {
		return in, errors.New("a payout without an amount passed its validation") // Validate refuses an amount of 0
	}
	var v promokit.Validation
	for _, fe := range e.Fields {
		if fe.Field == "amount" { // the amount of po is 0: the form's own error replaces its
			if perr == nil {
				continue
			}
			fe = *perr
		}
		v.Add(fe.Field, fe.Code, "%s", fe.Message)
	}
	return in, v.Err()
}

// payoutFormError returns err, an error of recording a payout from the
// form, as the form shows it: each refusal next to the input it concerns.
// A payee that is not found is an error of its field (the form is the
// seller's own page, not a foreign object); an amount above the payable
// balance keeps its code and limit, and is shown next to the amount; a
// proof file that is too large or of another type next to the file.
func payoutFormError(err error) error {
	var e *promokit.Error
	if !errors.As(err, &e) || len(e.Fields) > 0 {
		return err
	}
	field := ""
	switch e.Code {
	case promokit.ENotFound:
		return invalidField("payee", "not_found", "%s", e.Message)
	case promokit.EPayoutExceeds:
		field = "amount"
	case promokit.ETooLarge, promokit.EUnsupportedMedia:
		field = "proof"
	default:
		return err
	}
	out := *e
	out.Fields = []promokit.FieldError{{Field: field, Code: e.Code, Message: e.Message}}
	return &out
}
