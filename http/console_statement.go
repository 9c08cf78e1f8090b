package http

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/csv"
	"github.com/promokit/promokit/engine"
)

// The statement of the signed-in party, a partner's or a store's, on one
// page of the same shape for both: a period (from and to, dates of the
// marketplace's time zone), optionally one counterparty, the balance of
// each account before and after it with the period's movements by
// program, status and kind, the period's ledger entries a page at a time,
// and its CSV file. The pages call Period, GetStatement, ListEntries and
// ExportEntries as GET /v1/partners/{id}/statement and
// /v1/stores/{id}/statement, ledger and ledger.csv do, for the signed-in
// party: another party's entries are never in them.

// statementForm is what the period picker holds.
type statementForm struct {
	From, To, Counterparty string
}

// statementPage is the data of the statement's page.
type statementPage struct {
	Form      statementForm
	Statement *engine.Statement // nil when the form was refused
	Entries   []*promokit.LedgerEntry
	Pager     pager
	// From and To are the period's first day and the day after its
	// end, in the marketplace's time zone; CSV the file's URL.
	From, To string
	CSV      string
	// Previous and Next open the months around the period's start.
	Previous, Next string
	// Path is the page's own path, where the period picker sends its
	// form; Party the signed-in party; Hint what the counterparty's
	// input takes.
	Path, Party, Hint string
}

// With says who the other party of entry e is, seen from the page's
// party: "to par_…" for what it pays, "from marketplace" for what it is
// paid.
func (d statementPage) With(e *promokit.LedgerEntry) string {
	if e.Payer == d.Party {
		return "to " + e.Payee
	}
	return "from " + e.Payer
}

// consoleParty returns the ledger's party of the signed-in principal:
// its store for a seller, itself for a partner.
func consoleParty(r *http.Request) string {
	p := consolePrincipal(r)
	if p.Role == promokit.RoleSeller {
		return p.StoreID
	}
	return p.PartnerID
}

// statementPaths are, by kind of party, the path of its statement's page
// and the hint of its counterparty's input.
var statementPaths = map[string]struct{ path, hint string }{
	promokit.PartyPartner: {"/console/partner/statement", "Only the entries with one store (sto_…) or the marketplace; empty for all."},
	promokit.PartyStore:   {"/console/statement", "Only the entries with one partner (par_…) or the marketplace; empty for all."},
}

// consoleStatementQuery reads the statement's query of r for the
// signed-in party: the period and counterparty, checked, and the
// marketplace's time zone. A counterparty that is no party's id is an
// error of its field.
func (s *Server) consoleStatementQuery(r *http.Request) (statementForm, engine.StatementQuery, *time.Location, error) {
	q := r.URL.Query()
	f := statementForm{From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")), Counterparty: strings.TrimSpace(q.Get("counterparty"))}
	sq := engine.StatementQuery{Party: consoleParty(r), Counterparty: f.Counterparty}
	var (
		loc *time.Location
		err error
	)
	sq.From, sq.To, loc, err = s.svc.Period(r.Context(), f.From, f.To)
	if err == nil && f.Counterparty != "" && promokit.PartyKind(f.Counterparty) == "" {
		err = invalidField("counterparty", "invalid", "counterparty must be %q, a store id or a partner id", promokit.Marketplace)
	}
	return f, sq, loc, err
}

// handleConsoleStatement shows the signed-in party's statement of a
// period with a page of its entries. A counterparty that is not found is
// an error of its field, not a 404 page: the page is the party's own.
func (s *Server) handleConsoleStatement(w http.ResponseWriter, r *http.Request) {
	f, sq, loc, err := s.consoleStatementQuery(r)
	paths := statementPaths[promokit.PartyKind(sq.Party)]
	data := statementPage{Form: f, Path: paths.path, Party: sq.Party, Hint: paths.hint}
	if err == nil {
		data.Statement, err = s.svc.GetStatement(r.Context(), sq)
		if promokit.ErrorCode(err) == promokit.ENotFound && f.Counterparty != "" {
			err = invalidField("counterparty", "not_found", "%s", errorMessage(err))
		}
	}
	var p promokit.Page
	if err == nil {
		p, err = listPage(r)
	}
	if err == nil && p.After != "" {
		if _, perr := strconv.ParseInt(p.After, 10, 64); perr != nil {
			err = invalidField("after", "invalid", "after must be a cursor of a next page link")
		}
	}
	if err == nil {
		data.Entries, err = s.svc.ListEntries(r.Context(), sq, p)
	}
	if err != nil {
		data.Statement = nil
		s.failForm(w, r, err, "statement", &page{Title: "Statement", Data: data})
		return
	}
	data.Pager = pagerOf(r, data.Entries, func(v *promokit.LedgerEntry) string { return strconv.FormatInt(v.ID, 10) })
	from, to := sq.From.In(loc), sq.To.In(loc)
	data.From, data.To = from.Format(time.DateOnly), to.Format(time.DateOnly)
	month := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, loc)
	data.Previous = statementURL(paths.path, month.AddDate(0, -1, 0), month, f.Counterparty)
	data.Next = statementURL(paths.path, month.AddDate(0, 1, 0), month.AddDate(0, 2, 0), f.Counterparty)
	data.CSV = statementURL(paths.path+"/ledger.csv", from, to, f.Counterparty)
	s.render(w, r, http.StatusOK, "statement", &page{Title: "Statement", Data: data})
}

// statementURL returns the URL of path for the period [from, to) and the
// counterparty.
func statementURL(path string, from, to time.Time, counterparty string) string {
	q := url.Values{"from": {from.Format(time.DateOnly)}, "to": {to.Format(time.DateOnly)}}
	if counterparty != "" {
		q.Set("counterparty", counterparty)
	}
	return path + "?" + q.Encode()
}

// handleConsoleLedgerCSV sends the period's entries of the signed-in
// party as CSV, the file GET /v1/partners/{id}/ledger.csv and
// /v1/stores/{id}/ledger.csv send. A refused query is an error page,
// since no file was started.
func (s *Server) handleConsoleLedgerCSV(w http.ResponseWriter, r *http.Request) {
	_, sq, loc, err := s.consoleStatementQuery(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	name := promokit.PartyKind(sq.Party) + "-" + sq.Party + "-ledger-" + sq.From.In(loc).Format(time.DateOnly) + ".csv"
	out := &csvResponse{w: w, filename: safeFilename(name)}
	enc := csv.NewLedgerEncoder(out, loc)
	rows := s.newRowFlusher(w, enc.Flush)
	err = s.svc.ExportEntries(r.Context(), sq, func(e *promokit.LedgerEntry) error {
		if err := enc.Encode(e); err != nil {
			return err
		}
		return rows.wrote()
	})
	if err == nil {
		err = rows.flush()
	}
	if err != nil && !out.started {
		s.consoleFail(w, r, err)
		return
	}
	s.endExport(w, r, out, rows, err)
}
