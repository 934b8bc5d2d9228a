package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// Fault kinds a schedule draws from for a mutating call.
const (
	faultNone      = iota
	faultThrottle  // 429 TooManyRequestsException, not applied
	faultServer    // 500/503, not applied
	faultLost      // applied, but the answer is lost (504 from a proxy, as after a client timeout)
	faultCrash     // the process dies just before this call (the context is cancelled)
	faultKindCount // number of kinds
)

var faultNames = []string{"none", "429", "5xx", "lost-answer", "crash"}

// faultProxy stands between apply's clients and the sandbox and misbehaves
// on mutating calls (anything but GET) as its seeded schedule says. Reads
// go through untouched. After a crash every call fails: the process is gone.
type faultProxy struct {
	mu      sync.Mutex
	rng     *rand.Rand
	p       float64 // chance that a mutating call meets a fault
	crash   context.CancelFunc
	crashed bool
	log     []string
	target  *httputil.ReverseProxy
}

func (fp *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fp.mu.Lock()
	kind := faultNone
	if fp.crashed {
		fp.mu.Unlock()
		http.Error(w, `{"message":"connection refused"}`, http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodGet && fp.rng.Float64() < fp.p {
		kind = 1 + fp.rng.IntN(faultKindCount-1)
	}
	if kind != faultNone {
		fp.log = append(fp.log, fmt.Sprintf("%s %s: %s", r.Method, r.URL.Path, faultNames[kind]))
	}
	if kind == faultCrash {
		fp.crashed = true
		fp.crash()
	}
	fp.mu.Unlock()

	awsErr := func(code int, typ string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-amzn-ErrorType", typ)
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"message":"injected %s"}`, typ)
	}
	switch kind {
	case faultThrottle:
		awsErr(http.StatusTooManyRequests, "TooManyRequestsException")
	case faultServer:
		if r.ContentLength%2 == 0 {
			awsErr(http.StatusInternalServerError, "InternalFailure")
		} else {
			awsErr(http.StatusServiceUnavailable, "ServiceUnavailableException")
		}
	case faultCrash:
		awsErr(http.StatusServiceUnavailable, "ServiceUnavailableException")
	case faultLost:
		rec := httptest.NewRecorder()
		fp.target.ServeHTTP(rec, r) // the call takes effect...
		_, _ = io.Copy(io.Discard, rec.Result().Body)
		w.WriteHeader(http.StatusGatewayTimeout) // ...and its answer never arrives
	default:
		fp.target.ServeHTTP(w, r)
	}
}

// unmanagedState is what must survive any apply: a usage plan and an API
// key on the same stage that apictl does not manage (no apictl:managed tag).
func unmanagedState(t *testing.T, f *fixture, planID, keyID string) string {
	t.Helper()
	ctx := context.Background()
	p, err := f.rest.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: &planID})
	if err != nil {
		t.Fatal(err)
	}
	k, err := f.rest.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: &keyID})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := f.rest.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: &planID})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal([]any{p.ApiStages, p.Throttle, p.Quota, p.Name, p.Description, p.Tags,
		k.Name, k.Enabled, k.Tags, k.StageKeys, len(pk.Items)})
	return string(b)
}

// TestApplyConvergesUnderFaultSchedules is a property test: for each seed a
// random schedule of faults (throttling, server errors, answers lost after
// the call took effect, a crash before the k-th write) hits apply; then at
// most one clean re-run must reach a zero diff, and the usage plan and key
// apictl does not manage must be exactly as they were.
//
// APICTL_FAULT_SEEDS sets the number of seeds (default 100).
func TestApplyConvergesUnderFaultSchedules(t *testing.T) {
	seeds := 100
	if s, err := strconv.Atoi(os.Getenv("APICTL_FAULT_SEEDS")); err == nil && s > 0 {
		seeds = s
	}
	kinds := map[string]int{}
	var kindsMu sync.Mutex
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			legacy, err := f.rest.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("gold"), Description: aws.String("someone else's"),
				ApiStages: []types.ApiStage{{ApiId: aws.String(f.apiID), Stage: aws.String("prod")}}})
			if err != nil {
				t.Fatal(err)
			}
			lkey, err := f.rest.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("legacy-key"), Enabled: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.rest.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: legacy.Id, KeyId: lkey.Id, KeyType: aws.String("API_KEY")}); err != nil {
				t.Fatal(err)
			}
			before := unmanagedState(t, f, aws.ToString(legacy.Id), aws.ToString(lkey.Id))

			// The plan names its managed plan "gold" too: a name clash with an
			// unmanaged plan must never make apictl adopt or change it.
			p := goodPlan(t)
			for i := range p.UsagePlans {
				if p.UsagePlans[i].Name == "gold" {
					p.UsagePlans[i].Name = "gold-managed"
				}
			}

			crashCtx, crash := context.WithCancel(ctx)
			defer crash()
			target, _ := url.Parse(f.sb.URL())
			fp := &faultProxy{rng: rand.New(rand.NewPCG(uint64(seed), 0x5eed)), p: 0.35, crash: crash, target: httputil.NewSingleHostReverseProxy(target)}
			proxy := httptest.NewServer(fp)
			defer proxy.Close()
			cl, err := awsapi.NewClients(ctx, awsapi.Settings{Region: "us-east-1", EndpointURL: proxy.URL, StaticCredentials: true, MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			faulty := Client{REST: cl.APIGateway, HTTP: cl.APIGatewayV2, Region: "us-east-1"}

			ch, err := Diff(crashCtx, faulty, p, DiffOptions{Getenv: env}) // reads meet no faults
			if err != nil {
				t.Fatal(err)
			}
			_, applyErr := Apply(crashCtx, faulty, ch, fastApply())
			fp.mu.Lock()
			schedule := append([]string(nil), fp.log...)
			fp.mu.Unlock()
			kindsMu.Lock()
			for _, s := range schedule {
				kinds[s[strings.LastIndex(s, ": ")+2:]]++
			}
			kindsMu.Unlock()

			// One clean re-run, then nothing left to do.
			if _, _, err := f.apply(t, p, DiffOptions{}, fastApply()); err != nil {
				t.Fatalf("clean re-run after faults %v (apply: %v): %v", schedule, applyErr, err)
			}
			ch, err = Diff(ctx, f.c, p, DiffOptions{Getenv: env})
			if err != nil {
				t.Fatal(err)
			}
			if !ch.Empty() {
				t.Fatalf("after faults %v (apply: %v) and one clean re-run, changes remain:\n%s", schedule, applyErr, ch.Text())
			}
			if after := unmanagedState(t, f, aws.ToString(legacy.Id), aws.ToString(lkey.Id)); after != before {
				t.Fatalf("after faults %v the unmanaged plan or key changed:\nbefore %s\nafter  %s", schedule, before, after)
			}
		})
	}
	t.Logf("faults injected over %d seeds: %v", seeds, kinds)
	if seeds >= 20 && (kinds["lost-answer"] == 0 || kinds["crash"] == 0 || kinds["429"] == 0 || kinds["5xx"] == 0) {
		t.Errorf("the schedules missed a fault kind: %v", kinds)
	}
}
