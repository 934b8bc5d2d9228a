package loadtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tlsServer is an httptest TLS server (HTTP/2 offered too, as API Gateway
// does) that counts its new connections and records the SNI, protocol and
// resumption of each request's connection.
type tlsServer struct {
	*httptest.Server
	conns atomic.Int64
	mu    sync.Mutex
	sni   []string
	proto []string
	resum []bool
	// peers: requests by client address (connection)
	peers map[string]int
}

func newTLSServer(t *testing.T, cfg *tls.Config) *tlsServer {
	s := &tlsServer{peers: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.sni = append(s.sni, r.TLS.ServerName)
		s.proto = append(s.proto, r.Proto)
		s.resum = append(s.resum, r.TLS.DidResume)
		s.peers[r.RemoteAddr]++
		s.mu.Unlock()
		_, _ = io.WriteString(w, "tls ok")
	}))
	s.EnableHTTP2 = true
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if cfg != nil {
		s.TLS = cfg
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// strictFast makes the engine's round tripper fail the test when a
// request falls through to net/http.
type failSlow struct{ t *testing.T }

func (f failSlow) RoundTrip(req *http.Request) (*http.Response, error) {
	f.t.Errorf("%s %s went through net/http, want the own round tripper", req.Method, req.URL)
	return nil, errors.New("not the fast path")
}

func fastTLSEngine(t *testing.T, opts AttackOptions) (*Engine, *http.Client) {
	e := NewEngine(opts)
	t.Cleanup(e.Close)
	ft, ok := e.rt.(*fastTransport)
	if !ok || ft.tlsBase == nil {
		t.Fatalf("engine %+v: no own round tripper for https", opts)
	}
	ft.slow = failSlow{t}
	return e, &http.Client{Transport: e.rt}
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestFastTransportTLS: https goes through the own round tripper over
// HTTP/1.1 (ALPN, even when the server offers h2), keeps the connection
// alive, sends the URL's host name as SNI, and a new connection resumes
// the TLS session.
func TestFastTransportTLS(t *testing.T) {
	srv := newTLSServer(t, nil)
	e, client := fastTLSEngine(t, AttackOptions{Insecure: true, Timeout: 5 * time.Second})
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for i := range 5 {
		if body, err := get(client, url); err != nil || body != "tls ok" {
			t.Fatalf("request %d: %q, %v", i, body, err)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 sequential requests, want 1 (keep-alive)", n)
	}
	e.Close() // the next request needs a new connection
	if body, err := get(client, url); err != nil || body != "tls ok" {
		t.Fatalf("after close: %q, %v", body, err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for i := range srv.proto {
		if srv.proto[i] != "HTTP/1.1" || srv.sni[i] != "localhost" {
			t.Errorf("request %d: %s with SNI %q, want HTTP/1.1 with SNI localhost", i, srv.proto[i], srv.sni[i])
		}
	}
	if srv.resum[0] || !srv.resum[len(srv.resum)-1] {
		t.Errorf("resumed %v: want the first connection full, the second resumed", srv.resum)
	}
}

// TestFastTransportTLSVerifies: without --insecure the certificate is
// verified against the configured roots, and a failure says so, with the
// way around it.
func TestFastTransportTLSVerifies(t *testing.T) {
	srv := newTLSServer(t, nil)
	_, client := fastTLSEngine(t, AttackOptions{Timeout: 5 * time.Second})
	_, err := get(client, srv.URL)
	if err == nil || !strings.Contains(err.Error(), "x509") || !strings.Contains(err.Error(), "verification can be skipped") {
		t.Errorf("unknown authority: %v, want the x509 error and the way around it", err)
	}

	// The roots the net/http path uses are the fast path's too.
	e, client := fastTLSEngine(t, AttackOptions{Timeout: 5 * time.Second})
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	e.transport.TLSClientConfig.RootCAs = pool
	if body, err := get(client, srv.URL); err != nil || body != "tls ok" {
		t.Errorf("with the server's CA: %q, %v", body, err)
	}
	// The certificate names 127.0.0.1 and example.com, not localhost.
	_, err = get(client, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1))
	if err == nil || !strings.Contains(err.Error(), "localhost") {
		t.Errorf("name mismatch: %v", err)
	}
}

// TestFastTransportTLSFailures: a handshake the server refuses, a server
// that never answers the handshake and one that closes mid-way are errors
// with their reason, and no goroutine is left behind.
func TestFastTransportTLSFailures(t *testing.T) {
	srv := newTLSServer(t, &tls.Config{MinVersion: tls.VersionTLS13})
	e, client := fastTLSEngine(t, AttackOptions{Timeout: 5 * time.Second, Insecure: true})
	e.transport.TLSClientConfig.MaxVersion = tls.VersionTLS12
	_, err := get(client, srv.URL)
	if err == nil || !strings.Contains(err.Error(), "tls handshake with 127.0.0.1") || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("refused handshake: %v, want the server's alert", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer func() {
		ln.Close()
		wg.Wait()
	}()
	var mode atomic.Int32 // 0: say nothing, 1: close at once
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if mode.Load() == 1 {
					return
				}
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _ = io.Copy(io.Discard, c) // until the client gives up
			}()
		}
	}()
	_, client = fastTLSEngine(t, AttackOptions{Timeout: 300 * time.Millisecond, Insecure: true})
	start := time.Now()
	_, err = get(client, "https://"+ln.Addr().String()+"/")
	if err == nil || !strings.Contains(err.Error(), "TLS handshake timeout") || time.Since(start) > 4*time.Second {
		t.Errorf("silent server: %v after %s, want a handshake timeout", err, time.Since(start))
	}
	mode.Store(1)
	_, err = get(client, "https://"+ln.Addr().String()+"/")
	if err == nil || !strings.Contains(err.Error(), "tls handshake with") || !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Errorf("server closing during the handshake: %v", err)
	}

	// Cancelling the request's context ends a handshake with the cause.
	mode.Store(0)
	_, client = fastTLSEngine(t, AttackOptions{Timeout: 10 * time.Second, Insecure: true})
	cause := errors.New("step over")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(100*time.Millisecond, func() { cancel(cause) })
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+ln.Addr().String()+"/", nil)
	_, err = client.Do(req)
	if !errors.Is(err, cause) {
		t.Errorf("cancelled handshake: %v, want %v", err, cause)
	}
}

// TestEngineTransportChoice: https takes the own round tripper unless
// --http2 or a proxy asks for net/http.
func TestEngineTransportChoice(t *testing.T) {
	for _, tc := range []struct {
		name              string
		opts              AttackOptions
		env               map[string]string
		wantHTTP, wantTLS bool
	}{
		{name: "default", wantHTTP: true, wantTLS: true},
		{name: "http2", opts: AttackOptions{HTTP2: true}, wantHTTP: true},
		{name: "https proxy", env: map[string]string{"HTTPS_PROXY": "http://127.0.0.1:9"}, wantHTTP: true},
		{name: "http proxy", env: map[string]string{"http_proxy": "http://127.0.0.1:9"}, wantTLS: true},
		{name: "std", opts: AttackOptions{StdTransport: true}},
		{name: "no keep-alive", opts: AttackOptions{NoKeepAlive: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
				t.Setenv(k, tc.env[k])
			}
			e := NewEngine(tc.opts)
			defer e.Close()
			ft, _ := e.rt.(*fastTransport)
			gotHTTP, gotTLS := ft != nil && ft.plain, ft != nil && ft.tlsBase != nil
			if gotHTTP != tc.wantHTTP || gotTLS != tc.wantTLS {
				t.Errorf("own round tripper for http %v, https %v; want %v, %v", gotHTTP, gotTLS, tc.wantHTTP, tc.wantTLS)
			}
		})
	}
}

// selfSigned is a throwaway certificate for 127.0.0.1.
func selfSigned(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "loadtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
