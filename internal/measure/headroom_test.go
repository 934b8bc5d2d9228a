package measure_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/measure"
	"github.com/apictl/apictl/internal/sandbox"
)

// TestSandboxHeadroomPerMethod: each method's headroom is against its own
// effective throttle (its setting, else */*, else the account's), the
// API-wide peak is against the account limit (read with GetAccount), and
// no figure compares a rate with a burst.
func TestSandboxHeadroomPerMethod(t *testing.T) {
	clk := &clock{t: now}
	sb := sandbox.New(sandbox.Options{Region: "us-east-1", Now: clk.Now, AccountThrottle: &sandbox.RateLimit{Rate: 3, Burst: 1}})
	url, err := sb.Start("127.0.0.1:0")
	check(t, err)
	t.Cleanup(func() { _ = sb.Close() })
	c, err := awsapi.NewClients(context.Background(), awsapi.Settings{Region: "us-east-1", EndpointURL: url, StaticCredentials: true, MaxAttempts: 1})
	check(t, err)
	setupShop(t, sb, c)

	// prod: GET /pets own 10 rps, POST /cart */* 2.2 rps; dev: no throttle.
	u, err := measure.Run(context.Background(), c, measure.Options{API: "shop", Stage: "prod", Since: time.Hour, ByMethod: true, Now: clk.Now})
	check(t, err)
	// The whole API (peak 2 rps) against the account's 3 rps: 1.5.
	if got := fmt.Sprintf("%v %s %s", u.AccountThrottle, u.AccountThrottleSource, fv(u.Totals.Headroom)); got != "{3 1} account 1.5" {
		t.Errorf("account, API-wide headroom: %s, want {3 1} account 1.5", got)
	}
	for _, m := range u.Methods {
		switch m.Key() {
		case "GET /pets": // peak 2 against its own 10
			if m.ThrottleSource != "method" || fv(m.Headroom) != "5" {
				t.Errorf("GET /pets: %s %s", m.ThrottleSource, fv(m.Headroom))
			}
		case "POST /cart": // peak 1 against */* 2.2, applied to it alone
			if m.ThrottleSource != "stage" || fv(m.Headroom) != "2.2" {
				t.Errorf("POST /cart: %s %s", m.ThrottleSource, fv(m.Headroom))
			}
		}
	}
	for _, w := range u.Warnings {
		if strings.Contains(w, "burst limit") {
			t.Errorf("a warning compares a rate with a burst: %q", w)
		}
	}
	// The API's peak of 2 rps under the account's 3: headroom 1.5 ≥ 1.2, no
	// warning; the stage's */* is never compared with the API's total.
	for _, w := range u.Warnings {
		if strings.Contains(w, "headroom 1.10") || strings.Contains(w, "account-level limit of") {
			t.Errorf("unexpected warning %q", w)
		}
	}
	doc := measure.Stages{u}.Document()
	var b strings.Builder
	for _, bl := range doc.Blocks {
		fmt.Fprintf(&b, "%+v\n", bl)
	}
	for _, want := range []string{"*/* throttle (each method)", "account limit (all APIs)", "3 rps, burst 1", "(*/*)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("document lacks %q", want)
		}
	}
}

// TestSandboxHeadroomAccountFallback: a method with neither its own
// throttle nor */* is held only by the account limit.
func TestSandboxHeadroomAccountFallback(t *testing.T) {
	sb, c, clk := startSandbox(t)
	createREST(t, c.APIGateway, "shop", "prod") // no method settings: neither */* nor a method throttle
	st := sb.Metrics()
	putRequests(st, restErrs, at(12, 0), 600, 0, 0, 10, restDims("shop", "prod", "", ""), restDims("shop", "prod", "GET", "/pets"))
	u, err := measure.Run(context.Background(), c, measure.Options{API: "shop", Stage: "prod", Since: time.Hour, ByMethod: true, Now: clk.Now})
	check(t, err)
	if len(u.Methods) != 1 {
		t.Fatalf("methods %+v", u.Methods)
	}
	m := u.Methods[0]
	// 10 rps against the default account limit of 10,000.
	if got := fmt.Sprintf("%s %v %s %s", m.ThrottleSource, *m.Throttle, fv(m.Headroom), fv(u.Totals.Headroom)); got != "account {10000 5000} 1000 1000" {
		t.Errorf("GET /pets: %s, want account {10000 5000} 1000 1000", got)
	}
	found := false
	for _, w := range u.Warnings {
		found = found || strings.Contains(w, "no */* throttle set on stage prod")
	}
	if !found {
		t.Errorf("warnings %q", u.Warnings)
	}
}
