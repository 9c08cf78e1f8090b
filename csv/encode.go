package csv

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/promokit/promokit"
)

// Columns of an export, in order. The code's own settings come first, then
// the terms of its promotion; the promotion's columns after channel are
// appended in the order they were added, so that a reader that goes by
// position keeps working when a column is added.
const (
	colCode = iota
	colPromotionID
	colPromotionName
	colStoreID
	colActive
	colUsageLimit
	colPerCustomerLimit
	colCustomerID
	colPartnerID
	colExpiresAt
	colUses
	colCreatedAt
	colType // first column of the promotion's terms
	colAmountOff
	colPercentOff
	colCurrency
	colMinOrder
	colProductIDs
	colStartsAt
	colEndsAt
	colTotalUses
	colTotalDiscount
	colPerCustomer
	colChannel
	colExclusive
	colPriority
	colCouponPerPerson
	colCouponQuantity
	colCouponValidDays
	colPromotionDescription
	numColumns
)

// header names the columns of an export; TestHeaderMatchesColumns checks
// it against the constants above.
var header = [numColumns]string{
	"code", "promotion_id", "promotion_name", "store_id", "active",
	"usage_limit", "per_customer_limit", "customer_id", "partner_id",
	"expires_at", "uses", "created_at",
	"type", "amount_off", "percent_off_bp", "currency", "min_order_amount",
	"product_ids", "starts_at", "ends_at", "total_uses", "total_discount",
	"per_customer", "channel", "exclusive", "priority",
	"coupon_per_person", "coupon_quantity", "coupon_valid_days",
	"promotion_description",
}

// CodeHeader returns the header row CodeEncoder writes: the names of its
// columns, in order.
func CodeHeader() []string {
	return append([]string(nil), header[:]...)
}

// CodeEncoder writes codes as CSV rows for an export, with a header row
// first (see CodeHeader). It is not safe for concurrent use.
//
// Each row holds every setting of a code, its use count and the terms of
// its promotion, its description last:
//
//   - Strings (code, ids, name, currency, type, channel, description) are
//     written as they are, quoted by encoding/csv when they hold a comma, a
//     quote or a line break or start with a space. encoding/csv writes a
//     line break in a cell as CRLF and drops a carriage return that is not
//     part of one. Valid names and ids hold neither; a promotion's
//     description may, and reads back with an LF for each LF or CRLF, and
//     without its lone carriage returns.
//   - Booleans are "true" or "false".
//   - Numbers are decimal integers: amounts in minor units, percent_off_bp
//     in basis points.
//   - Times are RFC 3339 in UTC, truncated to microseconds, with a
//     six-digit fraction only when it is not zero:
//     "2025-01-02T03:04:05Z", "2025-01-02T03:04:05.250000Z".
//   - A limit or a time that is not set (nil, or the zero time) is an
//     empty cell; for a limit an empty cell means "unlimited".
//   - product_ids lists the promotion's products separated by single
//     spaces, which product ids cannot contain (promokit.ValidProductID);
//     it is empty for a storewide promotion.
//   - coupon_* are empty unless the promotion is a collectable coupon.
//
// A cell that a spreadsheet could take for a formula is prefixed with a
// single quote, as the package documentation explains.
//
// Lines end in CRLF, as RFC 4180 asks. Output is buffered: call Flush when
// done, and check its error.
type CodeEncoder struct {
	w           *csv.Writer
	wroteHeader bool
	rec         []string
	buf         []byte // the cells of the current row that are not plain strings
	spans       []span // where each of them sits in buf

	promo      promoKey
	promoCells [numColumns]string // the promotion's cells, formatted once
	promoValid bool

	// The last expires_at and created_at cells: codes made by one job
	// share them, and formatting a time costs a tenth of a row.
	times [2]timeCell
}

// timeCell is a formatted time cell.
type timeCell struct {
	t      time.Time
	s      string
	stale  bool // s is to be taken from the current row
	filled bool
}

// span locates the cell of column col in CodeEncoder.buf.
type span struct{ col, start, end int }

// NewCodeEncoder returns an encoder that writes to w through a 64 KiB
// buffer.
func NewCodeEncoder(w io.Writer) *CodeEncoder {
	cw := csv.NewWriter(bufio.NewWriterSize(w, 64<<10))
	cw.UseCRLF = true
	return &CodeEncoder{
		w:     cw,
		rec:   make([]string, numColumns),
		buf:   make([]byte, 0, 256),
		spans: make([]span, 0, numColumns),
	}
}

// Encode writes the row of code c of promotion p, after the header row if
// this is the first row. p may be nil, which leaves the promotion's columns
// empty; otherwise it must be c's promotion. Encode returns the error of
// the underlying writer, which may surface only on a later call or on
// Flush because of buffering.
//
// Consecutive codes of one promotion are the common case, so the
// promotion's cells are formatted once and reused while the promotion's
// settings stay equal. The check compares every setting except the
// elements of ProductIDs, which it compares by identity (the same backing
// array and length): a caller that replaces an element of ProductIDs in
// place between two calls must pass a new slice.
func (e *CodeEncoder) Encode(c *promokit.Code, p *promokit.Promotion) error {
	if p != nil && p.ID != c.PromotionID {
		return fmt.Errorf("csv: code %q belongs to promotion %q, not %q", c.Code, c.PromotionID, p.ID)
	}
	if !e.wroteHeader {
		if err := e.writeHeader(); err != nil {
			return err
		}
	}
	e.setPromotion(p)
	copy(e.rec, e.promoCells[:])

	e.buf = e.buf[:0]
	e.spans = e.spans[:0]
	e.str(colCode, c.Code)
	e.str(colPromotionID, c.PromotionID)
	e.str(colStoreID, c.StoreID)
	e.rec[colActive] = formatBool(c.Active)
	e.optInt(colUsageLimit, c.UsageLimit)
	e.optInt(colPerCustomerLimit, c.PerCustomerLimit)
	e.str(colCustomerID, c.CustomerID)
	e.str(colPartnerID, c.PartnerID)
	e.optTime(0, colExpiresAt, c.ExpiresAt)
	e.int(colUses, c.Uses)
	if c.CreatedAt.IsZero() {
		e.rec[colCreatedAt] = ""
	} else {
		e.optTime(1, colCreatedAt, &c.CreatedAt)
	}
	// One string for every formatted cell of the row: at most one
	// allocation per row however many cells needed formatting.
	var s string
	if len(e.buf) > 0 {
		s = string(e.buf)
	}
	for _, sp := range e.spans {
		e.rec[sp.col] = s[sp.start:sp.end]
	}
	for i, col := range [2]int{colExpiresAt, colCreatedAt} {
		if tc := &e.times[i]; tc.stale {
			tc.s, tc.stale = e.rec[col], false
		}
	}
	return e.w.Write(e.rec)
}

// Flush writes the header row if no row was written, so that an empty
// export still names its columns, then writes any buffered data to the
// underlying writer and returns the first error that writing met.
func (e *CodeEncoder) Flush() error {
	if !e.wroteHeader {
		if err := e.writeHeader(); err != nil {
			return err
		}
	}
	e.w.Flush()
	return e.w.Error()
}

func (e *CodeEncoder) writeHeader() error {
	e.wroteHeader = true
	return e.w.Write(header[:])
}

// str sets a string cell, and copies it into the row buffer only when it
// needs a quote prefix.
func (e *CodeEncoder) str(col int, s string) {
	if !needsQuote(s) {
		e.rec[col] = s
		return
	}
	start := len(e.buf)
	e.buf = appendCell(e.buf, s)
	e.spans = append(e.spans, span{col, start, len(e.buf)})
}

func (e *CodeEncoder) optInt(col int, n *int64) {
	if n == nil {
		e.rec[col] = ""
		return
	}
	e.int(col, *n)
}

func (e *CodeEncoder) int(col int, n int64) {
	if n >= 0 && n < 100 {
		e.rec[col] = strconv.FormatInt(n, 10) // a constant: no allocation
		return
	}
	start := len(e.buf)
	e.buf = appendInt(e.buf, n)
	e.spans = append(e.spans, span{col, start, len(e.buf)})
}

// optTime sets the time cell col, whose last value times[i] keeps.
func (e *CodeEncoder) optTime(i, col int, t *time.Time) {
	if t == nil {
		e.rec[col] = ""
		return
	}
	tc := &e.times[i]
	if tc.filled && tc.t.Equal(*t) {
		e.rec[col] = tc.s
		return
	}
	tc.t, tc.stale, tc.filled = *t, true, true
	start := len(e.buf)
	e.buf = appendTime(e.buf, *t)
	e.spans = append(e.spans, span{col, start, len(e.buf)})
}

func formatBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// optInt64 is a nullable integer as a comparable value.
type optInt64 struct {
	v  int64
	ok bool
}

func opt(n *int64) optInt64 {
	if n == nil {
		return optInt64{}
	}
	return optInt64{*n, true}
}

// promoKey holds every setting of a promotion the encoder writes, so that
// two promotions with equal keys have equal cells. ProductIDs is held by
// identity, as Encode documents.
type promoKey struct {
	set                                 bool // false for a nil promotion
	id, name, description, currency     string
	channel                             promokit.Channel
	typ                                 promokit.DiscountType
	amountOff, minOrder, priority       int64
	percentOff                          promokit.BasisPoints
	products                            *string
	numProducts                         int
	startsAt, endsAt                    time.Time
	hasEnd                              bool
	totalUses, totalDiscount, perCustom optInt64
	exclusive                           bool
	coupon                              promokit.CouponSettings
	hasCoupon                           bool
}

func keyOf(p *promokit.Promotion) promoKey {
	if p == nil {
		return promoKey{}
	}
	k := promoKey{
		set: true, id: p.ID, name: p.Name, description: p.Description, currency: p.Currency,
		channel: p.Channel, typ: p.Type,
		amountOff: p.AmountOff, minOrder: p.MinOrder, priority: p.Priority,
		percentOff:  p.PercentOff,
		numProducts: len(p.ProductIDs),
		startsAt:    p.StartsAt,
		totalUses:   opt(p.TotalUses), totalDiscount: opt(p.TotalDiscount), perCustom: opt(p.PerCustomer),
		exclusive: p.Exclusive,
	}
	if len(p.ProductIDs) > 0 {
		k.products = &p.ProductIDs[0]
	}
	if p.EndsAt != nil {
		k.endsAt, k.hasEnd = *p.EndsAt, true
	}
	if p.Coupon != nil {
		k.coupon, k.hasCoupon = *p.Coupon, true
	}
	return k
}

// setPromotion fills promoCells for p unless they already hold its cells.
func (e *CodeEncoder) setPromotion(p *promokit.Promotion) {
	k := keyOf(p)
	if e.promoValid && k == e.promo {
		return
	}
	e.promo, e.promoValid = k, true
	e.promoCells = [numColumns]string{}
	if p == nil {
		return
	}
	var b []byte
	cell := func(col int, f func([]byte) []byte) {
		b = f(b[:0])
		e.promoCells[col] = string(b)
	}
	str := func(col int, s string) {
		cell(col, func(b []byte) []byte { return appendCell(b, s) })
	}
	num := func(col int, n int64) {
		cell(col, func(b []byte) []byte { return appendInt(b, n) })
	}
	optNum := func(col int, n *int64) {
		if n != nil {
			num(col, *n)
		}
	}
	str(colPromotionName, p.Name)
	str(colType, string(p.Type))
	num(colAmountOff, p.AmountOff)
	num(colPercentOff, int64(p.PercentOff))
	str(colCurrency, p.Currency)
	num(colMinOrder, p.MinOrder)
	str(colProductIDs, strings.Join(p.ProductIDs, " "))
	if !p.StartsAt.IsZero() {
		cell(colStartsAt, func(b []byte) []byte { return appendTime(b, p.StartsAt) })
	}
	if p.EndsAt != nil {
		cell(colEndsAt, func(b []byte) []byte { return appendTime(b, *p.EndsAt) })
	}
	optNum(colTotalUses, p.TotalUses)
	optNum(colTotalDiscount, p.TotalDiscount)
	optNum(colPerCustomer, p.PerCustomer)
	str(colChannel, string(p.Channel))
	e.promoCells[colExclusive] = formatBool(p.Exclusive)
	num(colPriority, p.Priority)
	if c := p.Coupon; c != nil {
		num(colCouponPerPerson, c.PerPerson)
		num(colCouponQuantity, c.Quantity)
		num(colCouponValidDays, c.ValidDays)
	}
	str(colPromotionDescription, p.Description)
}
