// Command server is the trivial loopback HTTP server of the load-generator
// benchmark (bench/loadtest-max-rate.sh): it answers every request with
// 200 "ok" and nothing else, so the generators, not the server, are measured
// as far as one machine allows.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "listen address (loopback)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen %s: %v", *addr, err)
	}
	fmt.Fprintf(os.Stderr, "bench server on http://%s\n", ln.Addr())
	body := []byte("ok")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})}
	log.Fatal(srv.Serve(ln))
}
