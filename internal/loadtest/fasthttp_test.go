package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func fastClient(timeout time.Duration) (*http.Client, *fastTransport) {
	e := NewEngine(AttackOptions{Timeout: timeout})
	ft, ok := e.rt.(*fastTransport)
	if !ok {
		panic("engine without fast transport")
	}
	return &http.Client{Transport: ft}, ft
}

// TestFastTransportWritesLikeNetHTTP: the server sees the same request
// (line, Host, User-Agent, headers, Content-Length, Accept-Encoding, body)
// from the engine's round tripper as from net/http's Transport, and the
// responses (fixed length, chunked, until close, HEAD, 204, redirects) read
// the same.
func TestFastTransportWritesLikeNetHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var keys []string
		for k := range r.Header {
			keys = append(keys, k)
		}
		fmt.Fprintf(w, "%s %s %s host=%s len=%d te=%v body=%q ua=%q ae=%q x=%q n=%d",
			r.Method, r.RequestURI, r.Proto, r.Host, r.ContentLength, r.TransferEncoding, body,
			r.Header.Get("User-Agent"), r.Header.Get("Accept-Encoding"), r.Header.Values("X-Multi"), len(keys))
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			fmt.Fprintf(w, "part%d,", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "bye")
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo?from=redirect", http.StatusFound)
	})
	mux.HandleFunc("/continue", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = io.WriteString(w, "after hints")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	fast, ft := fastClient(5 * time.Second)
	defer ft.CloseIdleConnections()
	std := &http.Client{Transport: &http.Transport{}}
	type tc struct {
		method, path, body string
		header             http.Header
	}
	cases := []tc{
		{method: "GET", path: "/echo?a=1&b=%20x"},
		{method: "POST", path: "/echo", body: `{"name":"x"}`, header: http.Header{"Content-Type": {"application/json"}, "X-Multi": {"1", "2"}}},
		{method: "PUT", path: "/echo"},
		{method: "DELETE", path: "/echo", header: http.Header{"User-Agent": {"custom/1"}, "Host": {"example.test"}}},
		{method: "HEAD", path: "/echo"},
		{method: "GET", path: "/chunked"},
		{method: "GET", path: "/close"},
		{method: "GET", path: "/empty"},
		{method: "GET", path: "/redirect"},
		{method: "GET", path: "/continue"},
	}
	do := func(c *http.Client, k tc) string {
		var body io.Reader
		if k.body != "" {
			body = strings.NewReader(k.body)
		}
		req, err := http.NewRequest(k.method, srv.URL+k.path, body)
		if err != nil {
			t.Fatal(err)
		}
		for h, vs := range k.header {
			req.Header[h] = vs
		}
		if host := k.header.Get("Host"); host != "" {
			req.Host = host
		}
		resp, err := c.Do(req)
		if err != nil {
			return "error: " + err.Error()
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return "read error: " + err.Error()
		}
		return fmt.Sprintf("%d %q %s", resp.StatusCode, b, resp.Header.Get("Content-Type"))
	}
	for round := range 2 { // the second round reuses connections
		for _, k := range cases {
			want, got := do(std, k), do(fast, k)
			if got != want {
				t.Errorf("round %d %s %s:\n got %s\nwant %s", round, k.method, k.path, got, want)
			}
		}
	}
}

// TestFastTransportRetriesClosedIdleConnection: a kept-alive connection
// the server closed meanwhile is replaced without an error.
func TestFastTransportRetriesClosedIdleConnection(t *testing.T) {
	var conns atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				// One response per connection, then close without saying so.
				defer c.Close()
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}()
		}
	}()
	client, ft := fastClient(5 * time.Second)
	defer ft.CloseIdleConnections()
	for i := range 5 {
		resp, err := client.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		time.Sleep(20 * time.Millisecond) // let the server's close arrive
	}
	if n := conns.Load(); n < 5 {
		t.Errorf("%d connections for 5 requests on a server that closes each", n)
	}
	// As net/http: a written request that is not idempotent is not sent again.
	post := func(key string) error {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/", strings.NewReader("x"))
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		time.Sleep(20 * time.Millisecond)
		return nil
	}
	if err := post("k1"); err != nil {
		t.Fatalf("post with idempotency key: %v", err)
	}
	if err := post(""); err == nil {
		t.Errorf("post on a connection the server closed: no error, want no retry")
	}
}

// TestFastTransportCancelAndTimeout: cancelling the context ends a request
// waiting for its response with the context's cause; a server that never
// answers is cut by the header timeout with net/http's error text.
func TestFastTransportCancelAndTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	client, ft := fastClient(300 * time.Millisecond)
	defer ft.CloseIdleConnections()

	start := time.Now()
	_, err := client.Get(srv.URL)
	if err == nil || !strings.Contains(err.Error(), "timeout awaiting response headers") || time.Since(start) > 3*time.Second {
		t.Errorf("header timeout: %v after %s", err, time.Since(start))
	}

	client, ft2 := fastClient(10 * time.Second)
	defer ft2.CloseIdleConnections()
	cause := errors.New("step over")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(100*time.Millisecond, func() { cancel(cause) })
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	start = time.Now()
	_, err = client.Do(req)
	if !errors.Is(err, cause) || time.Since(start) > 3*time.Second {
		t.Errorf("cancel: %v after %s, want %v", err, time.Since(start), cause)
	}
}
