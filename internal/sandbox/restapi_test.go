package sandbox

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

func TestRestAPIsResourcesMethods(t *testing.T) {
	ctx := context.Background()
	_, c := startSandbox(t, Options{})
	ag := c.APIGateway

	// Paging of GetRestApis: 5 APIs read with limit 2.
	var ids []string
	for i := 0; i < 5; i++ {
		out, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("api" + string(rune('a'+i)))})
		if err != nil {
			t.Fatal(err)
		}
		if out.RootResourceId == nil || out.CreatedDate == nil || out.ApiKeySource != "HEADER" {
			t.Fatalf("incomplete CreateRestApi output: %+v", out)
		}
		ids = append(ids, *out.Id)
	}
	var got []string
	pages := 0
	pg := apigateway.NewGetRestApisPaginator(ag, &apigateway.GetRestApisInput{Limit: aws.Int32(2)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range out.Items {
			got = append(got, *a.Id)
		}
	}
	if pages != 3 || !slices.Equal(got, ids) {
		t.Fatalf("GetRestApis paging: %d pages, %v, want 3 pages %v", pages, got, ids)
	}
	_, err := ag.GetRestApis(ctx, &apigateway.GetRestApisInput{Position: aws.String("garbage")})
	wantAPIError(t, err, "BadRequestException")

	api, err := ag.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(ids[0])})
	if err != nil || *api.Name != "apia" {
		t.Fatalf("GetRestApi: %v %v", api, err)
	}
	_, err = ag.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException")
	_, err = ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("")})
	wantAPIError(t, err, "BadRequestException")

	p := createPetAPI(t, ag, "pets")
	// Resources: paths computed, read with paging and embed=methods.
	var resources []agtypes.Resource
	rp := apigateway.NewGetResourcesPaginator(ag, &apigateway.GetResourcesInput{RestApiId: aws.String(p.ID), Limit: aws.Int32(2), Embed: []string{"methods"}})
	for rp.HasMorePages() {
		out, err := rp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		resources = append(resources, out.Items...)
	}
	paths := map[string]agtypes.Resource{}
	for _, r := range resources {
		paths[*r.Path] = r
	}
	for _, want := range []string{"/", "/pets", "/pets/{petId}", "/users", "/users/{userId}", "/{proxy+}"} {
		if _, ok := paths[want]; !ok {
			t.Errorf("resource %s missing from %v", want, paths)
		}
	}
	if m := paths["/pets"].ResourceMethods["GET"]; m.ApiKeyRequired == nil || !*m.ApiKeyRequired || *m.AuthorizationType != "NONE" {
		t.Errorf("embedded GET /pets: %+v", m)
	}
	if *paths["/pets/{petId}"].ParentId != p.PetsID || *paths["/pets/{petId}"].PathPart != "{petId}" {
		t.Errorf("child resource: %+v", paths["/pets/{petId}"])
	}

	_, err = ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: aws.String(p.ID), ParentId: aws.String(p.RootID), PathPart: aws.String("pets")})
	wantAPIError(t, err, "ConflictException")
	_, err = ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: aws.String(p.ID), ParentId: aws.String(p.PetsID), PathPart: aws.String("{other}")})
	wantAPIError(t, err, "BadRequestException")
	_, err = ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: aws.String(p.ID), ParentId: aws.String("nope"), PathPart: aws.String("x")})
	wantAPIError(t, err, "NotFoundException")

	m, err := ag.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetsID), HttpMethod: aws.String("GET")})
	if err != nil || !*m.ApiKeyRequired || *m.HttpMethod != "GET" {
		t.Fatalf("GetMethod: %+v %v", m, err)
	}
	_, err = ag.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetsID), HttpMethod: aws.String("DELETE")})
	wantAPIError(t, err, "NotFoundException")
	_, err = ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetsID), HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")})
	wantAPIError(t, err, "ConflictException")
	_, err = ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetsID), HttpMethod: aws.String("PUT"), AuthorizationType: aws.String("BOGUS")})
	wantAPIError(t, err, "BadRequestException")

	in, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetID),
		HttpMethod: aws.String("GET"), Type: agtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"),
		Uri: aws.String("http://example.invalid/pets/{petId}")})
	if err != nil || *in.Uri != "http://example.invalid/pets/{petId}" || in.Type != agtypes.IntegrationTypeHttpProxy {
		t.Fatalf("PutIntegration: %+v %v", in, err)
	}
	m, err = ag.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetID), HttpMethod: aws.String("GET")})
	if err != nil || m.MethodIntegration == nil || *m.MethodIntegration.Uri != "http://example.invalid/pets/{petId}" {
		t.Fatalf("GetMethod integration: %+v %v", m, err)
	}
	_, err = ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: aws.String(p.ID), ResourceId: aws.String(p.PetID),
		HttpMethod: aws.String("GET"), Type: agtypes.IntegrationTypeHttpProxy})
	wantAPIError(t, err, "BadRequestException")

	// Deployments and stages.
	empty := must[*apigateway.CreateRestApiOutput](t)(ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("empty")}))
	_, err = ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: empty.Id})
	wantAPIError(t, err, "BadRequestException")

	dep, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(p.ID), Description: aws.String("second")})
	if err != nil {
		t.Fatal(err)
	}
	deps, err := ag.GetDeployments(ctx, &apigateway.GetDeploymentsInput{RestApiId: aws.String(p.ID)})
	if err != nil || len(deps.Items) != 2 || *deps.Items[1].Id != *dep.Id {
		t.Fatalf("GetDeployments: %+v %v", deps, err)
	}
	st, err := ag.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("dev"),
		DeploymentId: dep.Id, Variables: map[string]string{"color": "blue"}, Tags: map[string]string{"team": "a"}})
	if err != nil || *st.StageName != "dev" || st.Variables["color"] != "blue" || st.Tags["team"] != "a" {
		t.Fatalf("CreateStage: %+v %v", st, err)
	}
	_, err = ag.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("dev"), DeploymentId: dep.Id})
	wantAPIError(t, err, "ConflictException")
	_, err = ag.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("x"), DeploymentId: aws.String("nope")})
	wantAPIError(t, err, "BadRequestException")
	stages, err := ag.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: aws.String(p.ID)})
	if err != nil || len(stages.Item) != 2 {
		t.Fatalf("GetStages: %+v %v", stages, err)
	}
	if _, err := ag.DeleteStage(ctx, &apigateway.DeleteStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("dev")})
	wantAPIError(t, err, "NotFoundException")

	if _, err := ag.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: empty.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: empty.Id})
	wantAPIError(t, err, "NotFoundException")
}

func TestUpdateStageMethodSettings(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	ag, p := w.ag, w.api
	upd := func(ops ...agtypes.PatchOperation) (*apigateway.UpdateStageOutput, error) {
		return ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("prod"), PatchOperations: ops})
	}
	out, err := upd(
		patch(agtypes.OpReplace, "/*/*/throttling/rateLimit", "100"),
		patch(agtypes.OpReplace, "/*/*/throttling/burstLimit", "50"),
		patch(agtypes.OpReplace, "/*/*/metrics/enabled", "true"),
		patch(agtypes.OpReplace, "/~1pets/GET/throttling/rateLimit", "10"),
		patch(agtypes.OpReplace, "/~1pets/GET/throttling/burstLimit", "5"),
		patch(agtypes.OpReplace, "/~1pets~1{petId}/GET/metrics/enabled", "false"),
		patch(agtypes.OpReplace, "/variables/color", "green"),
	)
	if err != nil {
		t.Fatal(err)
	}
	all, pets, pet := out.MethodSettings["*/*"], out.MethodSettings["~1pets/GET"], out.MethodSettings["~1pets~1{petId}/GET"]
	if all.ThrottlingRateLimit != 100 || all.ThrottlingBurstLimit != 50 || !all.MetricsEnabled {
		t.Errorf("*/*: %+v", all)
	}
	if pets.ThrottlingRateLimit != 10 || pets.ThrottlingBurstLimit != 5 || !pets.MetricsEnabled {
		t.Errorf("~1pets/GET (inherits metrics from */*): %+v", pets)
	}
	if pet.MetricsEnabled || pet.ThrottlingRateLimit != 100 {
		t.Errorf("~1pets~1{petId}/GET: %+v", pet)
	}
	if out.Variables["color"] != "green" {
		t.Errorf("variables: %v", out.Variables)
	}

	// Bad operations leave the stage unchanged.
	_, err = upd(patch(agtypes.OpReplace, "/*/*/throttling/rateLimit", "1"), patch(agtypes.OpReplace, "/~1nope/GET/throttling/rateLimit", "1"))
	wantAPIError(t, err, "BadRequestException")
	_, err = upd(patch(agtypes.OpReplace, "/~1pets/DELETE/metrics/enabled", "true"))
	wantAPIError(t, err, "BadRequestException")
	_, err = upd(patch(agtypes.OpReplace, "/*/*/throttling/rateLimit", "fast"))
	wantAPIError(t, err, "BadRequestException")
	_, err = upd(patch(agtypes.OpReplace, "/*/*/bogus/setting", "1"))
	wantAPIError(t, err, "BadRequestException")

	_, err = upd(patch(agtypes.OpRemove, "/~1pets/GET", ""), patch(agtypes.OpRemove, "/variables/color", ""))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ag.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.MethodSettings["~1pets/GET"]; ok {
		t.Errorf("~1pets/GET not removed: %v", got.MethodSettings)
	}
	if got.MethodSettings["*/*"].ThrottlingRateLimit != 100 {
		t.Errorf("failed update changed the stage: %+v", got.MethodSettings["*/*"])
	}
	if _, ok := got.Variables["color"]; ok {
		t.Errorf("variable not removed: %v", got.Variables)
	}
	_, err = ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException")
}

func TestResourceMethodAndDeploymentExtras(t *testing.T) {
	ctx := context.Background()
	_, c := startSandbox(t, Options{AccountThrottle: &RateLimit{Rate: 300, Burst: 100}})
	ag := c.APIGateway
	p := createPetAPI(t, ag, "pets")
	id := aws.String(p.ID)

	res, err := ag.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: id, ResourceId: aws.String(p.PetID), Embed: []string{"methods"}})
	if err != nil || *res.Path != "/pets/{petId}" || res.ResourceMethods["GET"].AuthorizationType == nil {
		t.Fatalf("GetResource: %+v %v", res, err)
	}
	_, err = ag.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: id, ResourceId: aws.String(p.PetID), HttpMethod: aws.String("GET")})
	wantAPIError(t, err, "NotFoundException")
	must[*apigateway.PutIntegrationOutput](t)(ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: id, ResourceId: aws.String(p.PetID),
		HttpMethod: aws.String("GET"), Type: agtypes.IntegrationTypeMock}))
	in, err := ag.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: id, ResourceId: aws.String(p.PetID), HttpMethod: aws.String("GET")})
	if err != nil || in.Type != agtypes.IntegrationTypeMock || in.TimeoutInMillis != 29000 {
		t.Fatalf("GetIntegration: %+v %v", in, err)
	}
	if _, err := ag.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: id, ResourceId: aws.String(p.PetID), HttpMethod: aws.String("GET")}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: id, ResourceId: aws.String(p.PetID), HttpMethod: aws.String("GET")})
	wantAPIError(t, err, "NotFoundException")

	// Deleting /pets deletes /pets/{petId} too; the root cannot be deleted.
	if _, err := ag.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: id, ResourceId: aws.String(p.PetsID)}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: id, ResourceId: aws.String(p.PetID)})
	wantAPIError(t, err, "NotFoundException")
	_, err = ag.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: id, ResourceId: aws.String(p.RootID)})
	wantAPIError(t, err, "BadRequestException")
	all := must[*apigateway.GetResourcesOutput](t)(ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: id}))
	if len(all.Items) != 4 {
		t.Fatalf("resources after delete: %d, want 4", len(all.Items))
	}

	deps := must[*apigateway.GetDeploymentsOutput](t)(ag.GetDeployments(ctx, &apigateway.GetDeploymentsInput{RestApiId: id}))
	d, err := ag.GetDeployment(ctx, &apigateway.GetDeploymentInput{RestApiId: id, DeploymentId: deps.Items[0].Id})
	if err != nil || *d.Id != *deps.Items[0].Id || d.CreatedDate == nil {
		t.Fatalf("GetDeployment: %+v %v", d, err)
	}
	_, err = ag.GetDeployment(ctx, &apigateway.GetDeploymentInput{RestApiId: id, DeploymentId: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException")

	acct, err := ag.GetAccount(ctx, &apigateway.GetAccountInput{})
	if err != nil || acct.ThrottleSettings.RateLimit != 300 || acct.ThrottleSettings.BurstLimit != 100 {
		t.Fatalf("GetAccount: %+v %v", acct, err)
	}

	// A REST API with a stage in a usage plan cannot be deleted.
	must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p"),
		ApiStages: []agtypes.ApiStage{{ApiId: id, Stage: aws.String("prod")}}}))
	_, err = ag.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: id})
	wantAPIError(t, err, "BadRequestException")
	_, err = ag.DeleteStage(ctx, &apigateway.DeleteStageInput{RestApiId: id, StageName: aws.String("prod")})
	wantAPIError(t, err, "BadRequestException")
}
