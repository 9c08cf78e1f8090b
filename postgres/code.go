package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

const codeColumns = `code, promotion_id, store_id, active, usage_limit, per_customer_limit,
	customer_id, partner_id, expires_at, job_id, uses, created_at, updated_at`

// scanCode reads one row of codeColumns into c.
func scanCode(row pgx.Row, c *promokit.Code) error {
	return row.Scan(&c.Code, &c.PromotionID, &c.StoreID, &c.Active, &c.UsageLimit, &c.PerCustomerLimit,
		&c.CustomerID, &c.PartnerID, &c.ExpiresAt, &c.JobID, &c.Uses, &c.CreatedAt, &c.UpdatedAt)
}

// CodeCreate inserts one code; storage.ErrTaken when the value exists and
// storage.ErrNotFound when its promotion does not. As after any failed
// statement on PostgreSQL, the transaction cannot go on after such an error.
func (t *tx) CodeCreate(ctx context.Context, c *promokit.Code) error {
	_, err := t.q.Exec(ctx, `INSERT INTO codes (`+codeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		c.Code, c.PromotionID, c.StoreID, c.Active, c.UsageLimit, c.PerCustomerLimit,
		c.CustomerID, c.PartnerID, c.ExpiresAt, c.JobID, c.Uses, c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return createErr(err, "code", c.Code, "promotion", c.PromotionID)
	}
	return nil
}

// insertCodesSQL inserts the rows that unnest makes of one array per
// column, in order, skipping values that exist.
const insertCodesSQL = `INSERT INTO codes (` + codeColumns + `)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[], $6::bigint[],
		$7::text[], $8::text[], $9::timestamptz[], $10::text[], $11::bigint[], $12::timestamptz[], $13::timestamptz[])
	ON CONFLICT (code) DO NOTHING`

// CodeInsertMany inserts codes, skipping the values that exist (in the table
// or earlier in codes), and returns how many it inserted; storage.ErrNotFound
// when a code's promotion does not exist. The codes travel as one array per
// column that unnest turns back into rows, so a batch of ten thousand codes is
// one statement and one round trip.
func (t *tx) CodeInsertMany(ctx context.Context, codes []*promokit.Code) (int64, error) {
	if len(codes) == 0 {
		return 0, nil
	}
	tag, err := t.q.Exec(ctx, insertCodesSQL, codeArrays(codes)...)
	if err != nil {
		if constraintViolation(err) == foreignKeyViolation {
			return 0, notFound("promotion", codes[0].PromotionID)
		}
		return 0, fmt.Errorf("postgres: insert %d codes: %w", len(codes), err)
	}
	return tag.RowsAffected(), nil
}

// codeArrays returns the arguments of insertCodesSQL: one slice per
// column of codeColumns.
func codeArrays(codes []*promokit.Code) []any {
	n := len(codes)
	var (
		value       = make([]string, n)
		promotion   = make([]string, n)
		store       = make([]string, n)
		active      = make([]bool, n)
		usageLimit  = make([]*int64, n)
		perCustomer = make([]*int64, n)
		customer    = make([]string, n)
		partner     = make([]string, n)
		expires     = make([]*time.Time, n)
		job         = make([]string, n)
		uses        = make([]int64, n)
		created     = make([]time.Time, n)
		updated     = make([]time.Time, n)
	)
	for i, c := range codes {
		value[i], promotion[i], store[i], active[i] = c.Code, c.PromotionID, c.StoreID, c.Active
		usageLimit[i], perCustomer[i], customer[i], partner[i] = c.UsageLimit, c.PerCustomerLimit, c.CustomerID, c.PartnerID
		expires[i], job[i], uses[i], created[i], updated[i] = c.ExpiresAt, c.JobID, c.Uses, c.CreatedAt, c.UpdatedAt
	}
	return []any{value, promotion, store, active, usageLimit, perCustomer, customer, partner, expires, job, uses, created, updated}
}

// CodeGet returns the code with the value code if scope can see it: a
// store scope sees its store's codes, a partner scope the codes assigned to
// it. storage.ErrNotFound otherwise. This is the hot look-up of checkout: one
// statement, prepared once per connection, one round trip.
func (t *tx) CodeGet(ctx context.Context, scope promokit.Scope, code string) (*promokit.Code, error) {
	var c promokit.Code
	err := scanCode(t.q.QueryRow(ctx, `SELECT `+codeColumns+` FROM codes c
		WHERE c.code = $1 AND ($2 = '' OR c.store_id = $2) AND ($3 = '' OR c.partner_id = $3) AND `+liveCode,
		code, scope.StoreID, scope.PartnerID), &c)
	if err != nil {
		return nil, scanErr(err, "code", code)
	}
	return &c, nil
}

// CodeUpdate writes a code's active flag, assignment (partner and
// customer) and updated_at; storage.ErrNotFound when there is no such code.
func (t *tx) CodeUpdate(ctx context.Context, c *promokit.Code) error {
	tag, err := t.q.Exec(ctx, `
		UPDATE codes c SET active = $2, partner_id = $3, customer_id = $4, updated_at = $5
		WHERE c.code = $1 AND `+liveCode,
		c.Code, c.Active, c.PartnerID, c.CustomerID, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("postgres: update code: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("code", c.Code)
	}
	return nil
}

// codeQuery returns the query of the codes that scope can see and f
// selects, in creation order, after the code value f.After. With paged,
// a Limit of zero means the default page size; without, no limit.
func codeQuery(scope promokit.Scope, f storage.CodeFilter, paged bool) (string, []any) {
	var w where
	if scope.StoreID != "" {
		w.add("store_id = ?", scope.StoreID)
	}
	// partner_id <> '' lets a generic plan use the partial index
	// codes_partner, whose predicate it cannot prove from a parameter.
	if scope.PartnerID != "" {
		w.add("partner_id = ? AND partner_id <> ''", scope.PartnerID)
	}
	if f.PromotionID != "" {
		w.add("promotion_id = ?", f.PromotionID)
	}
	if f.PartnerID != "" {
		w.add("partner_id = ? AND partner_id <> ''", f.PartnerID)
	}
	if f.After != "" {
		w.add("c.id > (SELECT id FROM codes WHERE code = ?)", f.After)
	}
	w.add(liveCode)
	sql := `SELECT ` + codeColumns + ` FROM codes c` + w.sql() + ` ORDER BY c.id`
	if paged {
		sql += ` LIMIT ` + w.arg(f.Page.Size())
	} else if f.Limit > 0 {
		sql += ` LIMIT ` + w.arg(f.Limit)
	}
	return sql, w.args
}

// CodeList returns a page of the codes that scope can see and f selects,
// in creation order. f.After is the last code value of the previous page.
func (t *tx) CodeList(ctx context.Context, scope promokit.Scope, f storage.CodeFilter) ([]*promokit.Code, error) {
	sql, args := codeQuery(scope, f, true)
	return queryList(ctx, t.q, "codes", sql, args, func(row pgx.Row) (*promokit.Code, error) {
		c := new(promokit.Code)
		if err := scanCode(row, c); err != nil {
			return nil, err
		}
		return c, nil
	})
}

// CodeExport streams the codes that scope can see and f selects, in
// creation order, to fn, with one query whose rows are read as they
// arrive. A Limit of zero exports them all. It stops at the first error fn
// returns and returns it.
func (s *DB) CodeExport(ctx context.Context, scope promokit.Scope, f storage.CodeFilter, fn func(*promokit.Code) error) error {
	sql, args := codeQuery(scope, f, false)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("postgres: export codes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c := new(promokit.Code)
		if err := scanCode(rows, c); err != nil {
			return fmt.Errorf("postgres: export codes: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: export codes: %w", err)
	}
	return nil
}

// CodeCount counts the codes of a store or of a promotion, created at or
// after c.Since when it is set, and those of imports that have not
// committed with c.Pending.
func (t *tx) CodeCount(ctx context.Context, c storage.CodeCount) (int64, error) {
	sql, args := codeCountQuery(c, "count(*)")
	var n int64
	if err := t.q.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count codes: %w", err)
	}
	return n, nil
}

// CodeTally counts the codes that c selects, as CodeCount does, and finds
// the creation time of the oldest.
func (t *tx) CodeTally(ctx context.Context, c storage.CodeCount) (storage.CodeTally, error) {
	sql, args := codeCountQuery(c, "count(*), min(c.created_at)")
	var out storage.CodeTally
	var oldest *time.Time
	if err := t.q.QueryRow(ctx, sql, args...).Scan(&out.Count, &oldest); err != nil {
		return out, fmt.Errorf("postgres: tally codes: %w", err)
	}
	if oldest != nil {
		out.Oldest = oldest.UTC()
	}
	return out, nil
}

// storeCodes returns the FROM clause of the codes c of the store storeID
// that w selects (w's conditions on codes c, then the store's argument):
// through the store's promotions p, then each one's codes by
// codes_promotion, since codes has no index by store. The subquery is
// fenced (OFFSET 0): flattened into a join, its rows would be estimated
// from the average promotion, and a plan that walks every code of the
// marketplace chosen, when a store's promotions, under P4 above all,
// hold few of them.
func storeCodes(w *where, storeID string, cols string) string {
	w.add("c.promotion_id = p.id")
	inner := `SELECT ` + cols + ` FROM codes c` + w.sql() + ` OFFSET 0`
	return ` FROM promotions p CROSS JOIN LATERAL (` + inner + `) c WHERE p.store_id = ` + w.arg(storeID)
}

// codeCountQuery returns the query of what (aggregates of codes c) over
// the codes c selects.
func codeCountQuery(c storage.CodeCount, what string) (string, []any) {
	w := new(where)
	if c.PromotionID != "" {
		w.add("c.promotion_id = ?", c.PromotionID)
	}
	if !c.Since.IsZero() {
		w.add("c.created_at >= ?", c.Since)
	}
	if !c.Pending {
		w.add(liveCode)
	}
	if c.StoreID != "" {
		return `SELECT ` + what + storeCodes(w, c.StoreID, "c.created_at"), w.args
	}
	return `SELECT ` + what + ` FROM codes c` + w.sql(), w.args
}

// qualified returns the columns of the comma-separated list cols, each
// prefixed with table.
func qualified(table, cols string) string {
	list := strings.Split(cols, ",")
	for i, c := range list {
		list[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(list, ", ")
}

// storeCodeColumns are codeColumns of the codes c, in a query that reads
// other tables too.
var storeCodeColumns = qualified("c", codeColumns)

// codeListByStoreQuery returns the query of a page of a store's codes,
// newest first.
func codeListByStoreQuery(f storage.StoreCodeFilter) (string, []any) {
	w := new(where)
	if f.After != "" {
		w.add("c.id < (SELECT id FROM codes WHERE code = ?)", f.After)
	}
	w.add(liveCode)
	return `SELECT ` + storeCodeColumns + storeCodes(w, f.StoreID, "c.id, "+storeCodeColumns) + ` ORDER BY c.id DESC LIMIT ` + w.arg(f.Page.Size()), w.args
}

// CodeListByStore returns a page of a store's codes, newest first, through
// its promotions (storeCodes).
func (t *tx) CodeListByStore(ctx context.Context, f storage.StoreCodeFilter) ([]*promokit.Code, error) {
	sql, args := codeListByStoreQuery(f)
	return queryList(ctx, t.q, "codes", sql, args, func(row pgx.Row) (*promokit.Code, error) {
		c := new(promokit.Code)
		if err := scanCode(row, c); err != nil {
			return nil, err
		}
		return c, nil
	})
}

// CodeExistingMany returns, in the order given and once each, the values among
// codes that exist.
func (t *tx) CodeExistingMany(ctx context.Context, codes []string) ([]string, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	return queryList(ctx, t.q, "existing codes", `
		SELECT x.code FROM unnest($1::text[]) WITH ORDINALITY AS x (code, n)
		WHERE EXISTS (SELECT 1 FROM codes c WHERE c.code = x.code AND `+liveCode+`)
		GROUP BY x.code ORDER BY min(x.n)`,
		[]any{codes}, scanString)
}

// CodeGetMany returns the codes among values that scope can see, in no
// particular order; values that are missing or foreign are left out. One
// query serves a whole batch of look-ups.
func (t *tx) CodeGetMany(ctx context.Context, scope promokit.Scope, values []string) ([]*promokit.Code, error) {
	return queryList(ctx, t.byKey(), "codes", `SELECT `+codeColumns+` FROM codes c
		WHERE c.code = ANY($1) AND ($2 = '' OR c.store_id = $2) AND ($3 = '' OR c.partner_id = $3) AND `+liveCode,
		[]any{values, scope.StoreID, scope.PartnerID}, func(row pgx.Row) (*promokit.Code, error) {
			c := new(promokit.Code)
			return c, scanCode(row, c)
		})
}

// CodeInsertValuesMany inserts generated values as codes that share every
// other field with tmpl, skipping values that exist, and returns how many
// it inserted. Only the values travel as an array, so a batch of 50,000
// costs one small message rather than one array per column.
func (t *tx) CodeInsertValuesMany(ctx context.Context, tmpl *promokit.Code, values []string) (int64, error) {
	if len(values) == 0 {
		return 0, nil
	}
	tag, err := t.q.Exec(ctx, `
		INSERT INTO codes (code, promotion_id, store_id, active, job_id, created_at, updated_at)
		SELECT v, $2, $3, $4, $5, $6, $6 FROM unnest($1::text[]) AS v
		ON CONFLICT (code) DO NOTHING`,
		values, tmpl.PromotionID, tmpl.StoreID, tmpl.Active, tmpl.JobID, tmpl.CreatedAt)
	if err != nil {
		return 0, fmt.Errorf("postgres: insert %d generated codes: %w", len(values), err)
	}
	return tag.RowsAffected(), nil
}

// customerCodesSQL selects the live codes of a store restricted to a
// customer. It repeats the predicate of the partial index codes_customer
// (a non-empty customer_id), which a generic plan cannot prove from a
// parameter; the promotion's window is checked on its primary key.
const customerCodesSQL = `SELECT ` + codeColumns + ` FROM codes c
	WHERE c.customer_id = $1 AND c.customer_id <> '' AND c.store_id = $2 AND c.active
	AND (c.expires_at IS NULL OR c.expires_at > $3) AND ` + liveCode + `
	AND EXISTS (SELECT 1 FROM promotions p WHERE p.id = c.promotion_id AND p.active AND p.starts_at <= $3
		AND (p.ends_at IS NULL OR p.ends_at > $3) AND (p.ended_at IS NULL OR p.ended_at > $3))
	ORDER BY c.id LIMIT $4`

// CodeListForCustomer returns up to limit live codes of a store restricted to a
// customer, in creation order.
func (t *tx) CodeListForCustomer(ctx context.Context, p storage.CustomerCodesQuery) ([]*promokit.Code, error) {
	storeID, customerID, now, limit := p.StoreID, p.CustomerID, p.Now, p.Limit
	if customerID == "" {
		return nil, nil
	}
	return queryList(ctx, t.q, "customer codes", customerCodesSQL, []any{customerID, storeID, now, limit}, func(row pgx.Row) (*promokit.Code, error) {
		c := new(promokit.Code)
		if err := scanCode(row, c); err != nil {
			return nil, err
		}
		return c, nil
	})
}
