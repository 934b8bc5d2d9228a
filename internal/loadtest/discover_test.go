package loadtest

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// fakeAPIGW pages its REST APIs and resources one item at a time.
type fakeAPIGW struct {
	apis      []types.RestApi
	resources []types.Resource
	embeds    [][]string
}

func (f *fakeAPIGW) GetRestApis(_ context.Context, in *apigateway.GetRestApisInput, _ ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error) {
	i := pageIndex(in.Position)
	out := &apigateway.GetRestApisOutput{Items: f.apis[i : i+1]}
	if i+1 < len(f.apis) {
		out.Position = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

func (f *fakeAPIGW) GetResources(_ context.Context, in *apigateway.GetResourcesInput, _ ...func(*apigateway.Options)) (*apigateway.GetResourcesOutput, error) {
	f.embeds = append(f.embeds, in.Embed)
	i := pageIndex(in.Position)
	out := &apigateway.GetResourcesOutput{Items: f.resources[i : i+1]}
	if i+1 < len(f.resources) {
		out.Position = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

func pageIndex(p *string) int {
	if p == nil {
		return 0
	}
	return int((*p)[0] - '0')
}

func res(path string, methods ...string) types.Resource {
	r := types.Resource{Path: aws.String(path), ResourceMethods: map[string]types.Method{}}
	for _, m := range methods {
		r.ResourceMethods[m] = types.Method{HttpMethod: aws.String(m)}
	}
	return r
}

func TestDiscoverTargets(t *testing.T) {
	f := &fakeAPIGW{
		apis: []types.RestApi{{Id: aws.String("a1"), Name: aws.String("other")}, {Id: aws.String("c9"), Name: aws.String("cart")}},
		resources: []types.Resource{
			res("/"),
			res("/cart/profile/{userId}", "GET", "OPTIONS"),
			res("/items", "POST", "GET"),
			res("/{proxy+}", "ANY"),
		},
	}
	ts, id, err := DiscoverTargets(context.Background(), f, DiscoverOptions{
		API: "cart", Stage: "prod", InvokeURL: LocalInvokeURL("http://127.0.0.1:4566/", "prod"),
		PathParams: map[string]string{"userId": "42", "proxy": "a/b"}, Body: []byte("{}"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if id != "c9" {
		t.Errorf("id %q", id)
	}
	var got []string
	for _, tg := range ts {
		got = append(got, tg.Name+" → "+tg.Method+" "+tg.URL+" body="+string(tg.Body))
	}
	want := []string{
		"GET /cart/profile/{userId} → GET http://127.0.0.1:4566/restapis/c9/prod/_user_request_/cart/profile/42 body=",
		"GET /items → GET http://127.0.0.1:4566/restapis/c9/prod/_user_request_/items body=",
		"POST /items → POST http://127.0.0.1:4566/restapis/c9/prod/_user_request_/items body={}",
		"ANY /{proxy+} → GET http://127.0.0.1:4566/restapis/c9/prod/_user_request_/a/b body=",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(f.embeds) != 4 || len(f.embeds[0]) != 1 || f.embeds[0][0] != "methods" {
		t.Errorf("GetResources calls %v, want 4 pages with embed=methods", f.embeds)
	}
	if ts[0].Path != "/cart/profile/{userId}" {
		t.Errorf("path %q", ts[0].Path)
	}
}

func TestDiscoverTargetsErrors(t *testing.T) {
	f := &fakeAPIGW{
		apis:      []types.RestApi{{Id: aws.String("a1"), Name: aws.String("dup")}, {Id: aws.String("a2"), Name: aws.String("dup")}},
		resources: []types.Resource{res("/users/{userId}/items/{itemId}", "GET")},
	}
	inv := AWSInvokeURL("eu-west-1", "prod")
	for _, tc := range []struct {
		o    DiscoverOptions
		want string
	}{
		{DiscoverOptions{API: "dup", Stage: "prod", InvokeURL: inv}, `2 APIs are named "dup": a1, a2`},
		{DiscoverOptions{API: "nope", Stage: "prod", InvokeURL: inv}, `no REST API named or with id "nope"`},
		{DiscoverOptions{API: "a1", Stage: "prod", InvokeURL: inv}, "no value for path parameter(s) itemId, userId"},
		{DiscoverOptions{API: "a1", Stage: "prod", InvokeURL: inv, Methods: []string{"DELETE"}}, "has no methods"},
	} {
		_, _, err := DiscoverTargets(context.Background(), f, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.o.API, err, tc.want)
		}
	}
	if got := AWSInvokeURL("eu-west-1", "prod")("abc"); got != "https://abc.execute-api.eu-west-1.amazonaws.com/prod" {
		t.Errorf("aws invoke url %q", got)
	}
}
