package main

import (
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/apictl/apictl/internal/sandbox/backend"
)

// serveBackend starts the sandbox's sample backend on loopback for the
// rest of the script and sets the variable args[0] to its URL:
// serve VAR [SLOTS SERVICE QUEUE] (default 64 slots of 1ms: 64,000 rps).
func serveBackend(ts *testscript.TestScript, neg bool, args []string) {
	if neg || (len(args) != 1 && len(args) != 4) {
		ts.Fatalf("usage: serve VAR [SLOTS SERVICE QUEUE]")
	}
	cfg := backend.Config{Slots: 64, Service: time.Millisecond, Queue: 64}
	if len(args) == 4 {
		var err error
		if cfg.Slots, err = strconv.Atoi(args[1]); err != nil {
			ts.Fatalf("serve: slots: %v", err)
		}
		if cfg.Service, err = time.ParseDuration(args[2]); err != nil {
			ts.Fatalf("serve: service: %v", err)
		}
		if cfg.Queue, err = strconv.Atoi(args[3]); err != nil {
			ts.Fatalf("serve: queue: %v", err)
		}
	}
	srv := httptest.NewServer(backend.New(cfg))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL+"/")
}
