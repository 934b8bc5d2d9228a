package demo

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/apictl/apictl/internal/sandbox/backend"
)

func TestNewWorldCreatesTheAPIThroughTheSDK(t *testing.T) {
	ctx := context.Background()
	methods := []Method{
		{Verb: "GET", Path: "/cart/profile/{userId}", Service: 5 * time.Millisecond, Share: 0.5},
		{Verb: "POST", Path: "/orders", Service: 5 * time.Millisecond, Share: 0.5},
	}
	w, err := NewWorld(ctx, "cart-api", "prod", Pool{Slots: 2, Queue: 2}, methods, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	res, err := w.Clients.APIGateway.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: aws.String(w.APIID), Embed: []string{"methods"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range res.Items {
		for verb := range r.ResourceMethods {
			got[verb+" "+aws.ToString(r.Path)] = true
		}
	}
	for _, m := range methods {
		if !got[m.Key()] {
			t.Errorf("method %s missing; have %v", m.Key(), got)
		}
	}
	st, err := w.Clients.APIGateway.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(w.APIID), StageName: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	if ms, ok := st.MethodSettings["*/*"]; !ok || !ms.MetricsEnabled {
		t.Errorf("detailed metrics not enabled on the stage: %+v", st.MethodSettings)
	}

	// The data plane routes each method to its route of the one pool.
	for _, tc := range []struct{ verb, path, key string }{
		{"GET", "/cart/profile/42", "GET /cart/profile/{userId}"},
		{"POST", "/orders", "POST /orders"},
	} {
		req, _ := http.NewRequest(tc.verb, w.InvokeURL()+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s without a key: status %d, want 403", tc.verb, tc.path, resp.StatusCode)
		}
		req.Header.Set("x-api-key", w.LoadtestKey)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s %s: status %d", tc.verb, tc.path, resp.StatusCode)
		}
		if served := w.Pool.RouteStats(tc.key).Served; served != 1 {
			t.Errorf("pool route %s served %d requests, want 1", tc.key, served)
		}
	}
}

func TestPoolCapacity(t *testing.T) {
	get, post := DefaultMethods[0], DefaultMethods[1]
	if a, b := DefaultPool.AloneCapacity(get), DefaultPool.AloneCapacity(post); a != 400 || b != 200 {
		t.Errorf("alone: GET %v POST %v, want 400 and 200 (8 slots / 20 ms, 40 ms)", a, b)
	}
	// 8 / (0.7 × 0.020 + 0.3 × 0.040) = 8 / 0.026
	if got := DefaultPool.CapacityAt(DefaultMethods, Mix(DefaultMethods)); math.Abs(got-8/0.026) > 1e-9 {
		t.Errorf("at the mix: %v, want %v", got, 8/0.026)
	}
	// The sandbox's shared pool agrees.
	routes := map[string]time.Duration{get.Key(): get.Service, post.Key(): post.Service}
	sp := backend.NewSharedPool(backend.SharedPoolConfig{Slots: DefaultPool.Slots, Routes: routes})
	if a, b := sp.CapacityAt(Mix(DefaultMethods)), DefaultPool.CapacityAt(DefaultMethods, Mix(DefaultMethods)); math.Abs(a-b) > 1e-9 {
		t.Errorf("SharedPool.CapacityAt %v, Pool.CapacityAt %v", a, b)
	}
}
