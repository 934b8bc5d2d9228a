package demo

import "testing"

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"--slo":       "--slo",
		"p99<250ms":   "'p99<250ms'",
		"errors<1%":   "'errors<1%'",
		"/tmp/m.json": "/tmp/m.json",
		"userId=42":   "userId=42",
		"it's":        `'it'"'"'s'`,
		"":            "''",
		"a b":         "'a b'",
		"$HOME":       "'$HOME'",
		"partner:0.5": "partner:0.5",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
