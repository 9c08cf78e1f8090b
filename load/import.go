package load

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// importRedeemCodes is how many codes the redeems of the import scenarios
// spread over.
const importRedeemCodes = 1000

// importFixture is what the import scenarios share: the promotion whose
// codes the clients redeem, in the run's store, and the store that the
// files are imported into.
type importFixture struct {
	promo       string
	codes       []string
	importStore string
}

// seedImport creates the import scenarios' fixture.
func (b *bench) seedImport(ctx context.Context) (*importFixture, error) {
	f := &importFixture{codes: make([]string, importRedeemCodes)}
	var err error
	if f.promo, err = b.api.createPromotion(ctx, b.storeID, "bench import redeems ("+b.run+")", 0, 0); err != nil {
		return nil, fmt.Errorf("create the promotion of the import scenarios' redeems: %w", err)
	}
	for i := range f.codes {
		f.codes[i] = fmt.Sprintf("R%s-%04d", b.run, i)
	}
	if err := b.api.importCodes(ctx, f.promo, f.codes); err != nil {
		return nil, fmt.Errorf("create the codes of the import scenarios' redeems: %w", err)
	}
	if f.importStore, err = b.api.createStore(ctx, "promokit bench imports "+b.run); err != nil {
		return nil, fmt.Errorf("create the store of the imports: %w", err)
	}
	return f, nil
}

// importFile returns a CSV file of rows codes in the random order of a
// real file: the tag, then 13 letters and digits that spread over the
// whole index. With rejected, the last row holds no valid code, so the
// file is refused on its last row.
func importFile(tag string, rows int, rejected bool) []byte {
	var b bytes.Buffer
	b.Grow(rows * (len(tag) + 16))
	b.WriteString("code\n")
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	var word [8]byte
	for i := range rows {
		if rejected && i == rows-1 {
			b.WriteString("not a code\n")
			break
		}
		// An odd multiplier makes i -> i*k a bijection of 64-bit words:
		// every value is distinct, and neighbours are far apart.
		binary.BigEndian.PutUint64(word[:], uint64(i+1)*0x9E3779B97F4A7C15)
		b.WriteString(tag)
		b.WriteByte('-')
		b.WriteString(enc.EncodeToString(word[:]))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// importStep returns a step whose clients redeem codes of the run's store
// while, once their warm-up is over, a file of Config.ImportRows codes is
// imported into another store's promotion: the window lasts as long as
// the import, and its latencies are the redeems' stalls. import-rejected's
// file is refused on its last row; import-accepted's is imported whole.
func (b *bench) importStep(ctx context.Context, scenario string, clients int) (*step, error) {
	if b.imports == nil {
		f, err := b.seedImport(ctx)
		if err != nil {
			return nil, err
		}
		b.imports = f
	}
	f := b.imports
	tag := fmt.Sprintf("I%s-%d", b.run, b.steps)
	promo, err := b.api.createPromotion(ctx, f.importStore, fmt.Sprintf("bench %s (%s)", scenario, tag), 0, 0)
	if err != nil {
		return nil, fmt.Errorf("create the promotion of %s: %w", scenario, err)
	}
	rows := b.cfg.importRows()
	rejected := scenario == ScenarioImportRejected
	file := importFile(tag, rows, rejected)
	hc := newLoadClient(clients)
	url := b.api.base + "/v1/redeem"
	cart := redeemCart(b.storeID, b.currency)
	var next atomic.Int64
	do := func(ctx context.Context, client int, seq int64) (Outcome, string) {
		i := next.Add(1) - 1
		body, err := json.Marshal(engine.RedeemInput{
			OrderID:  fmt.Sprintf("bench-%s-%d-%d", tag, client, seq),
			Cart:     cart,
			Customer: promokit.Identity{Email: fmt.Sprintf("buyer-%s-%d-%d@bench.example", strings.ToLower(tag), client, seq)},
			Codes:    []string{f.codes[i%int64(len(f.codes))]},
		})
		if err != nil {
			return ClientError, err.Error()
		}
		req, err := postJSON(ctx, url, b.checkoutKey, body)
		if err != nil {
			return ClientError, err.Error()
		}
		return sendRequest(hc, req)
	}
	var (
		note     string
		problems []string
	)
	window := func(ctx context.Context) {
		fmt.Fprintf(b.log, "%s: importing %s rows (%s) into promotion %s\n", scenario, group(int64(rows)), bytesText(len(file)), promo)
		started := time.Now()
		status, answer, err := b.api.importFile(ctx, promo, file)
		took := time.Since(started)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("the import failed: %v", err))
		case rejected && (status != http.StatusUnprocessableEntity || !strings.Contains(answer, fmt.Sprintf(`"row %d"`, rows+1))):
			problems = append(problems, fmt.Sprintf("the import was answered %d, not 422 naming row %d: %s", status, rows+1, shorten(answer, 300)))
		case !rejected && (status != http.StatusCreated || !strings.Contains(answer, fmt.Sprintf(`"imported":%d`, rows))):
			problems = append(problems, fmt.Sprintf("the import was answered %d, not 201 with %d codes: %s", status, rows, shorten(answer, 300)))
		default:
			note = fmt.Sprintf("the import of %s rows was answered %d after %.1f s", group(int64(rows)), status, took.Seconds())
		}
	}
	check := func(ctx context.Context, m measurement) (string, []string, error) {
		return note, problems, nil
	}
	return &step{do: do, window: window, check: check, close: hc.CloseIdleConnections}, nil
}

// importFile posts a CSV file to a promotion's import and returns the
// status and the answer, whatever the status.
func (a *api) importFile(ctx context.Context, promoID string, file []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", a.base+"/v1/promotions/"+promoID+"/codes/import", bytes.NewReader(file))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

// bytesText returns n bytes in MiB.
func bytesText(n int) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
