package loadtest

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/sandbox"
)

// TestLedgerExportMatchesResources: for an API with path, query and
// header parameters, a request model, an API key and ANY and OPTIONS
// methods, the operations read from the stage's export (GetExport oas30)
// equal those read from GetResources, and DiscoverTargets builds the same
// targets with or without the export.
func TestLedgerExportMatchesResources(t *testing.T) {
	ctx := context.Background()
	sb := sandbox.New(sandbox.Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	clients, err := awsapi.NewClients(ctx, awsapi.Settings{Region: "us-east-1", EndpointURL: url, StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	c := clients.APIGateway
	api, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("shop")})
	if err != nil {
		t.Fatal(err)
	}
	res := func(parent, part string) string {
		out, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: aws.String(parent), PathPart: aws.String(part)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.Id
	}
	put := func(id, m string, in apigateway.PutMethodInput) {
		in.RestApiId, in.ResourceId, in.HttpMethod, in.AuthorizationType = api.Id, aws.String(id), aws.String(m), aws.String("NONE")
		if _, err := c.PutMethod(ctx, &in); err != nil {
			t.Fatal(err)
		}
	}
	users := res(*api.RootResourceId, "users")
	user := res(users, "{userId}")
	orders := res(*api.RootResourceId, "orders")
	proxy := res(*api.RootResourceId, "{proxy+}")
	put(users, "GET", apigateway.PutMethodInput{ApiKeyRequired: true, RequestParameters: map[string]bool{"method.request.querystring.page": false, "method.request.querystring.size": true}})
	put(user, "GET", apigateway.PutMethodInput{RequestParameters: map[string]bool{"method.request.header.X-Tenant": true}})
	put(user, "DELETE", apigateway.PutMethodInput{})
	put(orders, "POST", apigateway.PutMethodInput{RequestModels: map[string]string{"application/json": "Order"}})
	put(orders, "PUT", apigateway.PutMethodInput{RequestModels: map[string]string{"application/json": "Empty"}})
	put(orders, "OPTIONS", apigateway.PutMethodInput{})
	put(proxy, "ANY", apigateway.PutMethodInput{})
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}

	var resources []types.Resource
	out, err := c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id, Embed: []string{"methods"}})
	if err != nil {
		t.Fatal(err)
	}
	resources = out.Items
	fromResources := OperationsFromResources(sortedResources(resources))
	data, err := StageExport(ctx, c, *api.Id, "prod")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := LoadOpenAPI(data, "export")
	if err != nil {
		t.Fatal(err)
	}
	fromExport, err := OperationsFromOpenAPI(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromResources) != 7 || !reflect.DeepEqual(fromResources, fromExport) {
		t.Fatalf("operations differ:\nGetResources %s\nGetExport    %s", opsString(fromResources), opsString(fromExport))
	}
	if got, want := ServerURL(doc), sb.InvokeURL(*api.Id, "prod"); got != want {
		t.Errorf("export server %q, want the stage's invoke URL %q", got, want)
	}

	d, err := ReadData(strings.NewReader("userId,size,X-Tenant,proxy\nu1,10,t1,a/b\nu2,20,t2,c\n"), "d.csv")
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	o := DiscoverOptions{API: "shop", Stage: "prod", InvokeURL: LocalInvokeURL(url, "prod"), Feed: &Feed{Data: d},
		Bodies: []MethodBody{{Key: "POST /orders", File: "o.json", Data: []byte(`{"u":"{{.userId}}"}`)}},
		Warn:   func(w Warning) { warnings = append(warnings, w.String()) }}
	withExport, _, err := DiscoverTargets(ctx, c, o)
	if err != nil {
		t.Fatal(err)
	}
	o.NoExport, o.Warn, o.Feed = true, nil, &Feed{Data: d} // a fresh feed: its numbering starts again
	without, _, err := DiscoverTargets(ctx, c, o)
	if err != nil {
		t.Fatal(err)
	}
	a, b := requestsOf(t, withExport, 14), requestsOf(t, without, 14)
	if a != b {
		t.Errorf("targets differ with the export:\n%s\nwithout:\n%s", a, b)
	}
	for _, want := range []string{"GET " + url + "/restapis/" + *api.Id + "/prod/_user_request_/users?size=10 ", "X-Tenant:t1", "POST " + url, `{"u":"u1"}`, "GET " + url + "/restapis/" + *api.Id + "/prod/_user_request_/a/b"} {
		if !strings.Contains(a, want) {
			t.Errorf("requests lack %q:\n%s", want, a)
		}
	}
	if strings.Contains(a, "OPTIONS") || len(warnings) != 1 || !strings.Contains(warnings[0], "GET /users requires an API key") {
		t.Errorf("OPTIONS sent, or warnings %v", warnings)
	}
}

func sortedResources(rs []types.Resource) []types.Resource {
	out := append([]types.Resource(nil), rs...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if aws.ToString(out[j].Path) < aws.ToString(out[i].Path) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func opsString(ops []Operation) string {
	var b strings.Builder
	for _, op := range ops {
		b.WriteString("\n  " + op.Name())
		for _, q := range op.Query {
			b.WriteString(" ?" + q.Name)
		}
		for _, h := range op.Headers {
			b.WriteString(" H:" + h.Name)
		}
		if op.Body != nil {
			b.WriteString(" body:" + op.Body.ContentType + "/" + op.Body.Model)
		}
		if op.APIKey {
			b.WriteString(" key")
		}
	}
	return b.String()
}

func requestsOf(t *testing.T, ts Targets, n int) string {
	t.Helper()
	var b strings.Builder
	for _, h := range hits(t, ts, n) {
		b.WriteString(h.Method + " " + h.URL + " " + string(h.Body))
		if v := h.Header.Get("X-Tenant"); v != "" {
			b.WriteString(" X-Tenant:" + v)
		}
		b.WriteString("\n")
	}
	return b.String()
}
