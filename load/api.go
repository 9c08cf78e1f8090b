package load

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// api calls the server's API with the admin key to seed the fixtures and
// read them back. It is not what the clients of a step use.
type api struct {
	base string
	key  string
	hc   *http.Client
}

// newAPI returns an api for the server at base.
func newAPI(base, key string) *api {
	return &api{base: strings.TrimRight(base, "/"), key: key, hc: &http.Client{Timeout: 5 * time.Minute}}
}

// callAs is call with the API key key instead of the admin's.
func (a *api) callAs(ctx context.Context, key, method, path string, in any, want int, out any) error {
	c := *a
	c.key = key
	return c.call(ctx, method, path, in, want, out)
}

// statusError is an answer with another status than the one expected.
type statusError struct {
	method, path string
	status       int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.method, e.path, e.status, e.body)
}

// send sends a request and returns the response when its status is want;
// the caller closes its body.
func (a *api) send(ctx context.Context, method, path, contentType string, body io.Reader, want int) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return nil, &statusError{method, path, resp.StatusCode, strings.TrimSpace(string(b))}
	}
	return resp, nil
}

// call sends in as JSON, unless it is nil, expects status want and decodes
// the answer into out, unless it is nil.
func (a *api) call(ctx context.Context, method, path string, in any, want int, out any) error {
	var body io.Reader
	var ct string
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	resp, err := a.send(ctx, method, path, ct, body, want)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	} else {
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	return nil
}

// currency returns the marketplace's currency, which every cart must use.
func (a *api) currency(ctx context.Context) (string, error) {
	var s struct {
		Currency string `json:"currency"`
	}
	if err := a.call(ctx, "GET", "/v1/settings", nil, http.StatusOK, &s); err != nil {
		return "", err
	}
	return s.Currency, nil
}

// createStore creates a store and returns its id.
func (a *api) createStore(ctx context.Context, name string) (string, error) {
	var s struct {
		ID string `json:"id"`
	}
	err := a.call(ctx, "POST", "/v1/stores", map[string]any{"name": name}, http.StatusCreated, &s)
	return s.ID, err
}

// createCheckoutKey creates a checkout key bound to a store and returns
// its id and secret.
func (a *api) createCheckoutKey(ctx context.Context, storeID, name string) (id, secret string, err error) {
	var k struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	err = a.call(ctx, "POST", "/v1/keys", map[string]any{"role": "checkout", "store_id": storeID, "name": name}, http.StatusCreated, &k)
	return k.ID, k.Secret, err
}

// revokeKey revokes a key.
func (a *api) revokeKey(ctx context.Context, id string) error {
	return a.call(ctx, "DELETE", "/v1/keys/"+id, nil, http.StatusOK, nil)
}

// createPromotion creates a storewide 10% promotion of a store, starting
// now, with the limits given (zero: none), and returns its id.
func (a *api) createPromotion(ctx context.Context, storeID, name string, totalUses, perCustomer int64) (string, error) {
	in := map[string]any{"store_id": storeID, "name": name, "type": "percent_off", "percent_off_bp": 1000}
	if totalUses > 0 {
		in["total_uses"] = totalUses
	}
	if perCustomer > 0 {
		in["per_customer"] = perCustomer
	}
	var p struct {
		ID string `json:"id"`
	}
	err := a.call(ctx, "POST", "/v1/promotions", in, http.StatusCreated, &p)
	return p.ID, err
}

// promotionUses returns the stored uses of a promotion.
func (a *api) promotionUses(ctx context.Context, id string) (int64, error) {
	var p struct {
		Uses *int64 `json:"uses"`
	}
	if err := a.call(ctx, "GET", "/v1/promotions/"+id, nil, http.StatusOK, &p); err != nil {
		return 0, err
	}
	if p.Uses == nil {
		return 0, fmt.Errorf("GET /v1/promotions/%s: the answer has no uses", id)
	}
	return *p.Uses, nil
}

// importCodes adds codes to a promotion with one CSV import.
func (a *api) importCodes(ctx context.Context, promoID string, codes []string) error {
	var b bytes.Buffer
	b.WriteString("code\n")
	for _, c := range codes {
		b.WriteString(c)
		b.WriteByte('\n')
	}
	var out struct {
		Imported int64 `json:"imported"`
	}
	resp, err := a.send(ctx, "POST", "/v1/promotions/"+promoID+"/codes/import", "text/csv", &b, http.StatusCreated)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("import codes: read the answer: %w", err)
	}
	if out.Imported != int64(len(codes)) {
		return fmt.Errorf("import codes: %d imported of %d", out.Imported, len(codes))
	}
	return nil
}

// jobStall is how long a code job may make no progress before the run
// gives up on it. A server picks a queued job up within seconds, and a
// batch of codes takes well under a second.
const jobStall = 2 * time.Minute

// generateCodes runs a code generation job of n codes for a promotion and
// waits until it has succeeded, reporting its progress to log now and then.
func (a *api) generateCodes(ctx context.Context, promoID string, n int64, log io.Writer) error {
	var job struct {
		ID    string `json:"id"`
		State string `json:"state"`
		Done  int64  `json:"done"`
		Total int64  `json:"total"`
		Error string `json:"error"`
	}
	if err := a.call(ctx, "POST", "/v1/promotions/"+promoID+"/code-jobs", map[string]any{"count": n, "length": 12}, http.StatusAccepted, &job); err != nil {
		return err
	}
	lastReport, lastProgress, lastDone := time.Now(), time.Now(), int64(-1)
	for {
		if job.Done != lastDone {
			lastProgress, lastDone = time.Now(), job.Done
		} else if time.Since(lastProgress) > jobStall {
			return fmt.Errorf("code job %s made no progress for %s (%s, %s of %s codes): is the server's job worker running?",
				job.ID, jobStall, job.State, group(job.Done), group(n))
		}
		switch job.State {
		case "succeeded":
			if job.Done != n {
				return fmt.Errorf("code job %s succeeded with %d codes of %d", job.ID, job.Done, n)
			}
			return nil
		case "failed":
			return fmt.Errorf("code job %s failed: %s", job.ID, job.Error)
		}
		if time.Since(lastReport) >= 5*time.Second {
			fmt.Fprintf(log, "  code job %s: %s of %s codes\n", job.ID, group(job.Done), group(n))
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for code job %s: %w", job.ID, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if err := a.call(ctx, "GET", "/v1/jobs/"+job.ID, nil, http.StatusOK, &job); err != nil {
			return err
		}
	}
}

// sampleCodes reads the codes of a promotion from its CSV export and
// returns at most max of them, drawn uniformly (reservoir sampling), so
// that a million codes are read without being held.
func (a *api) sampleCodes(ctx context.Context, promoID string, max int, rng *rand.Rand) ([]string, error) {
	path := "/v1/promotions/" + promoID + "/codes.csv"
	resp, err := a.send(ctx, "GET", path, "", nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	r := csv.NewReader(resp.Body)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("GET %s: read the header: %w", path, err)
	}
	if len(header) == 0 || header[0] != "code" {
		return nil, fmt.Errorf("GET %s: the first column is %q, not code", path, header)
	}
	var out []string
	seen := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", path, err)
		}
		code := exportedCell(rec[0])
		seen++
		if len(out) < max {
			out = append(out, code)
		} else if i := rng.IntN(seen); i < max {
			out[i] = code
		}
	}
	return out, nil
}

// exportedCell undoes the neutralisation of the CSV export: a cell that a
// spreadsheet would take for a formula is written with a leading quote.
func exportedCell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@", rune(s[1])) {
		return s[1:]
	}
	return s
}
