package sandbox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/getkin/kin-openapi/openapi3"
)

func TestLedgerGetExport(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	sb, ag, p := w.sb, w.ag, w.api
	// A query string, a required header and a request model on POST /pets.
	if _, err := ag.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: &p.ID, ResourceId: &p.PetsID, HttpMethod: aws.String("POST")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: &p.ID, ResourceId: &p.PetsID, HttpMethod: aws.String("POST"),
		AuthorizationType: aws.String("NONE"),
		RequestParameters: map[string]bool{"method.request.querystring.dryRun": false, "method.request.header.X-Tenant": true},
		RequestModels:     map[string]string{"application/json": "Pet"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &p.ID, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	// A method added after the last deployment is not in the export (the stage does not serve it).
	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: &p.ID, ResourceId: &p.PetID, HttpMethod: aws.String("DELETE"),
		AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}

	// The SDK always asks for JSON (it overwrites Accept); YAML is asked with a plain request.
	yamlReq, err := http.NewRequest(http.MethodGet, sb.URL()+"/restapis/"+p.ID+"/stages/prod/exports/oas30", nil)
	if err != nil {
		t.Fatal(err)
	}
	yamlReq.Header.Set("Accept", "application/yaml")
	for _, accept := range []string{"application/json", "application/yaml"} {
		var body []byte
		var ct, disposition string
		if accept == "application/json" {
			out, err := ag.GetExport(ctx, &apigateway.GetExportInput{RestApiId: &p.ID, StageName: aws.String("prod"),
				ExportType: aws.String("oas30"), Accepts: aws.String(accept)})
			if err != nil {
				t.Fatalf("%s: %v", accept, err)
			}
			body, ct, disposition = out.Body, aws.ToString(out.ContentType), aws.ToString(out.ContentDisposition)
		} else {
			resp, err := http.DefaultClient.Do(yamlReq)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			ct, disposition = resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition")
			if !bytes.HasPrefix(body, []byte("components:")) {
				t.Errorf("yaml export starts %q", body[:min(len(body), 40)])
			}
		}
		if ct != accept || !strings.Contains(disposition, "attachment") {
			t.Errorf("%s: content type %q, disposition %q", accept, ct, disposition)
		}
		doc, err := openapi3.NewLoader().LoadFromData(body)
		if err != nil {
			t.Fatalf("%s: export does not parse: %v\n%s", accept, err, body)
		}
		if err := doc.Validate(ctx); err != nil {
			t.Fatalf("%s: export is not valid OpenAPI 3: %v", accept, err)
		}
		if got, want := doc.Servers[0].URL, sb.URL()+"/restapis/"+p.ID+"/{basePath}/_user_request_"; got != want || doc.Servers[0].Variables["basePath"].Default != "prod" {
			t.Errorf("%s: server %q %+v, want %q with basePath prod", accept, got, doc.Servers[0].Variables, want)
		}
		pets := doc.Paths.Find("/pets")
		if pets == nil || pets.Get == nil || pets.Post == nil {
			t.Fatalf("%s: /pets get and post missing: %+v", accept, doc.Paths.Map())
		}
		if pets.Get.Security == nil || len(*pets.Get.Security) != 1 || doc.Components.SecuritySchemes["api_key"].Value.Name != "x-api-key" {
			t.Errorf("%s: GET /pets (key required) security %v", accept, pets.Get.Security)
		}
		post := pets.Post
		if post.RequestBody == nil || !post.RequestBody.Value.Required || post.RequestBody.Value.Content["application/json"].Schema.Ref != "#/components/schemas/Pet" {
			t.Errorf("%s: POST /pets request body %+v", accept, post.RequestBody)
		}
		params := map[string]bool{}
		for _, pr := range post.Parameters {
			params[pr.Value.In+":"+pr.Value.Name] = pr.Value.Required
		}
		if len(params) != 2 || params["query:dryRun"] || !params["header:X-Tenant"] {
			t.Errorf("%s: POST /pets parameters %v", accept, params)
		}
		pet := doc.Paths.Find("/pets/{petId}")
		if pet != nil && pet.Delete != nil {
			t.Errorf("%s: DELETE /pets/{petId}, added after the deployment, is exported", accept)
		}
		if pet == nil || pet.Get == nil || len(pet.Get.Parameters) != 1 || pet.Get.Parameters[0].Value.Name != "petId" || !pet.Get.Parameters[0].Value.Required {
			t.Errorf("%s: GET /pets/{petId} %+v", accept, pet)
		}
		if proxy := doc.Paths.Find("/{proxy+}"); proxy == nil || proxy.Extensions["x-amazon-apigateway-any-method"] == nil {
			t.Errorf("%s: ANY /{proxy+} not exported as x-amazon-apigateway-any-method", accept)
		}
	}

	_, err = ag.GetExport(ctx, &apigateway.GetExportInput{RestApiId: &p.ID, StageName: aws.String("nope"), ExportType: aws.String("oas30")})
	wantAPIError(t, err, "NotFoundException")
	_, err = ag.GetExport(ctx, &apigateway.GetExportInput{RestApiId: &p.ID, StageName: aws.String("prod"), ExportType: aws.String("pdf")})
	wantAPIError(t, err, "BadRequestException")
}
