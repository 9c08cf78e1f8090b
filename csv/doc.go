// Package csv reads and writes promo codes as CSV files (RFC 4180) on top of
// encoding/csv, one row at a time, so that an export or an import of
// millions of codes never holds more than one row in memory (plus, for an
// import, the set of codes seen so far, which duplicate detection needs).
//
// # Export
//
// CodeEncoder writes one row per code with every setting of the code, its
// use count and the terms and description of its promotion; see
// CodeEncoder for the columns and their formats.
//
// # Import
//
// CodeDecoder reads the codes a seller uploads: a header row naming some of
// the columns code, usage_limit, per_customer_limit, customer_id,
// partner_id, active and expires_at, then one code per row. Each row comes
// back normalised and validated, or as a *RowError that names the row, the
// column and a stable error code, so that a caller can report every bad row
// of a file at once rather than the first one only. See CodeDecoder.
//
// # Formula injection
//
// A spreadsheet evaluates a cell that starts with '=', '+', '-' or '@' as a
// formula, and some evaluate one that starts with a tab or a carriage
// return too, so a code, a name or an id an attacker chose could run a
// formula on the machine of whoever opens an export. Following OWASP's
// advice on CSV injection, the encoder prefixes such a cell with a single
// quote (') which spreadsheets show as text. To keep the transformation
// reversible it also prefixes a cell that starts with a quote followed by
// one of those characters or by another quote. The decoder removes exactly
// that one prefix, so a value survives an export and a re-import
// unchanged, and a file a spreadsheet saved with such quotes still imports.
//
// Quoting protects a cell only against spreadsheets that split on commas.
// A spreadsheet set to split on semicolons would split a cell such as
// "a;=1+1" and could evaluate the second half; open exports with the comma
// as the separator.
package csv
