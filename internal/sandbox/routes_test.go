package sandbox

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRoutesResolveEveryPathParameter: each {param} of a served route is
// looked up by wrap, except the few a handler reads as a value, so no
// handler is left to look up an id itself.
func TestRoutesResolveEveryPathParameter(t *testing.T) {
	values := map[string]bool{"exportType": true, "RouteKey": true}
	for _, r := range New(Options{}).Routes() {
		for _, p := range pathParams(r.Path) {
			if resolvers[p] == nil && !values[p] {
				t.Errorf("%s %s: path parameter {%s} has no resolver", r.Op, r.Path, p)
			}
		}
	}
	if got := strings.Join(pathParams("DELETE /usageplans/{usagePlanId}/keys/{keyId}"), ","); got != "usagePlanId,keyId" {
		t.Errorf("pathParams: %s", got)
	}
	if got := strings.Join(pathParams("GET /tags/{resourceArn...}"), ","); got != "resourceArn" {
		t.Errorf("pathParams of a rest wildcard: %s", got)
	}
}

// TestWrapAnswersNotFoundBeforeTheHandler: an id that names nothing is a
// 404 NotFoundException in the AWS shape, whichever parameter it is, and
// the first unknown one (in path order) is the one reported.
func TestWrapAnswersNotFoundBeforeTheHandler(t *testing.T) {
	sb := New(Options{})
	h := sb.Handler()
	do := func(method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(`{"name":"a","protocolType":"HTTP"}`)))
		return w
	}
	api := do(http.MethodPost, "/restapis")
	if api.Code != http.StatusCreated {
		t.Fatalf("CreateRestApi: %d %s", api.Code, api.Body)
	}
	id := strings.SplitN(strings.SplitN(api.Body.String(), `"id":"`, 2)[1], `"`, 2)[0]
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/restapis/nope/stages/prod", "Invalid API identifier specified 123456789012:nope"},
		{"GET", "/restapis/" + id + "/stages/prod", "Invalid Stage identifier specified"},
		{"PATCH", "/restapis/" + id + "/resources/nope/methods/GET", "Invalid Resource identifier specified"},
		{"DELETE", "/usageplans/nope/keys/k", "Invalid Usage Plan ID specified"},
		{"GET", "/apikeys/nope", "Invalid API Key identifier specified"},
		{"GET", "/v2/apis/nope/routes/r", "Invalid API identifier specified nope"},
	} {
		w := do(c.method, c.path)
		if w.Code != http.StatusNotFound || w.Header().Get("x-amzn-ErrorType") != "NotFoundException" || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s %s: %d %s %s, want 404 NotFoundException %q", c.method, c.path, w.Code, w.Header().Get("x-amzn-ErrorType"), w.Body, c.want)
		}
	}
}
