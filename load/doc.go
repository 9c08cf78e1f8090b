// Package load drives checkout traffic against a promokit server and
// measures it beside a baseline taken in the same run: the logic of
// "promokit bench".
//
// A run is a list of scenarios, each measured at a list of client counts.
// Every client is a goroutine that sends one request at a time and sends
// the next as soon as the answer has arrived (a closed loop), over
// keep-alive connections. Every latency is recorded; a step reports its
// requests by outcome (ok, refused, other 4xx, 5xx, transport error), its
// rate and its latency percentiles.
//
// The scenarios are:
//
//   - redeem-hot: POST /v1/redeem on 50 codes of one promotion with a
//     total-use limit, by default one too high to be reached;
//   - redeem-many: POST /v1/redeem spread over 10,000 codes of one
//     promotion without a total-use limit;
//   - validate: POST /v1/validate of a 5-line cart with 2 codes drawn
//     among 1,000,000 generated ones;
//   - healthz: GET /healthz, the baseline of validate: what the server and
//     the machine answer when nothing is asked of the database;
//   - baseline: the baseline of the redeem scenarios, taken directly on the
//     server's database and not over HTTP: one transaction per redemption
//     that takes one use of a hot row with a conditional UPDATE and writes
//     one row (HotRow).
//
// After each redeem step the run checks that the promotion's stored uses
// equal the redeems acknowledged with 2xx, warm-up included, that they
// never exceed the limit and that no redeem was refused before the limit
// was reached; after the baseline it checks the hot row the same way. At
// the end it runs the server's consistency check when the configuration
// provides one (Config.CheckFunc).
//
// The server under test runs in its own process (StartServer) so that the
// load generator does not share its Go runtime.
package load
