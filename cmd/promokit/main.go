// Command promokit runs the promokit promotions engine: its HTTP API, job
// worker and database migrations, on an embedded SQLite file or on
// PostgreSQL.
//
//	promokit serve [--addr 127.0.0.1:8080] [--database-url sqlite:promokit.db] [--demo]
//	promokit migrate [--database-url postgres://...]
//	promokit check [--database-url postgres://...]
//	promokit keys create --role admin [--database-url postgres://...] [--key-file PATH]
//	promokit keys list [--database-url postgres://...]
//	promokit bench [--clients 1,16,64] [--duration 10s] redeem-hot baseline ...
//	promokit version
//
// Run "promokit help" for every flag and its environment variable.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// defaultGOGC is the garbage collector's target when the environment sets
// no GOGC: a heap may grow to three times what is live before a
// collection, rather than twice. promokit's live heap is small, so the
// larger target costs little memory and spares the request paths
// collections (BENCHMARKS.md has the measurement).
const defaultGOGC = 200

// main only turns SIGINT and SIGTERM into the cancellation of a context;
// everything else happens in Main, so that tests can run it.
func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := NewMain().Exec(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
