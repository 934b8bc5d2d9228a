package loadtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A load generator meets servers that misbehave. Each scenario below is a
// raw TCP server (net/http would not misbehave on demand): the attack must
// end by itself within duration + timeout + drain (plus scheduling slack),
// count what went wrong as errors with a reason, and not hang or pile up.

// rawServer accepts connections on loopback and hands each to handle after
// reading the request head. It closes everything at the end of the test.
func rawServer(t testing.TB, handle func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	return rawServerTLS(t, handle, false)
}

// rawServerTLS is rawServer over TLS (a self-signed certificate: attack it
// with Insecure) when overTLS is set; its handlers then get the *tls.Conn.
func rawServerTLS(t testing.TB, handle func(c net.Conn, br *bufio.Reader), overTLS bool) string {
	t.Helper()
	var cfg *tls.Config
	scheme := "http://"
	if overTLS {
		cfg = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
		scheme = "https://"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if cfg != nil {
				c = tls.Server(c, cfg)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					if err := readRequestHead(br); err != nil {
						return
					}
					select {
					case <-done:
						return
					default:
					}
					handle(c, br)
				}
			}()
		}
	}()
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return scheme + ln.Addr().String() + "/"
}

// readRequestHead reads a request line and headers (the attack sends no body on GET).
func readRequestHead(br *bufio.Reader) error {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" || line == "\n" {
			return nil
		}
	}
}

// writeSlowly writes chunk i every interval until the peer is gone.
func writeSlowly(c net.Conn, chunks func(i int) string, every time.Duration) {
	for i := 0; ; i++ {
		if _, err := c.Write([]byte(chunks(i))); err != nil {
			return
		}
		time.Sleep(every)
	}
}

// badServer is a server that misbehaves one way.
type badServer struct {
	name   string
	handle func(c net.Conn, br *bufio.Reader)
	// wantOK: every request should succeed (a legal if unusual server).
	wantOK bool
	// reasons: every error text should contain one of these.
	reasons []string
}

var badServers = []badServer{
	{
		name: "reset mid-response",
		handle: func(c net.Conn, _ *bufio.Reader) {
			fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
			if tc, ok := c.(*tls.Conn); ok {
				c = tc.NetConn() // no close_notify either
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST instead of FIN
			}
			c.Close()
		},
		reasons: []string{"reset", "drain"},
	},
	{
		name: "slowloris headers",
		handle: func(c net.Conn, _ *bufio.Reader) {
			fmt.Fprint(c, "HTTP/1.1 200 OK\r\n")
			writeSlowly(c, func(i int) string { return fmt.Sprintf("X-%d: y\r\n", i) }, 100*time.Millisecond)
		},
		reasons: []string{"timeout", "drain"},
	},
	{
		name: "never-ending body",
		handle: func(c net.Conn, _ *bufio.Reader) {
			fmt.Fprint(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
			writeSlowly(c, func(int) string { return "5\r\nhello\r\n" }, 10*time.Millisecond)
		},
		reasons: []string{"drain", "timeout"},
	},
	{
		name: "huge body",
		handle: func(c net.Conn, _ *bufio.Reader) {
			fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n")
			chunk := strings.Repeat("x", 64<<10)
			writeSlowly(c, func(int) string { return chunk }, 0)
		},
		reasons: []string{"drain", "timeout"},
	},
	{
		name: "HTTP/1.0 with close",
		handle: func(c net.Conn, _ *bufio.Reader) {
			fmt.Fprint(c, "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nhello")
			c.Close()
		},
		wantOK: true,
	},
}

func TestMisbehavingServers(t *testing.T) {
	const (
		rate     = 200
		duration = time.Second
		timeout  = 500 * time.Millisecond
		drain    = 500 * time.Millisecond
		// slack for scheduling on a loaded 2-core machine; a hang is
		// minutes, not seconds.
		slack = 10 * time.Second
	)
	type path struct {
		name         string
		std, overTLS bool
	}
	// net/http over TLS is net/http's own business; the own round tripper
	// is tested over both.
	paths := []path{{"own round tripper", false, false}, {"net/http", true, false}, {"own round tripper, TLS", false, true}}
	for _, tc := range badServers {
		for _, p := range paths {
			name := tc.name + " (" + p.name + ")"
			t.Run(name, func(t *testing.T) {
				url := rawServerTLS(t, tc.handle, p.overTLS)
				start := time.Now()
				c, err := Run(context.Background(), target(url), rate, duration, Options{
					NoAbort: true,
					Attack:  AttackOptions{Timeout: timeout, Drain: drain, StdTransport: p.std, Insecure: p.overTLS},
				})
				el := time.Since(start)
				if err != nil {
					t.Fatal(err)
				}
				if limit := duration + timeout + drain + slack; el > limit {
					t.Errorf("attack took %s, want it over by duration+timeout+drain (%s) plus slack", el, duration+timeout+drain)
				}
				st := c.Steps[0]
				t.Logf("%s: %d requests, success %.2f, codes %v, errors %v, took %s", name, st.Requests, st.SuccessRatio, st.StatusCodes, st.Errors, el)
				// A server that streams without end saturates the CPU: the
				// engine may then stop sending (its generator fell behind);
				// what matters is that what was sent is accounted for.
				if st.Requests == 0 {
					t.Fatalf("no requests sent at %d rps for %s", rate, duration)
				}
				if tc.wantOK {
					if st.SuccessRatio != 1 {
						t.Errorf("success %.2f, want every request to succeed; errors %v", st.SuccessRatio, st.Errors)
					}
					return
				}
				if st.SuccessRatio != 0 {
					t.Errorf("success %.2f, want every request counted as an error", st.SuccessRatio)
				}
				if len(st.Errors) == 0 {
					t.Fatalf("no error reasons recorded")
				}
				for _, e := range st.Errors {
					named := false
					for _, r := range tc.reasons {
						named = named || strings.Contains(strings.ToLower(e), r)
					}
					if !named {
						t.Errorf("error reason %q, want one naming one of %q", e, tc.reasons)
					}
				}
			})
		}
	}
}

// rssBytes reads the process's resident set size from /proc (0 elsewhere).
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkMisbehavingServers reports the peak RSS (sampled every 20 ms)
// and its growth over the start while the engine attacks each misbehaving
// server at 200 rps for 2 s: memory stays bounded whatever the server does.
//
//	go test -run '^$' -bench MisbehavingServers -benchtime 1x ./internal/loadtest
func BenchmarkMisbehavingServers(b *testing.B) {
	for _, tc := range badServers {
		b.Run(strings.ReplaceAll(tc.name, " ", "-"), func(b *testing.B) {
			url := rawServer(b, tc.handle)
			for range b.N {
				runtime.GC()
				base := rssBytes()
				var peak atomic.Int64
				stop := make(chan struct{})
				sampled := make(chan struct{})
				go func() {
					defer close(sampled)
					tick := time.NewTicker(20 * time.Millisecond)
					defer tick.Stop()
					for {
						if r := rssBytes(); r > peak.Load() {
							peak.Store(r)
						}
						select {
						case <-stop:
							return
						case <-tick.C:
						}
					}
				}()
				_, err := Run(context.Background(), target(url), 200, 2*time.Second, Options{
					NoAbort: true, Attack: AttackOptions{Timeout: time.Second, Drain: time.Second},
				})
				close(stop)
				<-sampled
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(peak.Load())/(1<<20), "peak-RSS-MB")
				b.ReportMetric(float64(peak.Load()-base)/(1<<20), "RSS-growth-MB")
			}
		})
	}
}
