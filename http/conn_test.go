package http

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promokit/promokit/dbtest"
	"github.com/promokit/promokit/storage"
)

// rawConn is a client connection that writes requests byte by byte, as a
// client that sends its whole request before it reads the answer does.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// dialRaw connects to the server of b. The connection's deadline only
// keeps a broken server from hanging the test.
func dialRaw(t *testing.T, b *testBundle) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(b.c.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// send writes a request's headers, declaring a body of length bytes, then
// the first sent bytes of that body.
func (rc *rawConn) send(method, path, key, contentType string, length, sent int) error {
	var h strings.Builder
	fmt.Fprintf(&h, "%s %s HTTP/1.1\r\nHost: promokit.test\r\n", method, path)
	if key != "" {
		fmt.Fprintf(&h, "Authorization: Bearer %s\r\n", key)
	}
	if contentType != "" {
		fmt.Fprintf(&h, "Content-Type: %s\r\n", contentType)
	}
	fmt.Fprintf(&h, "Content-Length: %d\r\n\r\n", length)
	if _, err := io.WriteString(rc.c, h.String()); err != nil {
		return err
	}
	_, err := rc.c.Write(bytes.Repeat([]byte("x"), sent))
	return err
}

// answer reads one answer, which must be a whole problem document of
// status want, and returns it.
func (rc *rawConn) answer(what string, want int) *http.Response {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.t.Fatalf("%s: read the answer: %v", what, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatalf("%s: read the answer's body: %v", what, err)
	}
	var p problemDoc
	if resp.StatusCode != want || resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &p) != nil || p.Status != want {
		rc.t.Fatalf("%s: answer %d %q: %s, want a %d problem", what, resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
	}
	return resp
}

// closedCleanly checks that the server ends the connection with a close,
// not a reset: a reset can destroy an answer still in flight.
func (rc *rawConn) closedCleanly(what string) {
	rc.t.Helper()
	if _, err := rc.br.ReadByte(); err != io.EOF {
		rc.t.Errorf("%s: after the answer, %v; want the connection closed cleanly (EOF)", what, err)
	}
}

// keptAlive checks that the connection serves another request.
func (rc *rawConn) keptAlive(what string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, "GET /healthz HTTP/1.1\r\nHost: promokit.test\r\n\r\n"); err != nil {
		rc.t.Fatalf("%s: the connection does not take another request: %v", what, err)
	}
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		rc.t.Fatalf("%s: the connection does not serve another request: %v", what, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
}

// TestEarlyAnswers sends requests that are answered before their body is
// read, as a client that writes its whole request before it reads: it
// must be able to write it all and read the whole answer. A short body of
// an authenticated request keeps the connection open; a long one, or any
// body without a valid key, closes it cleanly after the answer.
func TestEarlyAnswers(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		const small, large = 1 << 10, 8 << 20
		tests := []struct {
			name, method, path, key, contentType string
			size, status                         int
			keepAlive                            bool
		}{
			{"401 small", "POST", "/v1/stores", "", "application/json", small, 401, false},
			{"401 large", "POST", "/v1/stores", "", "application/json", large, 401, false},
			{"401 bad key", "POST", "/v1/keys", "pk_notakeyatall", "application/json", small, 401, false},
			{"415 small", "POST", "/v1/stores", b.admin, "text/plain", small, 415, true},
			{"415 large", "POST", "/v1/stores", b.admin, "text/plain", large, 415, false},
			{"404 small", "POST", "/v1/nothing", b.admin, "application/json", small, 404, true},
			{"404 large", "POST", "/v1/nothing", b.admin, "application/json", large, 404, false},
			{"405 small", "POST", "/v1/settings", b.admin, "application/json", small, 405, true},
			{"405 large", "POST", "/v1/settings", b.admin, "application/json", large, 405, false},
			{"413", "POST", "/v1/stores", b.admin, "application/json", large, 413, false},
			{"anonymous route", "POST", "/healthz", "", "application/json", small, 405, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				rc := dialRaw(t, b)
				if err := rc.send(tt.method, tt.path, tt.key, tt.contentType, tt.size, tt.size); err != nil {
					t.Fatalf("the client could not send its whole request: %v", err)
				}
				resp := rc.answer(tt.name, tt.status)
				if tt.keepAlive {
					if resp.Close {
						t.Fatalf("the answer closes the connection: %v", resp.Header)
					}
					rc.keptAlive(tt.name)
					return
				}
				if !resp.Close {
					t.Errorf("the answer does not say Connection: close: %v", resp.Header)
				}
				rc.closedCleanly(tt.name)
			})
		}
	})
}

// TestUnauthenticatedBodyNotRead sends requests without a valid key that
// declare a body and send none of it: the 401 comes at once, which it
// could not if the server waited for the body, and says Connection:
// close, whatever length the request declares.
func TestUnauthenticatedBodyNotRead(t *testing.T) {
	t.Parallel()
	dbtest.ForEach(t, func(t *testing.T, open func(*testing.T) storage.DB) {
		t.Parallel()
		b := setup(t, open)
		for _, length := range []int{100, 200 << 10, 64 << 20} {
			t.Run(fmt.Sprint(length), func(t *testing.T) {
				rc := dialRaw(t, b)
				if err := rc.send("POST", "/v1/promotions/x/codes/import", "", "text/csv", length, 0); err != nil {
					t.Fatal(err)
				}
				resp := rc.answer("no key", http.StatusUnauthorized)
				if !resp.Close {
					t.Errorf("the 401 does not close the connection: %v", resp.Header)
				}
				// Declared whole, so that it is whole at once, while the
				// server reads what may still come.
				if resp.ContentLength <= 0 {
					t.Errorf("the 401 does not declare its length: %v", resp.Header)
				}
				// The client goes away without sending its body; the
				// server stops waiting for it.
				if err := rc.c.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
				if _, err := rc.br.ReadByte(); err != io.EOF && !errors.Is(err, net.ErrClosed) {
					t.Errorf("after the 401: %v, want the connection closed", err)
				}
			})
		}
		if logs := b.logs.String(); strings.Count(logs, "status=401") < 3 {
			t.Errorf("the 401s are not logged:\n%s", logs)
		}
	})
}

// healthz sends GET /healthz on c and reports whether it was answered 200.
func healthz(c net.Conn) bool {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: promokit.test\r\n\r\n"); err != nil {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// dialFrom connects to addr from the loopback address local.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestConnsPerAddr checks the cap on the connections of one client
// address: past it, another connection from that address is closed
// unanswered while another address is served, and once one closes the
// address is served again. Behind a trusted proxy, every connection comes
// from the proxy, and the cap does not apply.
func TestConnsPerAddr(t *testing.T) {
	t.Parallel()
	start := func(t *testing.T, trustProxy bool) (string, *prometheus.Registry) {
		reg := prometheus.NewRegistry()
		srv := NewServer(Config{Registry: reg, TrustProxy: trustProxy, Limits: ConnLimits{MaxConnsPerAddr: 2}})
		ts := httptest.NewUnstartedServer(srv)
		ts.Listener = srv.Listener(ts.Listener)
		ts.Start()
		t.Cleanup(ts.Close)
		return ts.Listener.Addr().String(), reg
	}

	t.Run("capped", func(t *testing.T) {
		t.Parallel()
		addr, reg := start(t, false)
		a1, a2 := dialFrom(t, "127.0.0.1", addr), dialFrom(t, "127.0.0.1", addr)
		if !healthz(a1) || !healthz(a2) {
			t.Fatal("the first two connections are not served")
		}
		if healthz(dialFrom(t, "127.0.0.1", addr)) {
			t.Error("a third connection from the same address is served")
		}
		if !healthz(dialFrom(t, "127.0.0.2", addr)) {
			t.Error("a connection from another address is not served")
		}
		if got := refusedCount(t, reg); got < 1 {
			t.Errorf("connections refused counted %v, want at least 1", got)
		}
		// Once one of the two closes, the server notices and the address
		// is served again.
		a1.Close()
		for i := 0; ; i++ {
			if healthz(dialFrom(t, "127.0.0.1", addr)) {
				break
			}
			if i == 200 {
				t.Fatal("the address is not served again after one of its connections closed")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	t.Run("behind a proxy", func(t *testing.T) {
		t.Parallel()
		addr, _ := start(t, true)
		for i := range 4 {
			if !healthz(dialFrom(t, "127.0.0.1", addr)) {
				t.Fatalf("connection %d from the proxy's address is not served", i+1)
			}
		}
	})
}

// refusedCount returns the count of refused connections in reg.
func refusedCount(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "promokit_http_connections_refused_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no promokit_http_connections_refused_total")
	return 0
}
