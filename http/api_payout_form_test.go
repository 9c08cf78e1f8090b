package http

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/engine"
	"github.com/promokit/promokit/storage"
)

// testPart is one part of a test's form: a field, or a file when file
// names one.
type testPart struct {
	name, file string
	data       []byte
}

func field(name, value string) testPart { return testPart{name: name, data: []byte(value)} }

func filePart(name, file string, data []byte) testPart {
	return testPart{name: name, file: file, data: data}
}

// multipartForm returns a multipart/form-data body of parts and its
// Content-Type. Its boundary is drawn anew at each call, as a client
// draws it for each request.
func multipartForm(t *testing.T, parts ...testPart) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var (
			w   interface{ Write([]byte) (int, error) }
			err error
		)
		if p.file != "" {
			w, err = mw.CreateFormFile(p.name, p.file)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// TestPayoutForm records payouts with their proof files in one request,
// as multipart/form-data: the payout as a JSON part or field by field,
// the proof decided by its bytes within the proof limit, an
// Idempotency-Key that holds across boundaries; and every refusal
// (the proof's type, size or emptiness, the amount, the form itself)
// writes nothing.
func TestPayoutForm(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open, func(c *Config) { c.ProofLimit = 1000 })
		b.payouts() // 3,000 of 5,000 left payable
		post := func(key string, want int, hdr []string, parts ...testPart) *response {
			t.Helper()
			body, ct := multipartForm(t, parts...)
			return mustDo(t, b, key, "POST", "/v1/payouts", body, want, append([]string{"Content-Type", ct}, hdr...)...)
		}
		doc := func(amount int64, reference string) testPart {
			data, err := json.Marshal(map[string]any{"payee": b.partnr.ID, "currency": "USD", "amount": amount,
				"paid_on": "2026-01-01", "reference": reference})
			if err != nil {
				t.Fatal(err)
			}
			return field("payout", string(data))
		}
		fields := func(amount, reference string, more ...testPart) []testPart {
			return append([]testPart{field("payee", b.partnr.ID), field("currency", "USD"), field("amount", amount),
				field("paid_on", "2026-01-01"), field("reference", reference)}, more...)
		}

		// The payout as one JSON part, with a PDF.
		r := post(b.seller, http.StatusCreated, nil, doc(1000, "wire 3"), filePart("proof", "transfer.pdf", proofPDF))
		po := decodeAs[promokit.Payout](t, r)
		if r.Header.Get("Location") != "/v1/payouts/"+po.ID || po.Payer != b.shop.ID || po.Amount != 1000 || po.Proof == nil ||
			po.Proof.Type != promokit.ProofPDF || po.Proof.Size != int64(len(proofPDF)) {
			t.Fatalf("payout with its proof = %s", r.Body)
		}
		if got := mustDo(t, b, b.partner, "GET", "/v1/payouts/"+po.ID+"/proof", nil, http.StatusOK); !bytes.Equal(got.Body, proofPDF) {
			t.Fatalf("proof served = %q", got.Body)
		}
		mustDo(t, b, b.seller, "PUT", "/v1/payouts/"+po.ID+"/proof", proofPNG, http.StatusConflict, "Content-Type", "image/png")

		// Field by field with a PNG, under an Idempotency-Key: the retry,
		// whose boundary is new, is the same request; the same key with
		// another proof is not.
		parts := fields("500", "wire 4", filePart("proof", "transfer.png", proofPNG))
		key := []string{"Idempotency-Key", "form-4"}
		first := decodeAs[promokit.Payout](t, post(b.seller, http.StatusCreated, key, parts...))
		if first.Proof == nil || first.Proof.Type != promokit.ProofPNG || first.Amount != 500 || first.Reference != "wire 4" {
			t.Fatalf("payout of fields = %+v", first)
		}
		again := post(b.seller, http.StatusCreated, key, parts...)
		if again.Header.Get("Idempotent-Replayed") != "true" || decodeAs[promokit.Payout](t, again).ID != first.ID {
			t.Fatalf("retry = %s", again.Body)
		}
		r = post(b.seller, http.StatusUnprocessableEntity, key, fields("500", "wire 4", filePart("proof", "transfer.png", proofJPEG))...)
		if r.Problem.Code != promokit.EIdempotencyReuse {
			t.Fatalf("the key with another proof = %s", r.Body)
		}
		// No proof part: a payout without proof.
		if p := decodeAs[promokit.Payout](t, post(b.seller, http.StatusCreated, nil, fields("100", "wire 5")...)); p.Proof != nil {
			t.Fatalf("payout without proof part = %+v", p)
		}
		// 3,000 − 1,000 − 500 − 100 = 1,400 left payable.

		big := append(append([]byte{}, proofPDF...), bytes.Repeat([]byte{' '}, 1000)...)
		for _, c := range []struct {
			name  string
			key   string
			want  int
			code  string
			parts []testPart
		}{
			{"a text proof", b.seller, http.StatusUnsupportedMediaType, promokit.EUnsupportedMedia, []testPart{doc(100, "r"), filePart("proof", "t.pdf", proofText)}},
			{"a proof above the limit", b.seller, http.StatusRequestEntityTooLarge, promokit.ETooLarge, []testPart{doc(100, "r"), filePart("proof", "t.pdf", big)}},
			{"an empty proof", b.seller, http.StatusUnprocessableEntity, promokit.EInvalid, []testPart{doc(100, "r"), filePart("proof", "t.pdf", nil)}},
			{"above the payable", b.seller, http.StatusUnprocessableEntity, promokit.EPayoutExceeds, []testPart{doc(1401, "r"), filePart("proof", "t.pdf", proofPDF)}},
			{"a bad field", b.seller, http.StatusUnprocessableEntity, promokit.EInvalid, fields("100", "", filePart("proof", "t.pdf", proofPDF))},
			{"NUL in a field", b.seller, http.StatusUnprocessableEntity, promokit.EInvalid, fields("100", "a\x00b", filePart("proof", "t.pdf", proofPDF))},
			{"an amount that is no integer", b.seller, http.StatusBadRequest, promokit.EMalformed, fields("1.5", "r")},
			{"an unknown part", b.seller, http.StatusBadRequest, promokit.EMalformed, fields("100", "r", field("note", "x"))},
			{"a part twice", b.seller, http.StatusBadRequest, promokit.EMalformed, fields("100", "r", filePart("proof", "a.pdf", proofPDF), filePart("proof", "b.pdf", proofPDF))},
			{"JSON and fields", b.seller, http.StatusBadRequest, promokit.EMalformed, []testPart{doc(100, "r"), field("amount", "100")}},
			{"JSON that is not", b.seller, http.StatusBadRequest, promokit.EMalformed, []testPart{field("payout", `{"payee":`)}},
			{"JSON with an unknown field", b.seller, http.StatusBadRequest, promokit.EMalformed, []testPart{field("payout", `{"payee":"x","tip":1}`)}},
			{"a field above its limit", b.seller, http.StatusRequestEntityTooLarge, promokit.ETooLarge, fields("100", string(bytes.Repeat([]byte{'r'}, maxJSONBody+1)))},
			{"a partner", b.partner, http.StatusForbidden, promokit.EForbidden, []testPart{doc(100, "r"), filePart("proof", "t.pdf", proofPDF)}},
			{"a foreign seller", b.foreign, http.StatusNotFound, promokit.ENotFound, fields("100", "r", field("payer", b.shop.ID), filePart("proof", "t.pdf", proofPDF))},
		} {
			r := post(c.key, c.want, nil, c.parts...)
			if r.Problem.Code != c.code {
				t.Errorf("%s: %s, want code %s", c.name, r.Body, c.code)
			}
		}
		body, ct := multipartForm(t, doc(100, "r"), filePart("proof", "t.pdf", big))
		mustDo(t, b, b.seller, "POST", "/v1/payouts", chunked(body), http.StatusRequestEntityTooLarge, "Content-Type", ct)
		mustDo(t, b, b.seller, "POST", "/v1/payouts", chunked(body), http.StatusRequestEntityTooLarge, "Content-Type", ct, "Idempotency-Key", "big")
		// Declared larger than a form may be: refused before it is read.
		huge := bytes.Repeat([]byte{'x'}, int(formLimits{fileLimit: 1000}.total())+1)
		r = mustDo(t, b, b.seller, "POST", "/v1/payouts", huge, http.StatusRequestEntityTooLarge, "Content-Type", ct)
		if r.Problem.Code != promokit.ETooLarge {
			t.Fatalf("a body declared too large = %s", r.Body)
		}
		mustDo(t, b, b.seller, "POST", "/v1/payouts", body, http.StatusBadRequest, "Content-Type", "multipart/form-data")
		mustDo(t, b, b.seller, "POST", "/v1/payouts", body, http.StatusBadRequest, "Content-Type", "multipart/form-data; boundary=elsewhere")
		r = mustDo(t, b, b.seller, "POST", "/v1/payouts", "payee=x", http.StatusUnsupportedMediaType, "Content-Type", "application/x-www-form-urlencoded")
		if r.Problem.Code != promokit.EUnsupportedMedia {
			t.Fatalf("a urlencoded form = %s", r.Body)
		}

		// Nothing of the refused was written: five payouts, 1,400 left.
		if n := b.count(t, b.partner, "/v1/payouts"); n != 5 {
			t.Fatalf("the partner lists %d payouts, want 5", n)
		}
		r = mustDo(t, b, b.seller, "POST", "/v1/payouts", map[string]any{"payee": b.partnr.ID, "currency": "USD", "amount": 1401,
			"paid_on": "2026-01-01", "reference": "rest"}, http.StatusUnprocessableEntity)
		if r.Problem.Limit == nil || *r.Problem.Limit != 1400 {
			t.Fatalf("the balance left = %s, want 1,400", r.Body)
		}
		last := post(b.admin, http.StatusCreated, nil, fields(strconv.Itoa(1400), "rest", field("payer", b.shop.ID), filePart("proof", "t.jpg", proofJPEG))...)
		if p := decodeAs[promokit.Payout](t, last); p.Payer != b.shop.ID || p.Proof == nil || p.Proof.Type != promokit.ProofJPEG {
			t.Fatalf("the admin's payout = %s", last.Body)
		}
		if diffs, err := b.store.UsageCheck(t.Context()); err != nil || len(diffs) != 0 {
			t.Fatalf("check = %+v, %v", diffs, err)
		}
	})
}

// TestPayoutTimesInZone checks that the API writes a payout's times in
// the marketplace's time zone with its offset, in every answer that
// carries the payout: a marketplace in Tokyo sees 9:00 UTC as 18:00,
// +09:00.
func TestPayoutTimesInZone(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		b.payouts() // recorded in UTC: they read back in Tokyo's time too
		admin := promokit.NewContext(t.Context(), promokit.Principal{Role: promokit.RoleAdmin})
		st, err := b.svc.Settings(admin)
		if err != nil {
			t.Fatal(err)
		}
		zone := "Asia/Tokyo"
		if _, err := b.svc.UpdateSettings(admin, st.Version, engine.SettingsInput{TimeZone: &zone}); err != nil {
			t.Fatal(err)
		}
		const at = "2026-01-01T18:00:00+09:00" // jan1(), 9:00 UTC
		body, ct := multipartForm(t, field("payee", b.partnr.ID), field("currency", "USD"), field("amount", "100"),
			field("paid_on", "2026-01-01"), field("reference", "wire 6"), filePart("proof", "t.pdf", proofPDF))
		po := decodeAs[payoutTimesJSON](t, mustDo(t, b, b.seller, "POST", "/v1/payouts", body, http.StatusCreated, "Content-Type", ct))
		if po.CreatedAt != at || po.Proof.UploadedAt != at {
			t.Fatalf("recorded at %s, proved at %s; want %s", po.CreatedAt, po.Proof.UploadedAt, at)
		}
		r := mustDo(t, b, b.partner, "POST", "/v1/payouts/"+po.ID+"/confirm", nil, http.StatusOK)
		if c := decodeAs[payoutTimesJSON](t, r); c.ConfirmedAt != at || c.CreatedAt != at {
			t.Fatalf("confirmed = %s", r.Body)
		}
		r = mustDo(t, b, b.partner, "GET", "/v1/payouts?limit=10", nil, http.StatusOK)
		for _, p := range decodeAs[listJSON[payoutTimesJSON]](t, r).Data {
			if !strings.HasSuffix(p.CreatedAt, "+09:00") {
				t.Errorf("listed %s created at %s, not in Tokyo's time", p.ID, p.CreatedAt)
			}
		}
	})
}

// payoutTimesJSON is a payout's id and times as the API writes them.
type payoutTimesJSON struct {
	ID          string `json:"id"`
	CreatedAt   string `json:"created_at"`
	ConfirmedAt string `json:"confirmed_at"`
	Proof       struct {
		UploadedAt string `json:"uploaded_at"`
	} `json:"proof"`
}
