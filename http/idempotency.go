package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"net/http"
	"os"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// replayedHeaders returns the response headers kept with an idempotent
// response and sent again when it is replayed.
func replayedHeaders() [3]string {
	return [3]string{"Content-Type", "Location", "ETag"}
}

// idempotent wraps the handler of a mutating route so that a request sent
// with an Idempotency-Key header runs once: a retry with the same key and
// the same request (method, path and query, If-Match and body) gets the
// first response again, marked Idempotent-Replayed: true, and changes
// nothing; the same key with another request is refused. Responses of
// refused requests (4xx) are kept too, so that a retry is refused the
// same way; a server error (5xx) and a 429, which say to come back later,
// are forgotten, so that a retry runs again. A response that carries a
// secret (a new API key's) is kept without it: its replay says that the
// secret is withheld (see secret.go).
// Keys are per API key: two keys may use the same Idempotency-Key.
//
// The body is read before the handler runs, to hash it: a JSON body into
// memory (at most maxJSONBody bytes), a CSV import or a payout's proof
// into a temporary file (at most Config.ImportLimit or ProofLimit bytes)
// from which the handler then reads. A payout sent as a form with its
// proof is read whole as a form (readForm), which the handler takes as it
// is, and hashed by its parts, not by its bytes (form.hash): a client
// draws a new boundary for each request, its retries included.
func (s *Server) idempotent(body bodyKind, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vals := r.Header.Values("Idempotency-Key")
		p, authed := promokit.PrincipalFromContext(r.Context())
		if len(vals) == 0 || !authed {
			h.ServeHTTP(w, r)
			return
		}
		key := vals[0]
		if len(vals) > 1 || !validIdempotencyKey(key) {
			writeError(w, r, malformed("Idempotency-Key", "invalid", "Idempotency-Key must be one value of 1 to 255 printable ASCII characters"))
			return
		}
		hash := requestHash(r)
		if body == bodyForm && isForm(r) {
			f, err := readForm(w, r, s.proofForm())
			if err != nil {
				writeError(w, r, err)
				return
			}
			f.hash(hash)
			r.Body = &formBody{ReadCloser: http.NoBody, form: f}
		} else if body == bodyCSV || body == bodyFile {
			limit := s.importLimit
			if body == bodyFile {
				if r.ContentLength > s.proofLimit {
					writeError(w, r, proofTooLarge(s.proofLimit))
					return
				}
				limit = s.proofLimit
			}
			f, err := spool(w, r, limit, hash)
			if err != nil {
				writeError(w, r, err)
				return
			}
			defer f.Close()
			r.Body = f
		} else {
			data, err := readBody(w, r, maxJSONBody)
			if err != nil {
				writeError(w, r, err)
				return
			}
			hash.Write(data)
			r.Body = io.NopCloser(bytes.NewReader(data))
		}
		ctx := context.WithoutCancel(r.Context())
		rec, err := s.svc.BeginIdempotent(ctx, p.KeyID, key, hash.Sum(nil))
		if err != nil {
			writeError(w, r, err)
			return
		}
		if rec != nil {
			replay(w, rec)
			return
		}
		done := false
		defer func() {
			if !done { // the handler panicked: let a retry run again
				_ = s.svc.AbortIdempotent(ctx, p.KeyID, key)
			}
		}()
		rc := &recorder{header: make(http.Header)}
		h.ServeHTTP(rc, r)
		done = true
		if rc.status == 0 {
			rc.status = http.StatusOK
		}
		// A request its client left (StatusClientClosed) may still have
		// made its change: a retry runs it again and finds out.
		if rc.status >= 500 || rc.status == http.StatusTooManyRequests || rc.status == StatusClientClosed {
			if err := s.svc.AbortIdempotent(ctx, p.KeyID, key); err != nil {
				s.log.ErrorContext(ctx, "abort idempotent request", "request_id", infoFrom(ctx).requestID(), "err", err)
			}
		} else {
			kept := make(map[string]string, 3)
			for _, name := range replayedHeaders() {
				if v := rc.header.Get(name); v != "" {
					kept[name] = v
				}
			}
			hdr, _ := json.Marshal(kept)
			err := s.svc.FinishIdempotent(ctx, &storage.IdempotencyRecord{
				KeyID: p.KeyID, Key: key, Status: rc.status, Headers: hdr, Body: rc.kept(),
			})
			if err != nil {
				// The change is made; a retry finds the key running, and
				// once that is stale, runs the request again.
				s.log.ErrorContext(ctx, "finish idempotent request", "request_id", infoFrom(ctx).requestID(), "err", err)
			}
		}
		dst := w.Header()
		for name, v := range rc.header {
			dst[name] = v
		}
		w.WriteHeader(rc.status)
		_, _ = w.Write(rc.body.Bytes())
	})
}

// requestHash returns a SHA-256 that has hashed what identifies the
// request besides its body: the method, the path and query and If-Match,
// each followed by a zero byte, which none of them can contain. The
// caller adds the body.
func requestHash(r *http.Request) hash.Hash {
	h := sha256.New()
	for _, part := range [...]string{r.Method, r.URL.RequestURI(), r.Header.Get("If-Match")} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return h
}

// validIdempotencyKey reports whether k has 1 to 255 printable ASCII
// characters.
func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// replay sends a stored response again.
func replay(w http.ResponseWriter, rec *storage.IdempotencyRecord) {
	var kept map[string]string
	_ = json.Unmarshal(rec.Headers, &kept)
	h := w.Header()
	for _, name := range replayedHeaders() {
		if v, ok := kept[name]; ok {
			h.Set(name, v)
		}
	}
	h.Set("Idempotent-Replayed", "true")
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// recorder holds a response in memory, for an idempotent request: it is
// stored before it is sent. Responses of mutating routes are small. A
// response that carries a secret is stored in its redacted form, which
// writeJSON hands the recorder (keepRedacted) before it writes the whole.
type recorder struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	redacted []byte // set for a response that carries a secret
	secret   bool
}

// keepRedacted records that the response carries a secret, and the body
// to store in its place.
func (rc *recorder) keepRedacted(body []byte) {
	rc.secret, rc.redacted = true, body
}

// kept returns the body to store for replays: the redacted form of a
// response that carries a secret, the response itself otherwise.
func (rc *recorder) kept() []byte {
	if rc.secret {
		return rc.redacted
	}
	return rc.body.Bytes()
}

func (rc *recorder) Header() http.Header { return rc.header }

func (rc *recorder) WriteHeader(code int) {
	if rc.status == 0 && code >= 200 {
		rc.status = code
	}
}

func (rc *recorder) Write(b []byte) (int, error) {
	if rc.status == 0 {
		rc.status = http.StatusOK
	}
	return rc.body.Write(b)
}

// spooledBody is a request body copied to a temporary file, which Close
// removes.
type spooledBody struct {
	*os.File
}

// Close closes and removes the file.
func (b *spooledBody) Close() error {
	err := b.File.Close()
	if rerr := os.Remove(b.Name()); err == nil {
		err = rerr
	}
	return err
}

// spool copies the body of r to a temporary file, at most limit bytes
// (ETooLarge beyond), writing it to also as it goes when also is not nil,
// and returns the file positioned at its start. Reading a large upload
// this way first means that no transaction waits for a slow client.
func spool(w http.ResponseWriter, r *http.Request, limit int64, also io.Writer) (*spooledBody, error) {
	f, err := os.CreateTemp("", "promokit-upload-*")
	if err != nil {
		return nil, err
	}
	b := &spooledBody{File: f}
	var dst io.Writer = f
	if also != nil {
		dst = io.MultiWriter(f, also)
	}
	src := &errReader{r: http.NoBody}
	if r.Body != nil {
		src.r = http.MaxBytesReader(w, r.Body, limit)
	}
	_, err = io.Copy(dst, src)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		_ = b.Close()
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, promokit.Errorf(promokit.ETooLarge, "the file may have at most %d bytes", limit)
		case err == src.err:
			return nil, malformed("", "", "the body could not be read")
		}
		return nil, err // the disk, not the client
	}
	return b, nil
}

// errReader remembers the error of the reader it wraps, so that a copy can
// tell a failed read from a failed write.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
