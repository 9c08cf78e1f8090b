package http

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"

	"github.com/promokit/promokit"
)

// codeMethodNotAllowed is the code of the problem answered when a route
// exists but not for the request's method. It is not a promokit error
// code: only the router produces it.
const codeMethodNotAllowed = "method_not_allowed"

// requestInfo is what the server learns about a request while it runs:
// its id (and the client's X-Request-Id when it is not that id), the key
// that made it and the error it ended with. The request's log line is
// written from it.
type requestInfo struct {
	id       string
	clientID string // an X-Request-Id of the client that is not id
	keyID    string
	err      error
	code     string
}

type infoKey struct{}

// infoFrom returns the request's record, or nil outside a Server.
func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(infoKey{}).(*requestInfo)
	return info
}

// requestID returns the request id, or "" for a nil record.
func (i *requestInfo) requestID() string {
	if i == nil {
		return ""
	}
	return i.id
}

// statusWriter records the status of a response. It also turns the plain
// text 404 and 405 answers of the router, for requests that match no
// route, into problem documents.
type statusWriter struct {
	http.ResponseWriter
	req     *http.Request // as routed: its Pattern is empty when no route matched
	status  int
	wrote   bool
	discard bool // the router's own body is dropped: a problem was sent instead

	body   trackedBody // the request's body, counted (conn.go); in the writer to save an allocation
	linger bool        // the answer came before the end of the body: close cleanly (conn.go)
}

// WriteHeader records the status and sends it.
func (w *statusWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	if code >= 200 {
		w.wrote = true
		w.status = code
		w.beforeAnswer()
	}
	if w.req != nil && w.req.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		w.discard = true
		p := newProblem(promokit.Errorf(promokit.ENotFound, "no route matches the path"), infoFrom(w.req.Context()).requestID())
		if code == http.StatusMethodNotAllowed {
			p.Type, p.Code, p.Status = problemBase+codeMethodNotAllowed, codeMethodNotAllowed, code
			p.Title = "Method not allowed"
			p.Detail = "the route does not take " + w.req.Method + "; see the Allow header"
		}
		if info := infoFrom(w.req.Context()); info != nil {
			info.code = p.Code
		}
		w.Header().Del("X-Content-Type-Options")
		writeProblem(w.ResponseWriter, p)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write sends b, sending the status 200 first if none was.
func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// WriteString sends s without copying it, when the underlying writer can.
func (w *statusWriter) WriteString(s string) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(s), nil
	}
	return io.WriteString(w.ResponseWriter, s)
}

// Flush sends what was written so far, for streamed responses.
func (w *statusWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// panicError turns the value of a recovered panic into an error that
// carries the stack, for the log.
func panicError(v any) error {
	return fmt.Errorf("panic: %v\n%s", v, debug.Stack())
}
