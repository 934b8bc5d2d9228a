package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// fuzzWorld is a sandbox with an API (GET /pets), a stage prod, a usage plan
// on it and an API key, driven through its HTTP handler without a network.
type fuzzWorld struct {
	h                     http.Handler
	api, plan, key, stage string
}

func (w *fuzzWorld) call(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&rd).Encode(body); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, &rd)
	req.Header.Set("Content-Type", "application/json")
	req.Host = "apigateway.us-east-1.amazonaws.com"
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func (w *fuzzWorld) must(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	code, out := w.call(t, method, path, body)
	if code >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	return out
}

func newFuzzWorld(t *testing.T) *fuzzWorld {
	w := &fuzzWorld{h: New(Options{}).Handler(), stage: "prod"}
	w.api = w.must(t, "POST", "/restapis", map[string]any{"name": "fuzz"})["id"].(string)
	items := w.must(t, "GET", "/restapis/"+w.api+"/resources", nil)["item"].([]any)
	root := items[0].(map[string]any)["id"].(string)
	res := w.must(t, "POST", "/restapis/"+w.api+"/resources/"+root, map[string]any{"pathPart": "pets"})["id"].(string)
	w.must(t, "PUT", "/restapis/"+w.api+"/resources/"+res+"/methods/GET", map[string]any{"authorizationType": "NONE"})
	w.must(t, "POST", "/restapis/"+w.api+"/deployments", map[string]any{"stageName": w.stage})
	w.plan = w.must(t, "POST", "/usageplans", map[string]any{"name": "p", "apiStages": []any{map[string]any{"apiId": w.api, "stage": w.stage}}})["id"].(string)
	w.key = w.must(t, "POST", "/apikeys", map[string]any{"name": "k", "enabled": true})["id"].(string)
	return w
}

var fuzzPatchOps = []string{"add", "remove", "replace", "move", "copy", "test"}

// FuzzPatchOperations sends arbitrary patch operations (op, path, value,
// from) to UpdateStage, UpdateUsagePlan and UpdateApiKey: the emulator's
// patch-path parser must answer a 4xx for what it does not take, never
// panic or 5xx, and leave the resources readable.
func FuzzPatchOperations(f *testing.F) {
	for _, s := range []struct{ path, value string }{
		{"/*/*/throttling/rateLimit", "100"},
		{"/~1pets/GET/throttling/burstLimit", "50"},
		{"/~1pets/GET/metrics/enabled", "true"},
		{"/variables/a~1b", "x"},
		{"/throttle/rateLimit", "10"},
		{"/quota/limit", "1000"},
		{"/quota/period", "DAY"},
		{"/apiStages/API:prod/throttle/~1pets~1GET/rateLimit", "5"},
		{"/apiStages/API:prod/throttle", `{"/pets/GET":{"rateLimit":1,"burstLimit":1}}`},
		{"/apiStages", "API:prod"},
		{"/name", "n"},
		{"/enabled", "false"},
		{"/~1/GET", ""},
		{"", ""},
	} {
		for op := range fuzzPatchOps {
			f.Add(uint8(op), s.path, s.value, "")
		}
	}
	f.Fuzz(func(t *testing.T, op uint8, path, value, from string) {
		w := newFuzzWorld(t)
		patch := map[string]any{"patchOperations": []any{map[string]any{
			"op": fuzzPatchOps[int(op)%len(fuzzPatchOps)], "path": path, "value": value, "from": from}}}
		for _, target := range []string{
			"/restapis/" + w.api + "/stages/" + w.stage,
			"/usageplans/" + w.plan,
			"/apikeys/" + w.key,
		} {
			if code, out := w.call(t, "PATCH", target, patch); code >= 500 {
				t.Fatalf("PATCH %s %+v: %d %v", target, patch, code, out)
			}
			if code, out := w.call(t, "GET", target, nil); code != 200 {
				t.Fatalf("GET %s after the patch: %d %v", target, code, out)
			}
		}
	})
}
