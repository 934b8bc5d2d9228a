package loadtest

import (
	"errors"
	"testing"
)

func TestLedgerInvokeURLFor(t *testing.T) {
	const sb = "http://127.0.0.1:4566"
	for _, c := range []struct {
		discovery, override, want string
		mismatch                  bool
	}{
		{"", "", "https://a1.execute-api.eu-west-1.amazonaws.com/prod", false},
		{sb, "", sb + "/restapis/a1/prod/_user_request_", false},
		{"", "https://api.example.com/prod/", "https://api.example.com/prod", false},
		{sb, "http://a1.execute-api.localhost:4566/prod", "http://a1.execute-api.localhost:4566/prod", false},
		{"http://localhost:4566", "http://127.0.0.1:4566/x", "http://127.0.0.1:4566/x", false},
		{"https://emu.internal:4566", "https://a1.execute-api.emu.internal:4566/prod", "https://a1.execute-api.emu.internal:4566/prod", false},
		// Discovered on an emulator, load to AWS (or elsewhere): refused.
		{sb, "https://a1.execute-api.eu-west-1.amazonaws.com/prod", "", true},
		{"https://emu.internal:4566", "https://other.example.com/prod", "", true},
		// Discovered on AWS, load to this machine: refused.
		{"", "http://127.0.0.1:8080/prod", "", true},
	} {
		inv, err := InvokeURLFor(c.discovery, "eu-west-1", "prod", c.override)
		var me *EndpointMismatchError
		if c.mismatch {
			if !errors.As(err, &me) {
				t.Errorf("%q → %q: want a mismatch, got %v", c.discovery, c.override, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q → %q: %v", c.discovery, c.override, err)
			continue
		}
		if got := inv("a1"); got != c.want {
			t.Errorf("%q → %q: %q, want %q", c.discovery, c.override, got, c.want)
		}
	}
}
