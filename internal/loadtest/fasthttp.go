package loadtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fastTransport is an HTTP/1.1 round tripper for http and https targets
// that does a request's whole round trip in the calling goroutine on a
// connection taken from its own pool: net/http's Transport hands every
// request to a writer goroutine and every response over from a reader
// goroutine of the connection, which is most of a load generator's CPU
// at tens of thousands of requests per second. It sits under the
// http.Client (redirects, basic auth from the URL) and the step transport
// (SigV4, in-flight count), and sends requests to slow when they need
// more than it does: a scheme it was not given (https with --http2 or a
// proxy, http with a proxy), a body of unknown or large length.
//
// Over https it runs crypto/tls on the connection itself: the TLS
// configuration of the slow transport (--insecure, the system roots with
// SSL_CERT_FILE/SSL_CERT_DIR), the URL's host name as SNI as net/http
// sends it, ALPN "http/1.1" only, and a session cache shared by all
// connections so that new ones resume a session instead of a full
// handshake. The handshake is bounded by the timeout too.
//
// Like net/http's Transport it adds "Accept-Encoding: gzip" (the body is
// discarded undecoded), bounds dialing and the wait for the response
// headers with the timeout, keeps idle connections for reuse (up to
// maxIdle per host, 90 s), retries a request once on a new connection when
// a reused one turns out closed by the server before any response byte,
// and ends what is in flight when the request's context is cancelled,
// returning context.Cause.
type fastTransport struct {
	slow    http.RoundTripper
	dialer  *net.Dialer
	timeout time.Duration
	maxIdle int
	// plain: take http requests; tlsBase, when set: take https requests,
	// with a clone of this configuration per server name (read at the
	// first dial, so that it may be set up after the transport).
	plain   bool
	tlsBase *tls.Config

	mu sync.Mutex
	// idle connections by address, [0] http, [1] https.
	idle   [2]map[string][]*fastConn
	tlsFor map[string]*tls.Config // by server name
}

// fastMaxBody: larger request bodies go through net/http, which reads the
// response while it writes the body.
const fastMaxBody = 64 << 10

const fastIdleTimeout = 90 * time.Second

type fastConn struct {
	t      *fastTransport
	addr   string
	tls    int      // idle pool index: 1 for https
	raw    net.Conn // the TCP connection
	c      net.Conn // raw or the TLS connection over it
	br     *bufio.Reader
	bw     *bufio.Writer
	ctx    context.Context // whose cancellation ends the connection
	stop   func() bool
	idleAt time.Time
	// body is the body of the connection's current response (one
	// allocation less per request; it is done with before the connection
	// is reused).
	body fastBody
}

// newFastTransport returns a fastTransport that takes http requests when
// plain is set and https requests when tlsBase is not nil (it must then
// have a ClientSessionCache), and gives the others to slow.
func newFastTransport(slow http.RoundTripper, dialer *net.Dialer, timeout time.Duration, maxIdle int, plain bool, tlsBase *tls.Config) *fastTransport {
	return &fastTransport{
		slow: slow, dialer: dialer, timeout: timeout, maxIdle: maxIdle, plain: plain, tlsBase: tlsBase,
		idle: [2]map[string][]*fastConn{{}, {}}, tlsFor: map[string]*tls.Config{},
	}
}

var aLongTimeAgo = time.Unix(1, 0)

var errFastHeaderTimeout = errors.New("net/http: timeout awaiting response headers")

// takes reports whether the transport sends u itself, and over TLS.
func (t *fastTransport) takes(req *http.Request) (ok, overTLS bool) {
	u := req.URL
	if u == nil || u.Host == "" || req.ContentLength < 0 || req.ContentLength > fastMaxBody ||
		req.ContentLength == 0 && req.Body != nil && req.Body != http.NoBody {
		return false, false
	}
	switch u.Scheme {
	case "http":
		return t.plain, false
	case "https":
		return t.tlsBase != nil, true
	}
	return false, false
}

func (t *fastTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ok, overTLS := t.takes(req)
	if !ok {
		return t.slow.RoundTrip(req)
	}
	ctx := req.Context()
	addr := req.URL.Host
	pool := 0
	if overTLS {
		pool = 1
	}
	if req.URL.Port() == "" {
		addr = net.JoinHostPort(req.URL.Hostname(), [2]string{"80", "443"}[pool])
	}
	for attempt := 0; ; attempt++ {
		if err := context.Cause(ctx); err != nil {
			closeBody(req)
			return nil, err
		}
		pc, reused := t.get(pool, addr)
		if pc == nil {
			var err error
			pc, err = t.dial(ctx, pool, addr, req.URL.Hostname())
			if err != nil {
				closeBody(req)
				if ctx.Err() != nil {
					return nil, context.Cause(ctx)
				}
				return nil, err
			}
		}
		resp, stage, err := pc.roundTrip(ctx, req)
		if err == nil {
			return resp, nil
		}
		pc.close()
		if ctx.Err() != nil {
			closeBody(req)
			return nil, context.Cause(ctx)
		}
		// A kept-alive connection the server closed meanwhile: retry once
		// on a new one when the request can be sent again and, as net/http
		// does, only when it was not written or is idempotent (the server
		// may have acted on it before closing).
		if reused && attempt == 0 && (stage == stageWrite || stage == stageWait && idempotent(req)) &&
			(req.Body == nil || req.Body == http.NoBody || req.GetBody != nil) {
			if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
				body, gerr := req.GetBody()
				if gerr != nil {
					return nil, err
				}
				req = req.Clone(ctx) // never rewrite the caller's request
				req.Body = body
			}
			continue
		}
		closeBody(req)
		return nil, err
	}
}

// errFastTLSHandshakeTimeout is net/http's text for the same.
var errFastTLSHandshakeTimeout = errors.New("net/http: TLS handshake timeout")

// dial opens a connection to addr, over TLS with host as the server name for pool 1.
func (t *fastTransport) dial(ctx context.Context, pool int, addr, host string) (*fastConn, error) {
	raw, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := raw
	if pool == 1 {
		tc := tls.Client(raw, t.tlsConfig(host))
		hctx, cancel := ctx, context.CancelFunc(func() {})
		if t.timeout > 0 {
			hctx, cancel = context.WithTimeoutCause(ctx, t.timeout, errFastTLSHandshakeTimeout)
		}
		err := tc.HandshakeContext(hctx)
		if err != nil && ctx.Err() == nil && hctx.Err() != nil {
			err = context.Cause(hctx)
		}
		cancel()
		if err != nil {
			_ = raw.Close()
			return nil, tlsError(host, err)
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != "" && p != "http/1.1" {
			_ = raw.Close()
			return nil, fmt.Errorf("tls: server %s chose protocol %q, not http/1.1", host, p)
		}
		c = tc
	}
	return &fastConn{t: t, addr: addr, tls: pool, raw: raw, c: c,
		br: bufio.NewReaderSize(c, fastBufSize), bw: bufio.NewWriterSize(c, fastBufSize)}, nil
}

const fastBufSize = 4096

// tlsConfig is the configuration for server name host: the base one with
// host as ServerName (unless it sets one) and ALPN http/1.1 only.
func (t *fastTransport) tlsConfig(host string) *tls.Config {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cfg := t.tlsFor[host]; cfg != nil {
		return cfg
	}
	cfg := t.tlsBase.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{"http/1.1"}
	t.tlsFor[host] = cfg
	return cfg
}

// tlsError says what a failed handshake means for the user: a certificate
// that does not verify gets the way around it.
func tlsError(host string, err error) error {
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return fmt.Errorf("tls handshake with %s: %w (a self-signed or private certificate? its verification can be skipped, or its CA added to SSL_CERT_FILE)", host, err)
	}
	if errors.Is(err, errFastTLSHandshakeTimeout) {
		return err
	}
	return fmt.Errorf("tls handshake with %s: %w", host, err)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// get returns an idle connection to addr from pool (0 http, 1 https), or nil.
func (t *fastTransport) get(pool int, addr string) (*fastConn, bool) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	idle := t.idle[pool]
	for {
		list := idle[addr]
		if len(list) == 0 {
			return nil, false
		}
		pc := list[len(list)-1]
		list[len(list)-1] = nil
		idle[addr] = list[:len(list)-1]
		if now.Sub(pc.idleAt) > fastIdleTimeout || pc.ctx != nil && pc.ctx.Err() != nil {
			go pc.close()
			continue
		}
		return pc, true
	}
}

// put keeps pc for reuse.
func (t *fastTransport) put(pc *fastConn) {
	pc.idleAt = time.Now()
	t.mu.Lock()
	if list := t.idle[pc.tls][pc.addr]; len(list) < t.maxIdle {
		t.idle[pc.tls][pc.addr] = append(list, pc)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	pc.closeIdle()
}

// CloseIdleConnections closes the pooled connections.
func (t *fastTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = [2]map[string][]*fastConn{{}, {}}
	t.mu.Unlock()
	for _, m := range idle {
		for _, list := range m {
			for _, pc := range list {
				pc.closeIdle()
			}
		}
	}
}

// close closes a connection that failed or is in an unknown state: the
// TCP connection, without TLS's close_notify (which could wait on a peer
// that does not read).
func (pc *fastConn) close() {
	if pc.stop != nil {
		pc.stop()
	}
	_ = pc.raw.Close()
}

// closeIdle closes a connection between requests (over TLS with close_notify).
func (pc *fastConn) closeIdle() {
	if pc.stop != nil {
		pc.stop()
	}
	if pc.c != pc.raw && (pc.ctx == nil || pc.ctx.Err() == nil) {
		_ = pc.c.Close()
		return
	}
	_ = pc.raw.Close()
}

// watch makes ctx's cancellation interrupt whatever the connection is doing.
func (pc *fastConn) watch(ctx context.Context) {
	if pc.ctx == ctx {
		return
	}
	if pc.stop != nil {
		pc.stop()
	}
	pc.ctx = ctx
	c := pc.raw
	pc.stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(aLongTimeAgo) })
}

// How far a round trip got before it failed.
const (
	stageWrite = iota // writing the request
	stageWait         // written, no response byte yet
	stageRead         // reading the response
)

func idempotent(req *http.Request) bool {
	switch req.Method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	_, key := req.Header["Idempotency-Key"]
	_, xkey := req.Header["X-Idempotency-Key"]
	return key || xkey
}

// roundTrip writes req and reads the response headers; stage tells how far
// it got when it failed (a retry is only safe before any response byte).
func (pc *fastConn) roundTrip(ctx context.Context, req *http.Request) (resp *http.Response, stage int, err error) {
	pc.watch(ctx)
	if err := pc.writeRequest(req); err != nil {
		return nil, stageWrite, err
	}
	if pc.t.timeout > 0 {
		if err := pc.raw.SetReadDeadline(time.Now().Add(pc.t.timeout)); err != nil {
			return nil, stageWait, err
		}
	}
	if ctx.Err() != nil {
		return nil, stageWait, context.Cause(ctx)
	}
	if _, err := pc.br.Peek(1); err != nil {
		if isTimeout(err) && ctx.Err() == nil {
			return nil, stageRead, errFastHeaderTimeout
		}
		return nil, stageWait, err
	}
	for {
		resp, err = http.ReadResponse(pc.br, req)
		if err != nil {
			if isTimeout(err) && ctx.Err() == nil {
				err = errFastHeaderTimeout
			}
			return nil, stageRead, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		// 1xx informational responses precede the real one.
		_ = resp.Body.Close()
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		_ = resp.Body.Close()
		return nil, stageRead, fmt.Errorf("unexpected 101 switching protocols")
	}
	if pc.t.timeout > 0 {
		if err := pc.raw.SetReadDeadline(time.Time{}); err != nil {
			return nil, stageRead, err
		}
		if ctx.Err() != nil {
			// Not resp.Body.Close(): it would read the body to its end
			// (the deadline ctx set is cleared above); RoundTrip closes
			// the connection instead.
			return nil, stageRead, context.Cause(ctx)
		}
	}
	pc.body = fastBody{pc: pc, ctx: ctx, rc: resp.Body, reuse: !resp.Close && !req.Close}
	resp.Body = &pc.body
	return resp, stageRead, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// writeRequest writes req as net/http's Transport would (request line,
// Host, User-Agent, the headers, Content-Length, Accept-Encoding: gzip).
func (pc *fastConn) writeRequest(req *http.Request) error {
	w := pc.bw
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	w.WriteString(req.Method)
	w.WriteByte(' ')
	if u := req.URL; u.Opaque == "" && !u.ForceQuery {
		// RequestURI without its concatenation
		if p := u.EscapedPath(); p != "" {
			w.WriteString(p)
		} else {
			w.WriteByte('/')
		}
		if u.RawQuery != "" {
			w.WriteByte('?')
			w.WriteString(u.RawQuery)
		}
	} else {
		w.WriteString(u.RequestURI())
	}
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	if _, ok := req.Header["User-Agent"]; !ok {
		w.WriteString("User-Agent: Go-http-client/1.1\r\n")
	} else if ua := req.Header.Get("User-Agent"); ua != "" {
		w.WriteString("User-Agent: ")
		w.WriteString(headerValue(ua))
		w.WriteString("\r\n")
	}
	if req.ContentLength > 0 || req.Method == "POST" || req.Method == "PUT" || req.Method == "PATCH" {
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.FormatInt(req.ContentLength, 10))
		w.WriteString("\r\n")
	}
	if req.Close {
		w.WriteString("Connection: close\r\n")
	}
	if err := req.Header.WriteSubset(w, fastExcluded); err != nil {
		return err
	}
	if req.Header.Get("Accept-Encoding") == "" && req.Header.Get("Range") == "" && req.Method != "HEAD" {
		w.WriteString("Accept-Encoding: gzip\r\n")
	}
	w.WriteString("\r\n")
	if req.Body != nil && req.Body != http.NoBody {
		n, err := io.Copy(w, req.Body)
		_ = req.Body.Close()
		if err != nil {
			return err
		}
		if n != req.ContentLength {
			return fmt.Errorf("http: ContentLength=%d with Body length %d", req.ContentLength, n)
		}
	}
	return w.Flush()
}

var fastExcluded = map[string]bool{"Host": true, "User-Agent": true, "Content-Length": true, "Transfer-Encoding": true, "Trailer": true}

func headerValue(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
	}
	return v
}

// fastBody returns the connection to the pool once the body was read to
// its end and closed, and closes it otherwise.
type fastBody struct {
	pc    *fastConn
	ctx   context.Context
	rc    io.ReadCloser
	reuse bool
	eof   bool
	done  bool
}

func (b *fastBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, errors.New("http: read on closed response body")
	}
	// The connection's deadline is set when ctx ends, but from another
	// goroutine: a body that streams without pause must not outrun it.
	if b.ctx.Err() != nil {
		b.reuse = false
		return 0, context.Cause(b.ctx)
	}
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.reuse = false
		if b.ctx.Err() != nil {
			err = context.Cause(b.ctx)
		}
	}
	return n, err
}

func (b *fastBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	// A body not read to its end is not drained (it may never end, or be
	// gigabytes): like net/http's client, close the connection instead.
	if !b.eof {
		b.pc.close()
		return nil
	}
	err := b.rc.Close()
	if err == nil && b.reuse && b.ctx.Err() == nil {
		b.pc.t.put(b.pc)
		return nil
	}
	b.pc.close()
	return nil
}
