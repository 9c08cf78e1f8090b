package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// slowConn is a raw connection to a running Main, for clients that send
// their requests slowly. Its deadline only keeps a broken server from
// hanging the test.
type slowConn struct {
	tb testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dialSlow(tb testing.TB, base, local string) *slowConn {
	tb.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &slowConn{tb: tb, c: c, br: bufio.NewReader(c)}
}

// send writes s; it reports a failed write, since the server may have
// closed the connection.
func (sc *slowConn) send(s string) error {
	_, err := io.WriteString(sc.c, s)
	return err
}

// answer reads the next answer and its body; nil when the connection
// ends first.
func (sc *slowConn) answer() (*http.Response, string) {
	resp, err := http.ReadResponse(sc.br, nil)
	if err != nil {
		return nil, ""
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// ended reports whether the server closed the connection.
func (sc *slowConn) ended() bool {
	_, err := sc.br.ReadByte()
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return err != nil
}

// post returns the head of a POST with a body of length bytes.
func post(path, key, contentType string, length int) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: promokit.test\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		path, key, contentType, length)
}

// TestSlowClients runs the server with a 1 s read and idle timeout: a
// client with a valid key that trickles a JSON body over more than that
// gets no store created and its connection closed, while a CSV import
// trickled as slowly is read to its end (it has --import-timeout), and
// an idle keep-alive connection is closed after the idle timeout.
func TestSlowClients(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			keyFile := filepath.Join(t.TempDir(), "admin.key")
			m := MustRunMain(t, "serve", "--database-url", db.fresh(t), "--admin-key-file", keyFile,
				"--read-timeout", "1s", "--idle-timeout", "1s", "--import-timeout", "1m")
			admin := client{t, m.URL(), readKeyFile(t, keyFile)}
			store := admin.do("POST", "/v1/stores", map[string]any{"name": "Slow Store"}, http.StatusCreated)["id"].(string)
			promo := admin.do("POST", "/v1/promotions", map[string]any{"store_id": store, "name": "Slow",
				"type": "amount_off", "amount_off": 100}, http.StatusCreated)["id"].(string)

			t.Run("trickled JSON is cut", func(t *testing.T) {
				t.Parallel()
				body := `{"name":"Trickled Store"}`
				sc := dialSlow(t, m.URL(), "127.0.0.1")
				if err := sc.send(post("/v1/stores", admin.key, "application/json", len(body)) + body[:5]); err != nil {
					t.Fatal(err)
				}
				time.Sleep(1500 * time.Millisecond) // past the read timeout
				_ = sc.send(body[5:])
				resp, text := sc.answer()
				if resp != nil && resp.StatusCode < 400 {
					t.Fatalf("a body trickled past the read timeout was accepted: %d %s", resp.StatusCode, text)
				}
				if !sc.ended() {
					t.Error("the connection of a trickling client is still open")
				}
				for _, s := range admin.list("/v1/stores") {
					if s["name"] == "Trickled Store" {
						t.Errorf("the trickled store was created: %v", s)
					}
				}
			})

			t.Run("trickled import is read", func(t *testing.T) {
				t.Parallel()
				csv := "code\nSLOW-ONE\nSLOW-TWO\n"
				sc := dialSlow(t, m.URL(), "127.0.0.1")
				if err := sc.send(post("/v1/promotions/"+promo+"/codes/import", admin.key, "text/csv", len(csv)) + csv[:9]); err != nil {
					t.Fatal(err)
				}
				time.Sleep(1500 * time.Millisecond) // past the read timeout, within the import's
				if err := sc.send(csv[9:]); err != nil {
					t.Fatalf("the import's connection was cut: %v", err)
				}
				if resp, text := sc.answer(); resp == nil || resp.StatusCode != http.StatusCreated {
					t.Fatalf("trickled import: %v %s", resp, text)
				}
			})

			t.Run("idle connection is closed", func(t *testing.T) {
				t.Parallel()
				sc := dialSlow(t, m.URL(), "127.0.0.1")
				if err := sc.send("GET /healthz HTTP/1.1\r\nHost: promokit.test\r\n\r\n"); err != nil {
					t.Fatal(err)
				}
				if resp, _ := sc.answer(); resp == nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("/healthz: %v", resp)
				}
				if !sc.ended() {
					t.Error("an idle connection is still open")
				}
			})
		})
	}
}

// TestMaxConnsPerAddr runs the server with --max-conns-per-addr 2: a
// third connection from one address is closed unanswered while another
// address is served; with --trust-proxy the cap does not apply.
func TestMaxConnsPerAddr(t *testing.T) {
	t.Parallel()
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			healthz := func(sc *slowConn) bool {
				if sc.send("GET /healthz HTTP/1.1\r\nHost: promokit.test\r\n\r\n") != nil {
					return false
				}
				resp, _ := sc.answer()
				return resp != nil && resp.StatusCode == http.StatusOK
			}
			m := MustRunMain(t, "serve", "--database-url", db.fresh(t), "--max-conns-per-addr", "2")
			for i := range 2 {
				if !healthz(dialSlow(t, m.URL(), "127.0.0.1")) {
					t.Fatalf("connection %d is not served", i+1)
				}
			}
			if healthz(dialSlow(t, m.URL(), "127.0.0.1")) {
				t.Error("a third connection from one address is served")
			}
			if !healthz(dialSlow(t, m.URL(), "127.0.0.2")) {
				t.Error("another address is not served")
			}

			p := MustRunMain(t, "serve", "--database-url", db.fresh(t), "--max-conns-per-addr", "2", "--trust-proxy")
			for i := range 3 {
				if !healthz(dialSlow(t, p.URL(), "127.0.0.1")) {
					t.Fatalf("behind a proxy, connection %d is not served", i+1)
				}
			}
		})
	}
}
