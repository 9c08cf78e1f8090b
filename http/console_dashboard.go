package http

import (
	"net/http"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// homePage is the data of a seller's or partner's overview.
type homePage struct {
	Store   *promokit.Store
	Partner *promokit.Partner
}

// handleConsoleHome is the console's home page: the admin's is the
// dashboard; a seller sees its store and a partner itself, with the pages
// of its role in the navigation.
func (s *Server) handleConsoleHome(w http.ResponseWriter, r *http.Request) {
	p := consolePrincipal(r)
	var data homePage
	var err error
	switch p.Role {
	case promokit.RoleAdmin:
		http.Redirect(w, r, "/console/dashboard", http.StatusSeeOther)
		return
	case promokit.RoleSeller:
		data.Store, err = s.svc.GetStore(r.Context(), p.StoreID)
	case promokit.RolePartner:
		data.Partner, err = s.svc.GetPartner(r.Context(), p.PartnerID)
	}
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "home", &page{Title: "Overview", Data: data})
}

// dashboardPage is the data of the dashboard.
type dashboardPage struct {
	Stats   *engine.DailyStats
	Days    int
	Choices []int
	Charts  []Chart
	Totals  engine.DayStats
}

// dashboardDays are the periods the dashboard offers, in days.
var dashboardDays = chartDays

// handleConsoleDashboard shows the marketplace's redeems, clicks, orders
// and commissions per day of its time zone (?days=7, 30 or 90; 30 by
// default), as charts and a table.
func (s *Server) handleConsoleDashboard(w http.ResponseWriter, r *http.Request) {
	days, err := daysParam(r)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	st, err := s.svc.DailyStats(r.Context(), days)
	if err != nil {
		s.consoleFail(w, r, err)
		return
	}
	data := dashboardPage{Stats: st, Days: days, Choices: dashboardDays}
	labels := make([]string, len(st.Days))
	series := make([][]int64, 4)
	for i, d := range st.Days {
		labels[i] = dayLabel(d.Day)
		series[0] = append(series[0], d.Redeems)
		series[1] = append(series[1], d.Clicks)
		series[2] = append(series[2], d.Orders)
		series[3] = append(series[3], d.Commissions)
		data.Totals.Redeems += d.Redeems
		data.Totals.Clicks += d.Clicks
		data.Totals.Orders += d.Orders
		data.Totals.Commissions += d.Commissions
	}
	currency := st.Currency
	data.Charts = []Chart{
		{Title: "Redeems per day", Unit: "redeems", Labels: labels, Values: series[0]},
		{Title: "Clicks per day", Unit: "clicks", Labels: labels, Values: series[1]},
		{Title: "Orders per day", Unit: "orders", Labels: labels, Values: series[2]},
		{Title: "Commissions per day (" + currency + ")", Unit: "accrued", Labels: labels, Values: series[3], Line: true,
			Format: func(v int64) string { return promokit.Money{Minor: v, Currency: currency}.Format() }, Axis: CompactMoney(currency)},
	}
	s.render(w, r, http.StatusOK, "dashboard", &page{Title: "Dashboard", Data: data})
}
