package http

import (
	"encoding/binary"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/promokit/promokit"
)

// Forms: a multipart/form-data body, read whole, within limits, before a
// use case runs, so that no transaction waits for a slow client. A form
// carries one file part of at most its own limit and a few small parts
// beside it (each at most maxJSONBody bytes).

// maxFormParts is how many parts a form may have.
const maxFormParts = 16

// formSlack is what a form may hold besides the contents of its parts:
// its boundaries and the headers of its parts.
const formSlack = 64 << 10

// form is a multipart/form-data body: its parts, in the order sent.
type form struct {
	parts []formPart
}

// formPart is one part of a form: its name and its content. Its file
// name and Content-Type count for nothing: the handler reads the content.
type formPart struct {
	name string
	data []byte
}

// formBody is a request body that the idempotency middleware has read as
// a form already: the handler takes the form as it is.
type formBody struct {
	io.ReadCloser // http.NoBody: the bytes are read
	form          *form
}

// isForm reports whether r's body is sent as multipart/form-data.
func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// formLimits are the limits of a form: its file part, named file, has at
// most fileLimit bytes (fileTooLarge beyond).
type formLimits struct {
	file         string
	fileLimit    int64
	fileTooLarge error
}

// total returns the most bytes a form may have: its file, one small part,
// and the slack.
func (l formLimits) total() int64 { return l.fileLimit + maxJSONBody + formSlack }

// readForm reads the multipart/form-data body of r whole, or takes the
// form the idempotency middleware read. A body declared larger than the
// limits allow is ETooLarge before it is read, and so is one that turns
// out larger (l.fileTooLarge for the file part); a part other than the
// file may have maxJSONBody bytes. A body that is no such form, a form
// without parts, a part without a name or more than maxFormParts parts
// is EMalformed.
func readForm(w http.ResponseWriter, r *http.Request, l formLimits) (*form, error) {
	if b, ok := r.Body.(*formBody); ok {
		return b.form, nil
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, malformed("", "", "a multipart/form-data body needs its boundary parameter")
	}
	tooLarge := promokit.Errorf(promokit.ETooLarge, "the form may have at most %d bytes: a file of at most %d bytes and its other fields", l.total(), l.fileLimit)
	if r.ContentLength > l.total() {
		return nil, tooLarge
	}
	body := io.Reader(http.NoBody)
	if r.Body != nil {
		body = http.MaxBytesReader(w, r.Body, l.total())
	}
	mr := multipart.NewReader(body, params["boundary"])
	f := &form{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			if len(f.parts) == 0 {
				return nil, malformed("", "", "the form has no part: its boundary must be the one its Content-Type names")
			}
			return f, nil
		}
		if err != nil {
			return nil, multipartError(err, tooLarge)
		}
		name := p.FormName()
		switch {
		case name == "":
			return nil, malformed("", "", "every part of the form needs a name: Content-Disposition: form-data; name=\"…\"")
		case len(f.parts) == maxFormParts:
			return nil, malformed("", "", "a form has at most %d parts", maxFormParts)
		}
		limit := int64(maxJSONBody)
		var partTooLarge error = promokit.Errorf(promokit.ETooLarge, "a field of the form may have at most %d bytes", maxJSONBody)
		if name == l.file {
			limit, partTooLarge = l.fileLimit, l.fileTooLarge
		}
		data, err := io.ReadAll(io.LimitReader(p, limit+1))
		if err != nil {
			return nil, multipartError(err, tooLarge)
		}
		if int64(len(data)) > limit {
			return nil, partTooLarge
		}
		f.parts = append(f.parts, formPart{name: name, data: data})
	}
}

// multipartError is the error of a form that could not be read: tooLarge when
// the body passed its limit, EMalformed otherwise.
func multipartError(err, tooLarge error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge
	}
	return malformed("", "", "the body is not a valid multipart/form-data form")
}

// hash writes what identifies the form to h: the name and the content of
// each part, in order, each with its length. The boundary, which a client
// draws anew for each request, a retry included, and the parts' headers,
// which the handler does not read, count for nothing: two forms that
// carry the same parts are the same request.
func (f *form) hash(h io.Writer) {
	h.Write([]byte("multipart/form-data\x00"))
	var n [8]byte
	for _, p := range f.parts {
		for _, b := range [][]byte{[]byte(p.name), p.data} {
			binary.BigEndian.PutUint64(n[:], uint64(len(b)))
			h.Write(n[:])
			h.Write(b)
		}
	}
}
