package sandbox

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/apictl/apictl/internal/sandbox/sandboxtest"
)

// TestAWSCLI drives the sandbox with the AWS CLI (CI installs Debian's
// awscli): create-usage-plan, get-usage-plans, update-stage and
// cloudwatch get-metric-data, whichever protocol the installed CLI speaks.
func TestAWSCLI(t *testing.T) {
	sb, c := startSandbox(t, Options{})
	run := sandboxtest.NewAWSCLI(t, sb.URL(), "us-east-1").JSON
	ctx := context.Background()

	p := createPetAPI(t, c.APIGateway, "cli-pets")

	var plan struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Throttle struct {
			RateLimit  float64 `json:"rateLimit"`
			BurstLimit int     `json:"burstLimit"`
		} `json:"throttle"`
		APIStages []struct {
			APIID string `json:"apiId"`
			Stage string `json:"stage"`
		} `json:"apiStages"`
	}
	run(&plan, "apigateway", "create-usage-plan", "--name", "cli-gold",
		"--throttle", "burstLimit=20,rateLimit=10",
		"--api-stages", "apiId="+p.ID+",stage=prod")
	if plan.ID == "" || plan.Name != "cli-gold" || plan.Throttle.RateLimit != 10 || plan.Throttle.BurstLimit != 20 ||
		len(plan.APIStages) != 1 || plan.APIStages[0].APIID != p.ID {
		t.Fatalf("create-usage-plan: %+v", plan)
	}

	var plans struct {
		Items []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	run(&plans, "apigateway", "get-usage-plans")
	if len(plans.Items) != 1 || plans.Items[0].ID != plan.ID || plans.Items[0].Name != "cli-gold" {
		t.Fatalf("get-usage-plans: %+v", plans)
	}

	var stage struct {
		MethodSettings map[string]struct {
			ThrottlingRateLimit  float64 `json:"throttlingRateLimit"`
			ThrottlingBurstLimit int     `json:"throttlingBurstLimit"`
			MetricsEnabled       bool    `json:"metricsEnabled"`
		} `json:"methodSettings"`
	}
	run(&stage, "apigateway", "update-stage", "--rest-api-id", p.ID, "--stage-name", "prod", "--patch-operations",
		"op=replace,path=/*/*/throttling/rateLimit,value=100",
		"op=replace,path=/*/*/metrics/enabled,value=true",
		"op=replace,path=/~1pets/GET/throttling/burstLimit,value=7")
	if ms := stage.MethodSettings["*/*"]; ms.ThrottlingRateLimit != 100 || !ms.MetricsEnabled {
		t.Fatalf("update-stage */*: %+v", stage.MethodSettings)
	}
	if ms := stage.MethodSettings["~1pets/GET"]; ms.ThrottlingBurstLimit != 7 {
		t.Fatalf("update-stage ~1pets/GET: %+v", stage.MethodSettings)
	}
	// The CLI's change is what the SDK reads back.
	got := must[*apigateway.GetStageOutput](t)(c.APIGateway.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(p.ID), StageName: aws.String("prod")}))
	if got.MethodSettings["~1pets/GET"].ThrottlingBurstLimit != 7 {
		t.Fatalf("GetStage after CLI update-stage: %+v", got.MethodSettings)
	}

	// Traffic, then its metrics through cloudwatch get-metric-data.
	sb.SetBackend(p.ID, &okBackend{})
	for i := 0; i < 6; i++ {
		resp, err := http.Get(sb.InvokeURL(p.ID, "prod") + "/pets/1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	now := time.Now().UTC()
	queries := `[{"Id":"requests","MetricStat":{"Metric":{"Namespace":"AWS/ApiGateway","MetricName":"Count",` +
		`"Dimensions":[{"Name":"ApiName","Value":"cli-pets"},{"Name":"Stage","Value":"prod"}]},"Period":60,"Stat":"Sum"}},` +
		`{"Id":"detailed","MetricStat":{"Metric":{"Namespace":"AWS/ApiGateway","MetricName":"Count",` +
		`"Dimensions":[{"Name":"ApiName","Value":"cli-pets"},{"Name":"Method","Value":"GET"},{"Name":"Resource","Value":"/pets/{petId}"},{"Name":"Stage","Value":"prod"}]},"Period":60,"Stat":"Sum"}}]`
	var md struct {
		MetricDataResults []struct {
			ID     string    `json:"Id"`
			Values []float64 `json:"Values"`
		} `json:"MetricDataResults"`
	}
	run(&md, "cloudwatch", "get-metric-data",
		"--start-time", now.Add(-10*time.Minute).Format(time.RFC3339),
		"--end-time", now.Add(5*time.Minute).Format(time.RFC3339),
		"--metric-data-queries", queries)
	sums := map[string]float64{}
	for _, r := range md.MetricDataResults {
		for _, v := range r.Values {
			sums[r.ID] += v
		}
	}
	if sums["requests"] != 6 || sums["detailed"] != 6 {
		t.Fatalf("get-metric-data: %+v", md)
	}
	calls := sb.Calls()
	if calls["CreateUsagePlan"] != 1 || calls["GetUsagePlans"] != 1 || calls["UpdateStage"] != 1 || calls["GetMetricData"] != 1 {
		t.Fatalf("calls: %v", calls)
	}
}
