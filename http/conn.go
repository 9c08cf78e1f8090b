package http

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promokit/promokit"
)

// Defaults of ConnLimits, used where a field is zero.
const (
	// DefaultReadTimeout bounds how long a request may take to arrive,
	// its headers and its body: long enough for a 1 MiB JSON body at
	// 300 kbit/s, short enough that a client trickling a body cannot hold
	// a connection for long.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds how long the server may take to answer
	// once a request has arrived, and how long a streamed export may wait
	// for its client between two flushes.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout is how long a keep-alive connection may wait for
	// its next request.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultImportTimeout bounds how long a CSV import's body may take
	// to arrive: a whole 64 MiB file at 150 kbit/s.
	DefaultImportTimeout = time.Hour
	// DefaultMaxConnsPerAddr is how many connections one client address
	// may hold open at once.
	DefaultMaxConnsPerAddr = 256
)

// readHeaderTimeout bounds how long a request's headers may take to
// arrive, when the read timeout is not shorter.
const readHeaderTimeout = 10 * time.Second

// ConnLimits bounds what one client may take of the server's connections
// and time. For each duration, zero means its default and a negative
// value no limit; for MaxConnsPerAddr, zero means its default and a
// negative value no cap.
type ConnLimits struct {
	// ReadTimeout bounds how long a request may take to arrive, headers
	// and body, except the body of a CSV import or of a payout's proof
	// file (ImportTimeout).
	ReadTimeout time.Duration
	// WriteTimeout bounds how long the answer may take once the request
	// has arrived; a streamed export gets as long again after each
	// flush, so that an export of millions of rows is cut only when its
	// client stops reading.
	WriteTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection waits for its next
	// request before the server closes it.
	IdleTimeout time.Duration
	// ImportTimeout bounds how long the body of an authenticated CSV
	// import, or of a payout's proof file (the PUT, or the form that
	// records a payout with it), may take to arrive; its answer then has
	// WriteTimeout more.
	ImportTimeout time.Duration
	// MaxConnsPerAddr caps the connections one client address (an IPv6
	// client's /64) holds open at once, idle ones included: the
	// listener of Server.Listener closes any more at once. It does not
	// apply with Config.TrustProxy, when every connection comes from the
	// proxy: the proxy is then the place to cap each client's.
	MaxConnsPerAddr int
}

// withDefaults returns l with its zero fields set to their defaults and
// its negative ones to zero, the value net/http reads as no limit.
func (l ConnLimits) withDefaults() ConnLimits {
	dur := func(d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			*d = 0
		}
	}
	dur(&l.ReadTimeout, DefaultReadTimeout)
	dur(&l.WriteTimeout, DefaultWriteTimeout)
	dur(&l.IdleTimeout, DefaultIdleTimeout)
	dur(&l.ImportTimeout, DefaultImportTimeout)
	switch {
	case l.MaxConnsPerAddr == 0:
		l.MaxConnsPerAddr = DefaultMaxConnsPerAddr
	case l.MaxConnsPerAddr < 0:
		l.MaxConnsPerAddr = 0
	}
	return l
}

// HTTPServer returns an http.Server that serves s with the timeouts of
// its ConnLimits. The caller sets its ErrorLog and serves it on
// s.Listener(ln).
func (s *Server) HTTPServer() *http.Server {
	hdr := readHeaderTimeout
	if l := s.limits.ReadTimeout; l > 0 && l < hdr {
		hdr = l
	}
	idle := s.limits.IdleTimeout
	if idle == 0 {
		idle = -1 // net/http would take the read timeout for a zero one
	}
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: hdr,
		ReadTimeout:       s.limits.ReadTimeout,
		WriteTimeout:      s.limits.WriteTimeout,
		IdleTimeout:       idle,
		MaxHeaderBytes:    64 << 10,
	}
}

// Listener returns ln capped at ConnLimits.MaxConnsPerAddr connections
// per client address, or ln itself when there is no cap or the server
// trusts a proxy (every connection then comes from the proxy's address).
func (s *Server) Listener(ln net.Listener) net.Listener {
	if s.limits.MaxConnsPerAddr <= 0 || s.trustProxy {
		return ln
	}
	return &connLimiter{Listener: ln, max: s.limits.MaxConnsPerAddr, refused: s.connsRefused, open: make(map[netip.Prefix]int)}
}

// newConnsRefused returns the counter of connections refused for their
// address's cap, registered on reg.
func newConnsRefused(reg prometheus.Registerer) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "promokit", Name: "http_connections_refused_total",
		Help: "Connections closed as soon as accepted because their client address held as many open as --max-conns-per-addr allows.",
	})
	reg.MustRegister(c)
	return c
}

// connLimiter is a listener that holds at most max connections open at
// once from one client address: it closes any more as soon as it accepts
// them, before reading a byte, and goes on accepting others.
type connLimiter struct {
	net.Listener
	max     int
	refused prometheus.Counter

	mu   sync.Mutex
	open map[netip.Prefix]int // open connections by client address
}

// Accept returns the next connection whose address is under its cap.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, ok := clientPrefix(c.RemoteAddr())
		if !ok {
			return c, nil
		}
		l.mu.Lock()
		full := l.open[key] >= l.max
		if !full {
			l.open[key]++
		}
		l.mu.Unlock()
		if full {
			_ = c.Close()
			if l.refused != nil {
				l.refused.Inc()
			}
			continue
		}
		return &limitedConn{Conn: c, release: func() { l.release(key) }}, nil
	}
}

// release counts a connection of key closed.
func (l *connLimiter) release(key netip.Prefix) {
	l.mu.Lock()
	if l.open[key] <= 1 {
		delete(l.open, key)
	} else {
		l.open[key]--
	}
	l.mu.Unlock()
}

// clientPrefix returns the address a connection counts against: the
// client's IPv4 address, or the /64 of its IPv6 address, since one IPv6
// host usually holds a whole /64.
func clientPrefix(a net.Addr) (netip.Prefix, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap().WithZone("")
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	return p, err == nil
}

// limitedConn is a connection counted by a connLimiter until it closes.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and counts it closed, once.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite half-closes a TCP connection, which net/http does before it
// closes one whose request it did not read to the end.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Early answers. A request may be answered before its body is read: a
// 401 (its body is never read), a 404 or 405 of the router, a 415, a 413
// over the limit. The server must then not leave unread data in the
// socket when it closes the connection, since the close would send a
// reset that can destroy the answer in flight, and a client that sends
// its whole body before it reads (many do) would lose the answer. So:
//   - an authenticated request whose unread rest is at most drainLimit
//     bytes has it read and dropped before the answer, within
//     drainTimeout, so that its connection stays open;
//   - any other (a request without a valid key, a larger or slower
//     rest) is answered with Connection: close, and once the answer is
//     sent the server reads and drops what the client still sends, until
//     the client closes, lingerLimit bytes or lingerTimeout, before it
//     closes the connection.
//
// A request without a valid key thus has nothing of its body read before
// its 401, and cannot hold the connection longer than lingerTimeout after
// it.
const (
	drainLimit    = 64 << 10
	drainTimeout  = time.Second
	lingerLimit   = 16 << 20
	lingerTimeout = 2 * time.Second
)

// trackedBody is a request body that counts what was read of it.
type trackedBody struct {
	io.ReadCloser
	n      int64
	eof    bool
	failed bool // a read failed other than at the end, such as a timeout
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.failed = true
	}
	return n, err
}

// trackBody has w count what the handlers read of r's body, so that an
// answer sent before the end of the body can keep or close the connection
// cleanly (beforeAnswer). It replaces r.Body; r is the server's copy of
// the request, not net/http's.
func (w *statusWriter) trackBody(r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || r.ProtoMajor != 1 {
		return
	}
	w.body.ReadCloser = r.Body
	r.Body = &w.body
}

// beforeAnswer runs as the status of the answer is written: when the
// request's body is not read to its end, it drains a short rest of an
// authenticated request, or marks the answer Connection: close and the
// connection for lingering (lingerClose).
func (w *statusWriter) beforeAnswer() {
	b := &w.body
	if b.ReadCloser == nil || b.eof || w.req == nil {
		return
	}
	rest := int64(-1) // unknown: a chunked body
	if cl := w.req.ContentLength; cl >= 0 {
		if rest = cl - b.n; rest <= 0 {
			return
		}
	}
	_, authed := promokit.PrincipalFromContext(w.req.Context())
	waiting := b.n == 0 && w.req.Header.Get("Expect") != "" // sends no body before a 100 Continue
	if authed && !b.failed && !waiting && rest <= drainLimit && w.drain() {
		return
	}
	w.Header().Set("Connection", "close")
	w.linger = true
}

// drain reads and drops the rest of the body, at most drainLimit bytes
// within drainTimeout, and reports whether it reached the end.
func (w *statusWriter) drain() bool {
	rc := http.NewResponseController(w.ResponseWriter)
	if rc.SetReadDeadline(time.Now().Add(drainTimeout)) != nil {
		return false
	}
	_, err := io.CopyN(io.Discard, &w.body, drainLimit+1)
	return err == io.EOF
}

// lingerClose runs once the handler is done, for an answer that
// beforeAnswer marked: it sends the answer, then reads and drops what
// the client still sends until the body ends, lingerLimit bytes or
// lingerTimeout, so that net/http closes a connection with nothing unread
// rather than resetting it.
func (w *statusWriter) lingerClose() {
	if !w.linger {
		return
	}
	rc := http.NewResponseController(w.ResponseWriter)
	if rc.Flush() != nil || rc.SetReadDeadline(time.Now().Add(lingerTimeout)) != nil {
		return
	}
	_, _ = io.CopyN(io.Discard, w.body.ReadCloser, lingerLimit)
}

// importDeadlines gives the handler of a CSV import, or of a payout's
// proof file, ImportTimeout to read its body, instead of the server's read
// timeout, and WriteTimeout more to answer. Only an authenticated request reaches it: ServeHTTP answers
// any other before routing.
func (s *Server) importDeadlines(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		var read, write time.Time // zero: no deadline
		if d := s.limits.ImportTimeout; d > 0 {
			read = now.Add(d)
			if s.limits.WriteTimeout > 0 {
				write = read.Add(s.limits.WriteTimeout)
			}
		}
		_ = rc.SetReadDeadline(read)
		_ = rc.SetWriteDeadline(write)
		h.ServeHTTP(w, r)
	})
}

// formDeadlines gives a request sent as a form (a payout with its proof
// file) the deadlines of importDeadlines; a JSON request keeps the
// server's.
func (s *Server) formDeadlines(h http.Handler) http.Handler {
	upload := s.importDeadlines(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isForm(r) {
			upload.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// extendWrite gives a streamed answer WriteTimeout more to be written,
// from now: called at each flush of an export.
func (s *Server) extendWrite(rc *http.ResponseController) {
	if d := s.limits.WriteTimeout; d > 0 {
		_ = rc.SetWriteDeadline(time.Now().Add(d))
	}
}
