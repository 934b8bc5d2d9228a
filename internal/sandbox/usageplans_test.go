package sandbox

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

func TestUsagePlanCRUDAndPaging(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	ag, p := w.ag, w.api

	plan, err := ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{
		Name: aws.String("gold"), Description: aws.String("gold tier"),
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(p.ID), Stage: aws.String("prod"),
			Throttle: map[string]agtypes.ThrottleSettings{"/pets/GET": {RateLimit: 5, BurstLimit: 10}}}},
		Throttle: &agtypes.ThrottleSettings{RateLimit: 100, BurstLimit: 200},
		Quota:    &agtypes.QuotaSettings{Limit: 1000, Period: agtypes.QuotaPeriodTypeDay},
		Tags:     map[string]string{"tier": "gold"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if *plan.Name != "gold" || plan.Throttle.RateLimit != 100 || plan.Quota.Limit != 1000 || plan.Tags["tier"] != "gold" ||
		len(plan.ApiStages) != 1 || plan.ApiStages[0].Throttle["/pets/GET"].BurstLimit != 10 {
		t.Fatalf("CreateUsagePlan output: %+v", plan)
	}
	got, err := ag.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: plan.Id})
	if err != nil || *got.Description != "gold tier" || got.Quota.Period != agtypes.QuotaPeriodTypeDay {
		t.Fatalf("GetUsagePlan: %+v %v", got, err)
	}
	_, err = ag.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException")

	// 30 more plans, read back through position/limit paging.
	want := []string{*plan.Id}
	for i := 0; i < 30; i++ {
		out, err := ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String(fmt.Sprintf("plan-%02d", i))})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, *out.Id)
	}
	var all []string
	pages := 0
	pg := apigateway.NewGetUsagePlansPaginator(ag, &apigateway.GetUsagePlansInput{Limit: aws.Int32(7)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range out.Items {
			all = append(all, *it.Id)
		}
	}
	if pages != 5 || !slices.Equal(all, want) {
		t.Fatalf("paging: %d pages, %d plans, want 5 pages, %d plans", pages, len(all), len(want))
	}
	first, err := ag.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{})
	if err != nil || len(first.Items) != 25 || first.Position == nil {
		t.Fatalf("default page: %d items, position %v, %v", len(first.Items), first.Position, err)
	}
	_, err = ag.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{Limit: aws.Int32(501)})
	wantAPIError(t, err, "BadRequestException")

	// Delete: refused while API stages are attached.
	_, err = ag.DeleteUsagePlan(ctx, &apigateway.DeleteUsagePlanInput{UsagePlanId: plan.Id})
	wantAPIError(t, err, "BadRequestException")
	if _, err := ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: plan.Id, PatchOperations: []agtypes.PatchOperation{
		patch(agtypes.OpRemove, "/apiStages", p.ID+":prod")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.DeleteUsagePlan(ctx, &apigateway.DeleteUsagePlanInput{UsagePlanId: plan.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.DeleteUsagePlan(ctx, &apigateway.DeleteUsagePlanInput{UsagePlanId: plan.Id})
	wantAPIError(t, err, "NotFoundException")
}

func TestUpdateUsagePlanPatchOperations(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	ag, p := w.ag, w.api
	plan := must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p")}))
	upd := func(ops ...agtypes.PatchOperation) (*apigateway.UpdateUsagePlanOutput, error) {
		return ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: plan.Id, PatchOperations: ops})
	}
	stageID := p.ID + ":prod"

	// Per-method throttle without a plan throttle is rejected.
	_, err := upd(patch(agtypes.OpAdd, "/apiStages", stageID),
		patch(agtypes.OpReplace, "/apiStages/"+stageID+"/throttle/~1pets/GET/rateLimit", "5"))
	wantAPIError(t, err, "BadRequestException")

	out, err := upd(
		patch(agtypes.OpReplace, "/name", "silver"),
		patch(agtypes.OpReplace, "/description", "silver tier"),
		patch(agtypes.OpAdd, "/apiStages", stageID),
		patch(agtypes.OpReplace, "/throttle/rateLimit", "50"),
		patch(agtypes.OpReplace, "/throttle/burstLimit", "100"),
		patch(agtypes.OpReplace, "/quota/limit", "5000"),
		patch(agtypes.OpReplace, "/quota/period", "WEEK"),
		patch(agtypes.OpReplace, "/quota/offset", "1"),
		patch(agtypes.OpReplace, "/apiStages/"+stageID+"/throttle", `{"/pets/GET":{"rateLimit":5,"burstLimit":10},"//GET":{"rateLimit":1,"burstLimit":1}}`),
		patch(agtypes.OpReplace, "/apiStages/"+stageID+"/throttle/~1pets~1{petId}/GET/rateLimit", "7"),
		patch(agtypes.OpReplace, "/apiStages/"+stageID+"/throttle/~1pets~1{petId}/GET/burstLimit", "8"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if *out.Name != "silver" || *out.Description != "silver tier" || out.Throttle.RateLimit != 50 || out.Throttle.BurstLimit != 100 ||
		out.Quota.Limit != 5000 || out.Quota.Period != agtypes.QuotaPeriodTypeWeek || out.Quota.Offset != 1 {
		t.Fatalf("plan fields: %+v %+v %+v", out, out.Throttle, out.Quota)
	}
	if len(out.ApiStages) != 1 {
		t.Fatalf("api stages: %+v", out.ApiStages)
	}
	th := out.ApiStages[0].Throttle
	if th["/pets/GET"] != (agtypes.ThrottleSettings{RateLimit: 5, BurstLimit: 10}) || th["//GET"].RateLimit != 1 ||
		th["/pets/{petId}/GET"] != (agtypes.ThrottleSettings{RateLimit: 7, BurstLimit: 8}) || len(th) != 3 {
		t.Fatalf("method throttles: %+v", th)
	}

	// Remove one method throttle, then the quota.
	out, err = upd(patch(agtypes.OpRemove, "/apiStages/"+stageID+"/throttle/~1/GET", ""), patch(agtypes.OpRemove, "/quota", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out.ApiStages[0].Throttle["//GET"]; ok || len(out.ApiStages[0].Throttle) != 2 || out.Quota != nil {
		t.Fatalf("after remove: %+v quota %+v", out.ApiStages[0].Throttle, out.Quota)
	}

	// Rejections, each leaving the plan unchanged.
	_, err = upd(patch(agtypes.OpRemove, "/throttle", "")) // method throttles need the plan throttle
	wantAPIError(t, err, "BadRequestException")
	_, err = upd(patch(agtypes.OpAdd, "/apiStages", p.ID+":nostage"))
	wantAPIError(t, err, "BadRequestException")
	_, err = upd(patch(agtypes.OpAdd, "/apiStages", "noapi:prod"))
	wantAPIError(t, err, "BadRequestException")
	_, err = upd(patch(agtypes.OpAdd, "/apiStages", stageID))
	wantAPIError(t, err, "ConflictException")
	_, err = upd(patch(agtypes.OpReplace, "/apiStages/"+stageID+"/throttle/~1nope/GET/rateLimit", "1"))
	wantAPIError(t, err, "BadRequestException")
	_, err = upd(patch(agtypes.OpReplace, "/apiStages/"+stageID+"/throttle", `not json`))
	wantAPIError(t, err, "BadRequestException")
	_, err = upd(patch(agtypes.OpReplace, "/quota/period", "YEAR"))
	wantAPIError(t, err, "BadRequestException")
	_, err = upd(patch(agtypes.OpReplace, "/bogus", "x"))
	wantAPIError(t, err, "BadRequestException")
	_, err = upd(patch(agtypes.OpReplace, "/throttle/rateLimit", "fast"))
	wantAPIError(t, err, "BadRequestException")

	// More than 20 method throttles per API stage.
	big := newTestAPIWithMethods(t, ag, 21)
	bigStage := big + ":prod"
	ops := []agtypes.PatchOperation{patch(agtypes.OpAdd, "/apiStages", bigStage)}
	for i := 0; i < 20; i++ {
		ops = append(ops, patch(agtypes.OpReplace, fmt.Sprintf("/apiStages/%s/throttle/~1r%d/GET/rateLimit", bigStage, i), "1"))
	}
	if _, err := upd(ops...); err != nil {
		t.Fatalf("20 method throttles: %v", err)
	}
	_, err = upd(patch(agtypes.OpReplace, fmt.Sprintf("/apiStages/%s/throttle/~1r20/GET/rateLimit", bigStage), "1"))
	wantAPIError(t, err, "BadRequestException")

	got := must[*apigateway.GetUsagePlanOutput](t)(ag.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: plan.Id}))
	if got.Throttle == nil || got.Throttle.RateLimit != 50 || len(got.ApiStages) != 2 || *got.Name != "silver" {
		t.Fatalf("rejected updates changed the plan: %+v", got)
	}
	for _, as := range got.ApiStages {
		if *as.ApiId == big && len(as.Throttle) != 20 {
			t.Fatalf("rejected update changed method throttles: %d", len(as.Throttle))
		}
	}

	// Whole-map replace and removal of the API stages.
	if _, err := upd(patch(agtypes.OpRemove, "/apiStages/"+bigStage+"/throttle", ""), patch(agtypes.OpRemove, "/apiStages", bigStage),
		patch(agtypes.OpRemove, "/apiStages", stageID)); err != nil {
		t.Fatal(err)
	}
	got = must[*apigateway.GetUsagePlanOutput](t)(ag.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: plan.Id}))
	if len(got.ApiStages) != 0 {
		t.Fatalf("api stages not removed: %+v", got.ApiStages)
	}
	_, err = upd(patch(agtypes.OpRemove, "/apiStages", stageID))
	wantAPIError(t, err, "NotFoundException")

	// CreateUsagePlan applies the same validation.
	_, err = ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("x"),
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(p.ID), Stage: aws.String("prod"),
			Throttle: map[string]agtypes.ThrottleSettings{"/pets/GET": {RateLimit: 1, BurstLimit: 1}}}}})
	wantAPIError(t, err, "BadRequestException")
	_, err = ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("x"),
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(p.ID), Stage: aws.String("staging")}}})
	wantAPIError(t, err, "BadRequestException")
	_, err = ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String(" ")})
	wantAPIError(t, err, "BadRequestException")
}

// newTestAPIWithMethods creates an API with resources /r0../r{n-1}, each with
// GET, deployed to prod.
func newTestAPIWithMethods(t *testing.T, ag *apigateway.Client, n int) string {
	t.Helper()
	ctx := context.Background()
	api := must[*apigateway.CreateRestApiOutput](t)(ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("many")}))
	for i := 0; i < n; i++ {
		res := must[*apigateway.CreateResourceOutput](t)(ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String(fmt.Sprintf("r%d", i))}))
		must[*apigateway.PutMethodOutput](t)(ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}))
	}
	must[*apigateway.CreateDeploymentOutput](t)(ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}))
	return *api.Id
}

func TestAPIKeysAndUsagePlanKeys(t *testing.T) {
	ctx := context.Background()
	w := newPetWorld(t)
	ag, p := w.ag, w.api

	k1, err := ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("alice-key"), Enabled: true,
		Value: aws.String("alice-0123456789abcdefghij"), CustomerId: aws.String("alice"), Tags: map[string]string{"owner": "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Enabled || *k1.Value != "alice-0123456789abcdefghij" || *k1.CustomerId != "alice" || k1.Tags["owner"] != "alice" {
		t.Fatalf("CreateApiKey: %+v", k1)
	}
	k2, err := ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("bob-key")})
	if err != nil {
		t.Fatal(err)
	}
	if k2.Enabled || k2.Value == nil || len(*k2.Value) < 20 {
		t.Fatalf("generated key: enabled=%v value=%v", k2.Enabled, k2.Value)
	}
	_, err = ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("short"), Value: aws.String("tooshort")})
	wantAPIError(t, err, "BadRequestException")
	_, err = ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("dup"), Value: k1.Value})
	wantAPIError(t, err, "ConflictException")

	g, err := ag.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: k1.Id})
	if err != nil || g.Value != nil || *g.Name != "alice-key" {
		t.Fatalf("GetApiKey without includeValue: %+v %v", g, err)
	}
	g, err = ag.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: k1.Id, IncludeValue: aws.Bool(true)})
	if err != nil || g.Value == nil || *g.Value != *k1.Value {
		t.Fatalf("GetApiKey includeValue: %+v %v", g, err)
	}
	_, err = ag.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException")

	// Paging and filters.
	for i := 0; i < 6; i++ {
		must[*apigateway.CreateApiKeyOutput](t)(ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String(fmt.Sprintf("bulk-%d", i)), Enabled: true}))
	}
	var names []string
	pg := apigateway.NewGetApiKeysPaginator(ag, &apigateway.GetApiKeysInput{Limit: aws.Int32(3), IncludeValues: aws.Bool(true)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range out.Items {
			if k.Value == nil {
				t.Fatalf("includeValues: key %s without value", *k.Id)
			}
			names = append(names, *k.Name)
		}
	}
	if len(names) != 8 || names[0] != "alice-key" || names[7] != "bulk-5" {
		t.Fatalf("GetApiKeys all: %v", names)
	}
	q, err := ag.GetApiKeys(ctx, &apigateway.GetApiKeysInput{NameQuery: aws.String("bulk-")})
	if err != nil || len(q.Items) != 6 || q.Items[0].Value != nil {
		t.Fatalf("nameQuery: %d items, %v", len(q.Items), err)
	}
	q, err = ag.GetApiKeys(ctx, &apigateway.GetApiKeysInput{CustomerId: aws.String("alice")})
	if err != nil || len(q.Items) != 1 {
		t.Fatalf("customerId: %d items, %v", len(q.Items), err)
	}

	u, err := ag.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: k2.Id, PatchOperations: []agtypes.PatchOperation{
		patch(agtypes.OpReplace, "/enabled", "true"), patch(agtypes.OpReplace, "/name", "bob"),
		patch(agtypes.OpReplace, "/description", "bob's key"), patch(agtypes.OpReplace, "/customerId", "bob")}})
	if err != nil || !u.Enabled || *u.Name != "bob" || *u.Description != "bob's key" || *u.CustomerId != "bob" {
		t.Fatalf("UpdateApiKey: %+v %v", u, err)
	}
	_, err = ag.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: k2.Id, PatchOperations: []agtypes.PatchOperation{patch(agtypes.OpReplace, "/value", "x")}})
	wantAPIError(t, err, "BadRequestException")

	// Usage plan keys.
	gold := must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("gold"),
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(p.ID), Stage: aws.String("prod")}}}))
	silver := must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("silver"),
		ApiStages: []agtypes.ApiStage{{ApiId: aws.String(p.ID), Stage: aws.String("prod")}}}))
	other := must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("other")}))
	pk, err := ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: gold.Id, KeyId: k1.Id, KeyType: aws.String("API_KEY")})
	if err != nil || *pk.Id != *k1.Id || *pk.Type != "API_KEY" || *pk.Name != "alice-key" {
		t.Fatalf("CreateUsagePlanKey: %+v %v", pk, err)
	}
	_, err = ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: gold.Id, KeyId: k1.Id, KeyType: aws.String("API_KEY")})
	wantAPIError(t, err, "ConflictException")
	_, err = ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: silver.Id, KeyId: k1.Id, KeyType: aws.String("API_KEY")})
	wantAPIError(t, err, "ConflictException") // same API stage in two plans
	_, err = ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: gold.Id, KeyId: aws.String("nope"), KeyType: aws.String("API_KEY")})
	wantAPIError(t, err, "NotFoundException")
	if _, err := ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: other.Id, KeyId: k1.Id, KeyType: aws.String("API_KEY")}); err != nil {
		t.Fatal(err)
	}
	// Attaching the shared stage to "other" would put k1 in two plans for it.
	_, err = ag.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: other.Id, PatchOperations: []agtypes.PatchOperation{
		patch(agtypes.OpAdd, "/apiStages", p.ID+":prod")}})
	wantAPIError(t, err, "ConflictException")
	if _, err := ag.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: gold.Id, KeyId: k2.Id, KeyType: aws.String("API_KEY")}); err != nil {
		t.Fatal(err)
	}
	keys, err := ag.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: gold.Id, Limit: aws.Int32(1)})
	if err != nil || len(keys.Items) != 1 || keys.Position == nil {
		t.Fatalf("GetUsagePlanKeys page: %+v %v", keys, err)
	}
	keys, err = ag.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: gold.Id, NameQuery: aws.String("bob")})
	if err != nil || len(keys.Items) != 1 || *keys.Items[0].Id != *k2.Id {
		t.Fatalf("GetUsagePlanKeys nameQuery: %+v %v", keys, err)
	}
	if _, err := ag.GetUsagePlanKey(ctx, &apigateway.GetUsagePlanKeyInput{UsagePlanId: gold.Id, KeyId: k2.Id}); err != nil {
		t.Fatal(err)
	}
	plans, err := ag.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{KeyId: k1.Id})
	if err != nil || len(plans.Items) != 2 {
		t.Fatalf("GetUsagePlans keyId: %d %v", len(plans.Items), err)
	}
	if _, err := ag.DeleteUsagePlanKey(ctx, &apigateway.DeleteUsagePlanKeyInput{UsagePlanId: gold.Id, KeyId: k2.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = ag.GetUsagePlanKey(ctx, &apigateway.GetUsagePlanKeyInput{UsagePlanId: gold.Id, KeyId: k2.Id})
	wantAPIError(t, err, "NotFoundException")

	if _, err := ag.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: k1.Id}); err != nil {
		t.Fatal(err)
	}
	keys = must[*apigateway.GetUsagePlanKeysOutput](t)(ag.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: gold.Id}))
	if len(keys.Items) != 0 {
		t.Fatalf("deleted key still in plan: %+v", keys.Items)
	}
	_, err = ag.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: k1.Id})
	wantAPIError(t, err, "NotFoundException")
}

func TestTags(t *testing.T) {
	ctx := context.Background()
	_, c := startSandbox(t, Options{Region: "eu-west-1"})
	ag := c.APIGateway
	plan := must[*apigateway.CreateUsagePlanOutput](t)(ag.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p"), Tags: map[string]string{"a": "1"}}))
	key := must[*apigateway.CreateApiKeyOutput](t)(ag.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k")}))
	planARN := "arn:aws:apigateway:eu-west-1::/usageplans/" + *plan.Id
	keyARN := "arn:aws:apigateway:eu-west-1::/apikeys/" + *key.Id

	if _, err := ag.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(planARN), Tags: map[string]string{"b": "2"}}); err != nil {
		t.Fatal(err)
	}
	tags := must[*apigateway.GetTagsOutput](t)(ag.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String(planARN)}))
	if tags.Tags["a"] != "1" || tags.Tags["b"] != "2" || len(tags.Tags) != 2 {
		t.Fatalf("plan tags: %v", tags.Tags)
	}
	if _, err := ag.UntagResource(ctx, &apigateway.UntagResourceInput{ResourceArn: aws.String(planARN), TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	got := must[*apigateway.GetUsagePlanOutput](t)(ag.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: plan.Id}))
	if len(got.Tags) != 1 || got.Tags["b"] != "2" {
		t.Fatalf("plan tags after untag: %v", got.Tags)
	}
	if _, err := ag.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(keyARN), Tags: map[string]string{"team": "x"}}); err != nil {
		t.Fatal(err)
	}
	tags = must[*apigateway.GetTagsOutput](t)(ag.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String(keyARN)}))
	if tags.Tags["team"] != "x" {
		t.Fatalf("key tags: %v", tags.Tags)
	}
	_, err := ag.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String("arn:aws:apigateway:eu-west-1::/usageplans/nope")})
	wantAPIError(t, err, "NotFoundException")
	_, err = ag.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(keyARN), Tags: map[string]string{"aws:x": "y"}})
	wantAPIError(t, err, "BadRequestException")
}
