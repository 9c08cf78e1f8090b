package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// codeColumns are the columns of a code, in the order of every insert and
// select; the internal integer id is left out.
const codeColumns = `code, promotion_id, store_id, active, usage_limit, per_customer_limit, customer_id, partner_id,
	expires_at, job_id, uses, created_at, updated_at`

// codeArity is the number of codeColumns.
const codeArity = 13

// insertCodesRows is the number of rows of one CodeInsertMany statement. At
// 13 variables a row it stays far below SQLite's limit of 32766 variables;
// larger statements gained nothing measurable in BenchmarkInsertCodes.
const insertCodesRows = 500

// CodeCreate inserts one code. It returns storage.ErrTaken when the value
// exists and storage.ErrNotFound when the promotion does not.
func (t *tx) CodeCreate(ctx context.Context, c *promokit.Code) error {
	_, err := t.q.ExecContext(ctx, insertCodesSQL(1, false, false), appendCodeArgs(nil, c)...)
	if err != nil {
		switch constraintViolation(err) {
		case uniqueViolation:
			return storage.Taken("code", c.Code)
		case foreignKeyViolation:
			return notFound("promotion", c.PromotionID)
		}
		return fmt.Errorf("sqlite: create code %q: %w", c.Code, err)
	}
	return nil
}

// CodeInsertMany inserts codes in multi-row statements, skipping values that
// exist (in the database or earlier in codes), and returns how many it
// inserted. storage.ErrNotFound when a code's promotion does not exist.
//
// The codes of one call are inserted in the order of their values, not in
// the order of codes: random values would otherwise land all over the
// unique index, and sorted, a million of them cost up to a third less CPU.
// The codes of one call share their creation time, so the order among them
// means nothing.
func (t *tx) CodeInsertMany(ctx context.Context, codes []*promokit.Code) (int64, error) {
	return t.insertCodes(ctx, codes, 0)
}

// insertCodes is CodeInsertMany for the codes of the import importID, which
// no read sees until the import commits; 0 inserts codes of no import.
func (t *tx) insertCodes(ctx context.Context, codes []*promokit.Code, importID int64) (int64, error) {
	codes = slices.Clone(codes)
	slices.SortStableFunc(codes, func(a, b *promokit.Code) int { return strings.Compare(a.Code, b.Code) })
	var (
		total int64
		boxes argBoxes
		arity     = codeArity
		imp   any = importID // boxed once for every row
	)
	if importID != 0 {
		arity++
	}
	args := make([]any, 0, min(len(codes), insertCodesRows)*arity)
	for len(codes) > 0 {
		n := min(len(codes), insertCodesRows)
		args = args[:0]
		for _, c := range codes[:n] {
			args = boxes.appendCode(args, c)
			if importID != 0 {
				args = append(args, imp)
			}
		}
		var (
			res sql.Result
			err error
		)
		if n == insertCodesRows {
			res, err = t.q.ExecContext(ctx, insertCodesSQL(n, true, importID != 0), args...)
		} else {
			// The last, shorter statement of a call is not worth caching.
			res, err = t.q.ExecUncached(ctx, insertCodesSQL(n, true, importID != 0), args...)
		}
		if err != nil {
			if constraintViolation(err) == foreignKeyViolation {
				return 0, notFound("promotion", codes[0].PromotionID)
			}
			return 0, fmt.Errorf("sqlite: insert codes: %w", err)
		}
		inserted, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("sqlite: insert codes: %w", err)
		}
		total += inserted
		codes = codes[n:]
	}
	return total, nil
}

// insertCodesSQL returns an INSERT of rows codes, which skips existing
// values when skipTaken is set. With imported, each row ends with the
// code's import_id.
func insertCodesSQL(rows int, skipTaken, imported bool) string {
	var b strings.Builder
	cols, arity := codeColumns, codeArity
	if imported {
		cols, arity = cols+", import_id", arity+1
	}
	b.WriteString(`INSERT INTO codes (` + cols + `) VALUES `)
	row := "(" + strings.Repeat("?, ", arity-1) + "?)"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	if skipTaken {
		b.WriteString(` ON CONFLICT (code) DO NOTHING`)
	}
	return b.String()
}

// appendCodeArgs appends the values of c's codeColumns to args.
func appendCodeArgs(args []any, c *promokit.Code) []any {
	return append(args, c.Code, c.PromotionID, c.StoreID, boolInt(c.Active), nullInt(c.UsageLimit), nullInt(c.PerCustomerLimit),
		c.CustomerID, c.PartnerID, nullMicros(c.ExpiresAt), c.JobID, c.Uses, micros(c.CreatedAt), micros(c.UpdatedAt))
}

// argBoxes appends the values of many codes to an argument list. Putting a
// string or a large integer in an interface allocates, and the codes of a
// batch share their promotion, store, job and times, so a value equal to
// the previous code's reuses its interface: a row then costs one
// allocation, for its code value, instead of six.
type argBoxes struct {
	promotionID, storeID, customerID, partnerID, jobID string
	createdAt, updatedAt                               int64
	boxes                                              [7]any
}

// appendCode appends the values of c's codeColumns to args.
func (b *argBoxes) appendCode(args []any, c *promokit.Code) []any {
	return append(args, c.Code,
		boxString(&b.boxes[0], &b.promotionID, c.PromotionID),
		boxString(&b.boxes[1], &b.storeID, c.StoreID),
		boolInt(c.Active), nullInt(c.UsageLimit), nullInt(c.PerCustomerLimit),
		boxString(&b.boxes[2], &b.customerID, c.CustomerID),
		boxString(&b.boxes[3], &b.partnerID, c.PartnerID),
		nullMicros(c.ExpiresAt),
		boxString(&b.boxes[4], &b.jobID, c.JobID),
		c.Uses,
		boxInt(&b.boxes[5], &b.createdAt, micros(c.CreatedAt)),
		boxInt(&b.boxes[6], &b.updatedAt, micros(c.UpdatedAt)))
}

// boxString returns s in an interface, *box when it already holds s.
func boxString(box *any, last *string, s string) any {
	if *box == nil || *last != s {
		*box, *last = s, s
	}
	return *box
}

// boxInt returns n in an interface, *box when it already holds n.
func boxInt(box *any, last *int64, n int64) any {
	if *box == nil || *last != n {
		*box, *last = n, n
	}
	return *box
}

// CodeGet returns a code that scope can see: of the scope's store, or
// assigned to the scope's partner. storage.ErrNotFound otherwise.
func (t *tx) CodeGet(ctx context.Context, scope promokit.Scope, code string) (*promokit.Code, error) {
	var w where
	w.add("c.code = ?", code)
	scopeCodes(&w, scope)
	w.add(liveCode)
	c, err := scanCode(t.q.QueryRowContext(ctx, `SELECT `+codeColumns+` FROM codes c`+w.String(), w.args...))
	if err != nil {
		return nil, noRows(err, "code", code)
	}
	return c, nil
}

// CodeUpdate writes a code's active flag, partner, customer and
// updated_at; storage.ErrNotFound when there is no such code.
func (t *tx) CodeUpdate(ctx context.Context, c *promokit.Code) error {
	res, err := t.q.ExecContext(ctx, `UPDATE codes AS c SET active = ?, partner_id = ?, customer_id = ?, updated_at = ? WHERE c.code = ? AND `+liveCode,
		boolInt(c.Active), c.PartnerID, c.CustomerID, micros(c.UpdatedAt), c.Code)
	if err != nil {
		return fmt.Errorf("sqlite: update code %q: %w", c.Code, err)
	}
	return mustAffect(res, "code", c.Code)
}

// CodeList returns one page of the codes that scope can see and f
// selects, in creation order. f.After is the last code value of the
// previous page.
func (t *tx) CodeList(ctx context.Context, scope promokit.Scope, f storage.CodeFilter) ([]*promokit.Code, error) {
	w := codeWhere(scope, f)
	q := `SELECT ` + codeColumns + ` FROM codes c` + w.String() + ` ORDER BY c.id LIMIT ?`
	return queryList(ctx, t, "codes", q, append(w.args, f.Page.Size()), scanCode)
}

// CodeCount counts the codes of a store or a promotion, those created at
// or after c.Since when it is set, and those of imports that have not
// committed with c.Pending.
func (t *tx) CodeCount(ctx context.Context, c storage.CodeCount) (int64, error) {
	q, args := codeCountQuery(c, "count(*)")
	var n int64
	if err := t.q.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count codes: %w", err)
	}
	return n, nil
}

// CodeTally counts the codes that c selects, as CodeCount does, and finds
// the creation time of the oldest.
func (t *tx) CodeTally(ctx context.Context, c storage.CodeCount) (storage.CodeTally, error) {
	q, args := codeCountQuery(c, "count(*), min(c.created_at)")
	var out storage.CodeTally
	var oldest sql.NullInt64
	if err := t.q.QueryRowContext(ctx, q, args...).Scan(&out.Count, &oldest); err != nil {
		return out, fmt.Errorf("sqlite: tally codes: %w", err)
	}
	if oldest.Valid {
		out.Oldest = fromMicros(oldest.Int64)
	}
	return out, nil
}

// storeCodes is the FROM clause of the codes c of a store, whose id is a
// condition on p.store_id: through its promotions p, then each one's
// codes by codes_promotion (codes has no index by store). CROSS JOIN
// keeps that order whatever the planner would guess.
const storeCodes = ` FROM promotions p CROSS JOIN codes c`

// codeCountQuery returns the query of what (aggregates of codes c) over
// the codes c selects.
func codeCountQuery(c storage.CodeCount, what string) (string, []any) {
	var w where
	from := ` FROM codes c`
	if c.StoreID != "" {
		from = storeCodes
		w.add("p.store_id = ? AND c.promotion_id = p.id", c.StoreID)
	}
	if c.PromotionID != "" {
		w.add("c.promotion_id = ?", c.PromotionID)
	}
	if !c.Since.IsZero() {
		w.add("c.created_at >= ?", micros(c.Since))
	}
	if !c.Pending {
		w.add(liveCode)
	}
	return `SELECT ` + what + from + w.String(), w.args
}

// storeCodeColumns are codeColumns of the codes c, in a query that reads
// other tables too.
var storeCodeColumns = qualified("c", codeColumns)

// qualified returns the columns of the comma-separated list cols, each
// prefixed with table.
func qualified(table, cols string) string {
	list := strings.Split(cols, ",")
	for i, c := range list {
		list[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(list, ", ")
}

// CodeListByStore returns a page of a store's codes, newest first, through
// its promotions (storeCodes).
func (t *tx) CodeListByStore(ctx context.Context, f storage.StoreCodeFilter) ([]*promokit.Code, error) {
	q, args := codeListByStoreQuery(f)
	return queryList(ctx, t, "codes", q, args, scanCode)
}

// codeListByStoreQuery returns the query of a page of a store's codes,
// newest first.
func codeListByStoreQuery(f storage.StoreCodeFilter) (string, []any) {
	var w where
	w.add("p.store_id = ? AND c.promotion_id = p.id", f.StoreID)
	if f.After != "" {
		w.add("c.id < (SELECT id FROM codes WHERE code = ?)", f.After)
	}
	w.add(liveCode)
	return `SELECT ` + storeCodeColumns + storeCodes + w.String() + ` ORDER BY c.id DESC LIMIT ?`, append(w.args, f.Page.Size())
}

// CodeExistingMany returns the values among codes, in their order and each
// once, that exist.
func (t *tx) CodeExistingMany(ctx context.Context, codes []string) ([]string, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(codes)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode codes: %w", err)
	}
	found, err := queryList(ctx, t, "codes", `SELECT c.code FROM codes c WHERE c.code IN (SELECT value FROM json_each(?)) AND `+liveCode,
		[]any{string(list)}, scanString)
	if err != nil {
		return nil, err
	}
	return intersect(codes, found), nil
}

// CodeExport streams the codes that scope can see and f selects, in
// creation order, to fn, reading them in chunks on the read pool; it never
// waits for the writer. f.Limit, when set, caps the number of codes;
// f.After starts after a code value. fn must not keep the *promokit.Code
// it receives: the memory is reused for the next chunk.
// CodeExport stops at the first error of fn and returns it unwrapped.
func (s *DB) CodeExport(ctx context.Context, scope promokit.Scope, f storage.CodeFilter, fn func(*promokit.Code) error) error {
	// The export reads chunks of exportChunk rows by id and calls fn after
	// each chunk's query is closed: no read snapshot stays open for the
	// whole export (it would hold back WAL checkpoints), and fn may read
	// the database itself without needing a second connection.
	var (
		last  int64
		left  = f.Limit
		chunk = make([]codeRow, 0, exportChunk)
	)
	for {
		w := codeWhere(scope, f)
		if last > 0 {
			w.add("c.id > ?", last)
		}
		n := exportChunk
		if f.Limit > 0 {
			n = min(n, left)
		}
		q := `SELECT c.id, ` + codeColumns + ` FROM codes c` + w.String() + ` ORDER BY c.id LIMIT ?`
		rows, err := s.reader.QueryContext(ctx, q, append(w.args, n)...)
		if err != nil {
			return fmt.Errorf("sqlite: export codes: %w", err)
		}
		chunk = chunk[:0]
		for rows.Next() {
			chunk = append(chunk, codeRow{})
			r := &chunk[len(chunk)-1]
			if err := r.scan(idScanner{rows, &last}); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: export codes: %w", err)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("sqlite: export codes: %w", err)
		}
		for i := range chunk {
			if err := fn(&chunk[i].code); err != nil {
				return err
			}
		}
		left -= len(chunk)
		if len(chunk) < n || (f.Limit > 0 && left <= 0) {
			return nil
		}
	}
}

// exportChunk is how many rows ExportCodes reads per query.
const exportChunk = 5000

// idScanner scans a row's leading id column into id, then the rest.
type idScanner struct {
	row scanner
	id  *int64
}

func (s idScanner) Scan(dest ...any) error {
	return s.row.Scan(append([]any{s.id}, dest...)...)
}

// codeWhere returns the conditions of a code query for scope and f.
func codeWhere(scope promokit.Scope, f storage.CodeFilter) where {
	var w where
	scopeCodes(&w, scope)
	if f.PromotionID != "" {
		w.add("c.promotion_id = ?", f.PromotionID)
	}
	if f.PartnerID != "" {
		w.add("c.partner_id = ? AND c.partner_id <> ''", f.PartnerID)
	}
	if f.After != "" {
		w.add("c.id > (SELECT id FROM codes WHERE code = ?)", f.After)
	}
	w.add(liveCode)
	return w
}

// scopeCodes restricts a query on codes c to what scope can see.
func scopeCodes(w *where, scope promokit.Scope) {
	if scope.StoreID != "" {
		w.add("c.store_id = ?", scope.StoreID)
	}
	if scope.PartnerID != "" {
		// partner_id <> '' lets SQLite use the partial index codes_partner.
		w.add("c.partner_id = ? AND c.partner_id <> ''", scope.PartnerID)
	}
}

// codeRow scans codes into one reused Code: its pointer fields point into
// the codeRow, so a scan allocates nothing but the strings.
type codeRow struct {
	code                                    promokit.Code
	usageLimit, perCustomerLimit, expiresAt sql.NullInt64
	createdAt, updatedAt                    int64

	// The values the code's pointer fields point to.
	usageLimitV, perCustomerLimitV int64
	expiresAtV                     time.Time
}

// scan reads one row of codeColumns into r.code.
func (r *codeRow) scan(row scanner) error {
	c := &r.code
	if err := row.Scan(&c.Code, &c.PromotionID, &c.StoreID, &c.Active, &r.usageLimit, &r.perCustomerLimit,
		&c.CustomerID, &c.PartnerID, &r.expiresAt, &c.JobID, &c.Uses, &r.createdAt, &r.updatedAt); err != nil {
		return err
	}
	c.CreatedAt = fromMicros(r.createdAt)
	c.UpdatedAt = fromMicros(r.updatedAt)
	c.UsageLimit, c.PerCustomerLimit, c.ExpiresAt = nil, nil, nil
	if r.usageLimit.Valid {
		r.usageLimitV = r.usageLimit.Int64
		c.UsageLimit = &r.usageLimitV
	}
	if r.perCustomerLimit.Valid {
		r.perCustomerLimitV = r.perCustomerLimit.Int64
		c.PerCustomerLimit = &r.perCustomerLimitV
	}
	if r.expiresAt.Valid {
		r.expiresAtV = fromMicros(r.expiresAt.Int64)
		c.ExpiresAt = &r.expiresAtV
	}
	return nil
}

// scanCode returns a new code read from row.
func scanCode(row scanner) (*promokit.Code, error) {
	r := new(codeRow)
	if err := r.scan(row); err != nil {
		return nil, err
	}
	return &r.code, nil
}

// CodeGetMany returns the codes among values that scope can see, in no
// particular order; values that are missing or foreign are left out. One
// query serves a whole batch of look-ups.
func (t *tx) CodeGetMany(ctx context.Context, scope promokit.Scope, values []string) ([]*promokit.Code, error) {
	list, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode codes: %w", err)
	}
	var w where
	w.add("c.code IN (SELECT value FROM json_each(?))", string(list))
	scopeCodes(&w, scope)
	w.add(liveCode)
	return queryList(ctx, t, "codes", `SELECT `+codeColumns+` FROM codes c`+w.String(), w.args, scanCode)
}

// CodeInsertValuesMany inserts generated values as codes that share every
// other field with tmpl, skipping values that exist, and returns how many
// it inserted. The values travel as one JSON array: one statement and one
// bound argument for the whole batch.
func (t *tx) CodeInsertValuesMany(ctx context.Context, tmpl *promokit.Code, values []string) (int64, error) {
	if len(values) == 0 {
		return 0, nil
	}
	list, err := json.Marshal(values)
	if err != nil {
		return 0, fmt.Errorf("sqlite: encode codes: %w", err)
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO codes (code, promotion_id, store_id, active, job_id, created_at, updated_at)
		SELECT value, ?, ?, ?, ?, ?, ? FROM json_each(?) WHERE true
		ON CONFLICT (code) DO NOTHING`,
		tmpl.PromotionID, tmpl.StoreID, boolInt(tmpl.Active), tmpl.JobID, micros(tmpl.CreatedAt), micros(tmpl.CreatedAt), string(list))
	if err != nil {
		return 0, fmt.Errorf("sqlite: insert %d generated codes: %w", len(values), err)
	}
	return res.RowsAffected()
}

// customerCodesSQL selects the live codes of a store restricted to a
// customer. It repeats the predicate of the partial index codes_customer
// (a non-empty customer_id) so that SQLite can use it; the promotion's
// window is checked on its primary key.
const customerCodesSQL = `SELECT ` + codeColumns + ` FROM codes c
	WHERE c.customer_id = ? AND c.customer_id <> '' AND c.store_id = ? AND c.active = 1
	AND (c.expires_at IS NULL OR c.expires_at > ?) AND ` + liveCode + `
	AND EXISTS (SELECT 1 FROM promotions p WHERE p.id = c.promotion_id AND p.active = 1 AND p.starts_at <= ?
		AND (p.ends_at IS NULL OR p.ends_at > ?) AND (p.ended_at IS NULL OR p.ended_at > ?))
	ORDER BY c.id LIMIT ?`

// CodeListForCustomer returns up to limit live codes of a store restricted to a
// customer, in creation order.
func (t *tx) CodeListForCustomer(ctx context.Context, p storage.CustomerCodesQuery) ([]*promokit.Code, error) {
	storeID, customerID, now, limit := p.StoreID, p.CustomerID, p.Now, p.Limit
	if customerID == "" {
		return nil, nil
	}
	at := micros(now)
	return queryList(ctx, t, "customer codes", customerCodesSQL, []any{customerID, storeID, at, at, at, at, limit}, scanCode)
}
