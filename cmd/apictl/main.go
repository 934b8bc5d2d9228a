// Command apictl measures, load-tests and protects REST APIs on Amazon API
// Gateway. See `apictl --help`.
package main

//go:generate go run . docs --dir ../../docs/cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/apictl/apictl/internal/cli"
)

// Set by the release build: -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = ""
	commit  = ""
	date    = ""
)

func main() {
	os.Exit(run())
}

func run() int {
	// The first Ctrl-C cancels the context: a load test stops and reports
	// what it measured, apply-plan stops between calls. The second exits.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\napictl: stopping (press Ctrl-C again to exit now)")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "apictl: interrupted")
		os.Exit(cli.ExitInterrupted)
	}()
	return cli.Main(ctx, cli.System{
		Args:   os.Args[1:],
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Getenv: os.Getenv,
		Build:  cli.BuildInfo{Version: version, Commit: commit, Date: date},
	})
}
