package http

import (
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/engine"
)

// Payouts: a payer records money paid to a payee, attaches its proof file,
// and the payee confirms or disputes it. Who may do what is the engine's
// (engine.RecordPayout and the others).

// DefaultProofLimit is the largest proof file a payout takes when
// Config.ProofLimit is zero: 10 MiB.
const DefaultProofLimit = 10 << 20

// handlePayoutCreate records a payout sent as JSON, or as a
// multipart/form-data form with its proof file (payoutForm), which is
// stored in the same transaction.
func (s *Server) handlePayoutCreate(w http.ResponseWriter, r *http.Request) {
	var (
		in    engine.PayoutInput
		proof []byte
		p     *promokit.Payout
		err   error
	)
	switch {
	case isForm(r):
		var f *form
		if f, err = readForm(w, r, s.proofForm()); err != nil {
			writeError(w, r, err)
			return
		}
		var proved bool
		if in, proof, proved, err = payoutForm(f); err != nil {
			writeError(w, r, err)
			return
		}
		if proved {
			p, err = s.svc.RecordPayoutWithProof(r.Context(), in, proof)
		} else {
			p, err = s.svc.RecordPayout(r.Context(), in)
		}
	case isJSON(r):
		if err := decodeJSON(w, r, &in); err != nil {
			writeError(w, r, err)
			return
		}
		p, err = s.svc.RecordPayout(r.Context(), in)
	default:
		err = promokit.Errorf(promokit.EUnsupportedMedia, "a payout is sent as Content-Type: application/json, or as multipart/form-data with its proof file")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/payouts/"+p.ID)
	writeJSON(w, r, http.StatusCreated, p)
}

// isJSON reports whether r's body is sent as application/json, whatever
// its parameters (decodeJSON checks them).
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// proofForm returns the limits of a payout's form: its file is the proof,
// of at most the proof limit.
func (s *Server) proofForm() formLimits {
	return formLimits{file: proofPart, fileLimit: s.proofLimit, fileTooLarge: proofTooLarge(s.proofLimit)}
}

// The parts of a payout's form besides its fields: the payout as one JSON
// document, and the proof file.
const (
	payoutPart = "payout"
	proofPart  = "proof"
)

// payoutFields are the fields of a payout that a form may send one part
// each, as engine.PayoutInput names them in JSON.
var payoutFields = []string{"payer", "payee", "currency", "amount", "paid_on", "reference"}

// payoutForm returns the payout of a form and its proof file, and whether
// the form has one. The payout is either one part named payout holding
// its JSON document (decoded as strictly as a JSON body), or one part per
// field (payoutFields, each valid text; amount an integer); an optional
// part named proof is the file, decided by its bytes as the PUT decides.
// Any other part, a part twice, or the JSON part together with fields is
// EMalformed.
func payoutForm(f *form) (engine.PayoutInput, []byte, bool, error) {
	var (
		in     engine.PayoutInput
		proof  []byte
		proved bool
		doc    []byte
		fields = map[string]string{}
		seen   = map[string]bool{}
	)
	for _, p := range f.parts {
		if seen[p.name] {
			return in, nil, false, malformed(escapeText(p.name, maxShownText), "duplicate_field", "%s is given twice: each part of the form may appear once", escapeText(p.name, maxShownText))
		}
		seen[p.name] = true
		switch {
		case p.name == proofPart:
			proof, proved = p.data, true
		case p.name == payoutPart:
			doc = p.data
		case slices.Contains(payoutFields, p.name):
			if !validText(string(p.data)) {
				return in, nil, false, invalidText(p.name)
			}
			fields[p.name] = string(p.data)
		default:
			name := escapeText(p.name, maxShownText)
			return in, nil, false, malformed(name, "unknown_field", "unknown part %q: a payout's form has a part payout (its JSON) or its fields %s, and a part proof", name, strings.Join(payoutFields, ", "))
		}
	}
	if doc != nil {
		if len(fields) > 0 {
			return in, nil, false, malformed(payoutPart, "invalid", "send the payout as one JSON part named payout or as its fields, not both")
		}
		if err := unmarshalStrict(doc, &in); err != nil {
			return in, nil, false, err
		}
		return in, proof, proved, nil
	}
	in = engine.PayoutInput{Payer: fields["payer"], Payee: fields["payee"], Currency: fields["currency"],
		PaidOn: fields["paid_on"], Reference: fields["reference"]}
	if a, ok := fields["amount"]; ok {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return in, nil, false, malformed("amount", "invalid", "amount must be an integer of minor units")
		}
		in.Amount = n
	}
	return in, proof, proved, nil
}

// handlePayoutList lists the payouts the caller sees: ?party and
// ?counterparty narrow it.
func (s *Server) handlePayoutList(w http.ResponseWriter, r *http.Request) {
	var v promokit.Validation
	q := r.URL.Query()
	page := pageParams(q, &v)
	if err := v.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.svc.ListPayouts(r.Context(), engine.PayoutQuery{Party: q.Get("party"), Counterparty: q.Get("counterparty")}, page)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, newList(list, page.Limit, func(p *promokit.Payout) string { return p.ID }))
}

// handlePayoutGet answers a payout.
func (s *Server) handlePayoutGet(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.GetPayout(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// handlePayoutConfirm records the payee's confirmation.
func (s *Server) handlePayoutConfirm(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.ConfirmPayout(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// handlePayoutDispute records the payee's dispute and its message.
func (s *Server) handlePayoutDispute(w http.ResponseWriter, r *http.Request) {
	var in engine.DisputeInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	p, err := s.svc.DisputePayout(r.Context(), r.PathValue("id"), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// handlePayoutProofPut stores the proof file sent as the raw body. Its
// type is decided by its bytes, whatever Content-Type says; a body
// declared larger than the limit is refused before it is read, and one
// that turns out larger is refused as soon as it passes the limit.
func (s *Server) handlePayoutProofPut(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > s.proofLimit {
		writeError(w, r, proofTooLarge(s.proofLimit))
		return
	}
	data, err := readBody(w, r, s.proofLimit)
	if err != nil {
		if promokit.ErrorCode(err) == promokit.ETooLarge {
			err = proofTooLarge(s.proofLimit)
		}
		writeError(w, r, err)
		return
	}
	p, err := s.svc.AttachPayoutProof(r.Context(), r.PathValue("id"), data)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// proofTooLarge is the ETooLarge error of a proof file above limit.
func proofTooLarge(limit int64) error {
	return promokit.Errorf(promokit.ETooLarge, "a proof file may have at most %d bytes", limit)
}

// handlePayoutProofGet sends a payout's proof file as an attachment with
// its type, never to be sniffed or run by a browser.
func (s *Server) handlePayoutProofGet(w http.ResponseWriter, r *http.Request) {
	proof, data, err := s.svc.PayoutProof(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	proofHeaders(w.Header(), r.PathValue("id"), proof, len(data))
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}
