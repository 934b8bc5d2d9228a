package demo

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
)

func TestNewWorldCreatesTheAPIThroughTheSDK(t *testing.T) {
	ctx := context.Background()
	methods := []Method{
		{Verb: "GET", Path: "/cart/profile/{userId}", Slots: 2, Service: 5 * time.Millisecond, Queue: 2},
		{Verb: "POST", Path: "/orders", Slots: 1, Service: 5 * time.Millisecond, Queue: 1},
	}
	w, err := NewWorld(ctx, "cart-api", "prod", methods, "127.0.0.1:0")
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

	// The data plane routes each method to its own backend.
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
		if served := w.Backends[tc.key].Stats().Served; served != 1 {
			t.Errorf("backend of %s served %d requests, want 1", tc.key, served)
		}
	}
}

func TestMethodCapacity(t *testing.T) {
	for _, m := range DefaultMethods {
		if m.Capacity() <= 0 {
			t.Errorf("%s: capacity %v", m.Key(), m.Capacity())
		}
	}
	if got := DefaultMethods[0].Capacity(); got != 400 {
		t.Errorf("GET capacity = %v, want 400 (8 slots × 20 ms)", got)
	}
}
