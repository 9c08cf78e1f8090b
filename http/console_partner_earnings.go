package http

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// The partner's earnings: what it holds by status (pending, payable,
// paid), what it earned by program, and a chart of its earnings per
// month, over the last earningsMonths calendar months of the
// marketplace's time zone. The page reads them from GetStatement, one
// statement for the whole span and one per month for the chart, so its
// work is bounded whatever the ledger's size.

// earningsMonths is how many months the earnings page covers, this one
// included.
const earningsMonths = 12

// earningsPage is the data of the earnings page.
type earningsPage struct {
	TimeZone   string
	From, To   string // the span's first day and the day after it
	Currencies []currencyEarnings
}

// currencyEarnings are the earnings in one currency.
type currencyEarnings struct {
	Currency string
	// Balance is what the partner holds at the span's end, by status,
	// summed over its accounts.
	Balance engine.Balance
	// Programs are what each program earned in the span, net of
	// reversals and adjustments, by program.
	Programs []programEarnings
	Chart    Chart
}

// programEarnings is what one program earned.
type programEarnings struct {
	Program string
	Amount  int64
}

// earned adds up what account movements earned, by program: the sum of
// every movement of a program is its accruals net of adjustments and
// reversals, since a release or a payout moves an amount between
// statuses in a pair of entries that adds up to nothing.
func earned(accounts []engine.Account) map[string]int64 {
	out := map[string]int64{}
	for _, a := range accounts {
		for _, m := range a.Movements {
			if m.Program != "" {
				out[m.Program] += m.Amount
			}
		}
	}
	return out
}

// handleConsolePartnerEarnings shows the partner's earnings.
func (s *Server) handleConsolePartnerEarnings(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	party := consolePrincipal(r).PartnerID
	start, _, loc, err := s.svc.Period(ctx, "", "")
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	cur := start.In(loc)
	months := make([]time.Time, earningsMonths+1)
	for i := range months {
		months[i] = time.Date(cur.Year(), cur.Month()-earningsMonths+1+time.Month(i), 1, 0, 0, 0, 0, loc)
	}
	all, err := s.svc.GetStatement(ctx, engine.StatementQuery{Party: party, From: months[0], To: months[earningsMonths]})
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	data := earningsPage{TimeZone: all.TimeZone, From: months[0].Format(time.DateOnly), To: months[earningsMonths].Format(time.DateOnly)}
	charts := map[string]*Chart{}
	for _, c := range all.Currencies {
		ce := currencyEarnings{Currency: c.Currency}
		for _, a := range c.Accounts {
			ce.Balance.Pending += a.Closing.Pending
			ce.Balance.Payable += a.Closing.Payable
			ce.Balance.Paid += a.Closing.Paid
		}
		for p, amount := range earned(c.Accounts) {
			ce.Programs = append(ce.Programs, programEarnings{Program: p, Amount: amount})
		}
		slices.SortFunc(ce.Programs, func(a, b programEarnings) int { return strings.Compare(a.Program, b.Program) })
		currency := c.Currency
		ce.Chart = Chart{Title: "Earnings per month in " + currency, Unit: "earned", Line: true,
			Labels: make([]string, earningsMonths), Values: make([]int64, earningsMonths),
			Format: func(v int64) string { return promokit.Money{Minor: v, Currency: currency}.Format() }}
		for i := range earningsMonths {
			ce.Chart.Labels[i] = months[i].Format("2006-01")
		}
		data.Currencies = append(data.Currencies, ce)
		charts[currency] = &data.Currencies[len(data.Currencies)-1].Chart
	}
	if len(charts) > 0 {
		for i := range earningsMonths {
			st, err := s.svc.GetStatement(ctx, engine.StatementQuery{Party: party, From: months[i], To: months[i+1]})
			if err != nil {
				s.consoleFail(w, r, err)
				return
			}
			for _, c := range st.Currencies {
				if ch := charts[c.Currency]; ch != nil {
					for _, amount := range earned(c.Accounts) {
						ch.Values[i] += amount
					}
				}
			}
		}
	}
	s.render(w, r, http.StatusOK, "partner_earnings", &page{Title: "Earnings", Data: data})
}
