package http

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// Chart is a small bar or line chart of one series (a bar chart may stack
// a second), drawn as inline SVG on the server: no script, no library, a
// few kilobytes. Pages draw uses
// per day, clicks per day or earnings per month with it. The SVG names
// itself (Title) and describes its figures (a <title> per bar or point),
// and scales to its container; its colours come from the stylesheet
// (.chart classes), so that it follows the page's theme.
type Chart struct {
	// Title is the chart's accessible name; Unit what the values count,
	// shown in each point's description ("redeems").
	Title string
	Unit  string
	// Labels name the points, in order (days, months); Values are their
	// values, one per label.
	Labels []string
	Values []int64
	// Line draws a line through the points instead of bars.
	Line bool
	// Stack, on a bar chart, is a second series drawn on top of each bar
	// in another colour (class "bar stack"), one per label, such as the
	// flagged clicks on the counted ones; StackUnit is what it counts.
	// The page names both series beside the chart (a legend).
	Stack     []int64
	StackUnit string
	// Format writes a value for the descriptions; nil writes the integer.
	// Axis writes one for the labels of the y axis, which have less room;
	// nil writes it compactly (compactNumber).
	Format func(int64) string
	Axis   func(int64) string
}

// The chart's geometry, in SVG user units: the view box, and the plot's
// margins for the axis labels.
const (
	chartW, chartH              = 640, 220
	plotLeft, plotRight         = 64, 8
	plotTop, plotBottom         = 10, 28
	plotW                       = chartW - plotLeft - plotRight
	plotH                       = chartH - plotTop - plotBottom
	chartTicks                  = 4 // grid lines above the zero line
	maxXLabels                  = 8 // labels under the x axis at most
	chartPointR         float64 = 3
)

// SVG returns the chart as an <svg> element, escaped and safe to put in a
// page.
func (c Chart) SVG() template.HTML {
	format, axis := c.Format, c.Axis
	if format == nil {
		format = func(v int64) string { return strconv.FormatInt(v, 10) }
	}
	if axis == nil {
		axis = compactNumber
	}
	n := min(len(c.Labels), len(c.Values))
	stack := func(i int) int64 { return 0 }
	if !c.Line && c.Stack != nil {
		n = min(n, len(c.Stack))
		stack = func(i int) int64 { return max(c.Stack[i], 0) }
	}
	var most int64
	for i := range n {
		most = max(most, c.Values[i]+stack(i))
	}
	top := niceCeil(most)
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet">`, chartW, chartH, esc(c.Title))
	// The grid and the y axis's labels.
	for i := 0; i <= chartTicks; i++ {
		v := top * int64(i) / chartTicks
		y := plotTop + plotH - float64(plotH)*float64(i)/chartTicks
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, plotLeft, y, chartW-plotRight, y)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, plotLeft-6, y+4, esc(axis(v)))
	}
	if n == 0 {
		b.WriteString(`<text class="axis" x="320" y="110" text-anchor="middle">No data</text></svg>`)
		return template.HTML(b.String())
	}
	slot := float64(plotW) / float64(n)
	y := func(v int64) float64 {
		if top == 0 {
			return plotTop + plotH
		}
		return plotTop + plotH - float64(plotH)*float64(max(v, 0))/float64(top)
	}
	if c.Line {
		b.WriteString(`<polyline class="line" points="`)
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", plotLeft+slot*(float64(i)+0.5), y(c.Values[i]))
		}
		b.WriteString(`"/>`)
	}
	for i := range n {
		desc := esc(c.Labels[i] + ": " + format(c.Values[i]) + " " + c.Unit)
		x := plotLeft + slot*float64(i)
		if c.Line {
			fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="%.0f"><title>%s</title></circle>`, x+slot/2, y(c.Values[i]), chartPointR, desc)
		} else {
			yv := y(c.Values[i])
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
				x+slot*0.15, yv, slot*0.7, plotTop+plotH-yv, desc)
			if s := stack(i); s > 0 {
				ys := y(max(c.Values[i], 0) + s)
				fmt.Fprintf(&b, `<rect class="bar stack" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
					x+slot*0.15, ys, slot*0.7, yv-ys, esc(c.Labels[i]+": "+format(s)+" "+c.StackUnit))
			}
		}
	}
	// The x axis's labels: at most maxXLabels, evenly spread, the last
	// always.
	step := (n + maxXLabels - 1) / maxXLabels
	for i := range n {
		if (n-1-i)%step != 0 {
			continue
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, plotLeft+slot*(float64(i)+0.5), chartH-8, esc(c.Labels[i]))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// compactNumber writes n in at most about six characters: 950, 12.5k,
// 3M, 1.2G.
func compactNumber(n int64) string {
	neg := ""
	if n < 0 {
		neg, n = "-", -n
	}
	for _, u := range []struct {
		div    int64
		suffix string
	}{{1_000_000_000, "G"}, {1_000_000, "M"}, {1_000, "k"}} {
		if n >= u.div {
			whole, tenth := n/u.div, n%u.div*10/u.div
			if tenth == 0 || whole >= 100 {
				return neg + strconv.FormatInt(whole, 10) + u.suffix
			}
			return neg + strconv.FormatInt(whole, 10) + "." + strconv.FormatInt(tenth, 10) + u.suffix
		}
	}
	return neg + strconv.FormatInt(n, 10)
}

// CompactMoney returns an Axis function for amounts of minor units of
// currency: the amount with its decimals while it is small (12.50), whole
// units written compactly beyond (1.2k).
func CompactMoney(currency string) func(int64) string {
	digits := promokit.CurrencyDigits(currency)
	p := int64(1)
	for range digits {
		p *= 10
	}
	var f func(v int64) string
	f = func(v int64) string {
		switch {
		case v < 0:
			return "-" + f(-v)
		case v/p >= 1000:
			return compactNumber(v / p)
		case v%p == 0:
			return strconv.FormatInt(v/p, 10)
		}
		return fmt.Sprintf("%d.%0*d", v/p, digits, v%p)
	}
	return f
}

// niceCeil returns the smallest "nice" top of an axis of chartTicks steps
// at or above v: 1, 2, 2.5 or 5 times a power of ten per step, so that
// every grid line has a round label. An axis of nothing but zeros gets
// one unit per step.
func niceCeil(v int64) int64 {
	if v <= 0 {
		return chartTicks
	}
	step := int64(1)
	for {
		for _, m := range []int64{1, 2, 5} {
			if s := step * m; s*chartTicks >= v {
				return s * chartTicks
			}
			if m == 2 && step >= 10 {
				if s := step * 25 / 10; s*chartTicks >= v {
					return s * chartTicks
				}
			}
		}
		if step > (1<<62)/100 {
			return v
		}
		step *= 10
	}
}

// chartDays are the periods, in days, that a page of charts per day
// offers.
var chartDays = []int{7, 30, 90}

// daysParam returns the number of days a page of charts per day covers,
// from ?days: engine.DefaultStatsDays without it. One that is not a whole
// number is an error of the field days; the engine bounds the others.
func daysParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("days")
	if v == "" {
		return engine.DefaultStatsDays, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, invalidField("days", "invalid", "days must be a whole number")
	}
	return n, nil
}

// period is the choice of days a page's charts cover, as links (the
// "period" template): Path?days=N#Anchor for each of Choices, Days being
// the one shown.
type period struct {
	Path, Anchor string
	Days         int
	Choices      []int
}

// dayLabel is the label of a day under a chart's bar.
func dayLabel(day time.Time) string { return day.Format("Jan 2") }
