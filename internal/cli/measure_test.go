package cli

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/apictl/apictl/internal/golden"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/measure"
	"github.com/apictl/apictl/internal/sandbox"
	"github.com/apictl/apictl/internal/sandbox/cw"
)

func TestMeasureFlags(t *testing.T) {
	run := func(args ...string) (*MeasureOptions, error) {
		f, _ := NewTestFactory(t)
		var got *MeasureOptions
		cmd := NewCmdMeasure(f, func(o *MeasureOptions) error { got = o; return nil })
		cmd.SetArgs(append([]string{}, args...)) // nil would make cobra read os.Args
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		return got, err
	}
	o, err := run("--api", "shop", "--stage", "prod", "--since", "7d", "--by", "method", "--period", "5m")
	if err != nil {
		t.Fatal(err)
	}
	mo, err := o.measureOptions()
	if err != nil {
		t.Fatal(err)
	}
	if mo.API != "shop" || mo.Stage != "prod" || mo.Since != 7*24*time.Hour || !mo.ByMethod || mo.PeriodSeconds != 300 || mo.Now == nil {
		t.Errorf("options %+v", mo)
	}
	o, err = run("--api", "a1", "--start", "2026-11-01", "--end", "2026-11-08T12:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	mo, err = o.measureOptions()
	if err != nil || !mo.Start.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || mo.End.Hour() != 12 || mo.PeriodSeconds != 0 {
		t.Errorf("start/end: %+v %v", mo, err)
	}

	var fe *FlagError
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--api is required"},
		{[]string{"--api", "x", "--since", "1h", "--start", "2026-11-01"}, "cannot be used together"},
		{[]string{"--api", "x", "--end", "2026-11-01"}, "--end needs"},
		{[]string{"--api", "x", "--by", "route"}, `invalid --by "route"`},
	} {
		_, err := run(c.args...)
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want flag error %q", c.args, err, c.want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--api", "x", "--period", "90s"}, "multiple of 60"},
		{[]string{"--api", "x", "--since", "soon"}, `invalid --since "soon"`},
		{[]string{"--api", "x", "--start", "yesterday"}, "--start: invalid time"},
	} {
		o, err := run(c.args...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.measureOptions(); !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want flag error %q", c.args, err, c.want)
		}
	}
}

// measureSandbox serves a sandbox holding REST API "shop" with stage prod
// (*/* 5 rps burst 10, detailed metrics on) and this traffic before the
// test factory's clock (12:00), and returns the sandbox and the API id: 11:10 GET /pets 240 requests at 12 ms,
// 11:30 POST /cart 30 requests at 40 ms (3 answered 5xx).
func measureSandbox(t *testing.T) (*sandbox.Sandbox, string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{Region: "us-east-1"})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	ctx := context.Background()
	c, err := awsapi.NewClients(ctx, SandboxSettings(url))
	if err != nil {
		t.Fatal(err)
	}
	ag := c.APIGateway
	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("shop")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: api.RootResourceId, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	var ops []agtypes.PatchOperation
	for _, kv := range [][2]string{{"/*/*/throttling/rateLimit", "5"}, {"/*/*/throttling/burstLimit", "10"}, {"/*/*/metrics/enabled", "true"}} {
		ops = append(ops, agtypes.PatchOperation{Op: agtypes.OpReplace, Path: aws.String(kv[0]), Value: aws.String(kv[1])})
	}
	if _, err := ag.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: api.Id, StageName: aws.String("prod"), PatchOperations: ops}); err != nil {
		t.Fatal(err)
	}
	put := func(ts time.Time, method, resource string, n, n5xx int, latency float64) {
		for _, d := range [][]cw.Dimension{
			{{Name: "ApiName", Value: "shop"}, {Name: "Stage", Value: "prod"}},
			{{Name: "ApiName", Value: "shop"}, {Name: "Stage", Value: "prod"}, {Name: "Method", Value: method}, {Name: "Resource", Value: resource}},
		} {
			st := sb.Metrics()
			st.Put("AWS/ApiGateway", cw.Datum{MetricName: "Count", Dimensions: d, Timestamp: ts, Value: float64(n)})
			st.Put("AWS/ApiGateway", cw.Datum{MetricName: "4XXError", Dimensions: d, Timestamp: ts, Value: 0})
			st.Put("AWS/ApiGateway", cw.Datum{MetricName: "5XXError", Dimensions: d, Timestamp: ts, Value: float64(n5xx)})
			st.Put("AWS/ApiGateway", cw.Datum{MetricName: "Latency", Dimensions: d, Timestamp: ts, Values: []float64{latency}, Counts: []float64{float64(n)}})
			st.Put("AWS/ApiGateway", cw.Datum{MetricName: "IntegrationLatency", Dimensions: d, Timestamp: ts, Values: []float64{latency - 1}, Counts: []float64{float64(n)}})
		}
	}
	put(time.Date(2026, 11, 29, 11, 10, 0, 0, time.UTC), "GET", "/pets", 240, 0, 12)
	put(time.Date(2026, 11, 29, 11, 30, 0, 0, time.UTC), "POST", "/cart", 30, 3, 40)
	return sb, *api.Id
}

func TestMeasureCommandGolden(t *testing.T) {
	sb, apiID := measureSandbox(t)
	for _, format := range []string{"table", "markdown", "json"} {
		t.Run(format, func(t *testing.T) {
			f, tio := NewTestFactory(t)
			root := NewCmdRoot(f, BuildInfo{Version: "test"})
			root.SetArgs([]string{"--endpoint-url", sb.URL(), "-o", format, "measure", "--api", "shop", "--stage", "prod", "--since", "1h", "--by", "method"})
			if err := root.ExecuteContext(context.Background()); err != nil {
				t.Fatalf("%v\nstderr: %s", err, tio.ErrOut)
			}
			// The sandbox makes up API ids.
			out := strings.ReplaceAll(tio.Out.String(), apiID, "API_ID")
			if strings.Contains(out, "\x1b[") {
				t.Error("colour escapes with colour off")
			}
			if tio.ErrOut.Len() != 0 {
				t.Errorf("stderr without a terminal or -v: %q", tio.ErrOut)
			}
			goldenFile(t, filepath.Join("testdata", "measure", "shop-prod."+format+".golden"), []byte(out))
			for i, line := range strings.Split(out, "\n") {
				if w := len([]rune(line)); format == "table" && w > MaxTableWidth {
					t.Errorf("line %d is %d columns wide, want at most %d", i+1, w, MaxTableWidth)
				}
			}
		})
	}
	// The JSON is what plan generate reads back.
	f, tio := NewTestFactory(t)
	root := NewCmdRoot(f, BuildInfo{Version: "test"})
	root.SetArgs([]string{"--endpoint-url", sb.URL(), "-o", "json", "-v", "measure", "--api", "shop", "--since", "1h"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tio.ErrOut.String(), "measuring shop from CloudWatch") {
		t.Errorf("no progress line with -v: %q", tio.ErrOut)
	}
	u, err := measure.ReadUsage(tio.Out, "prod")
	if err != nil || u.Totals.Count != 270 || u.Totals.PeakRPS != 4 || u.Throttle.Stage == nil || u.Throttle.Stage.Rate != 5 {
		t.Errorf("read back: %+v %v", u, err)
	}
	// A period set with --period says so in the CLI's words (the library
	// only knows it was set).
	f, tio = NewTestFactory(t)
	root = NewCmdRoot(f, BuildInfo{Version: "test"})
	root.SetArgs([]string{"--endpoint-url", sb.URL(), "-o", "json", "measure", "--api", "shop", "--since", "1h", "--period", "5m"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u, err := measure.ReadUsage(tio.Out, "prod"); err != nil {
		t.Error(err)
	} else if u.PeriodRule != "300s: set with --period" {
		t.Errorf("period rule %q, want %q", u.PeriodRule, "300s: set with --period")
	}
}

func TestMeasureCommandErrors(t *testing.T) {
	sb, _ := measureSandbox(t)
	for _, c := range []struct {
		args      []string
		err, hint string
	}{
		{[]string{"--api", "nope"}, `no REST or HTTP API named or with id "nope"`, "hint: APIs in this region: shop ("},
		{[]string{"--api", "shop", "--stage", "qa"}, `has no stage "qa"`, "hint: its stages: prod"},
	} {
		f, tio := NewTestFactory(t)
		root := NewCmdRoot(f, BuildInfo{Version: "test"})
		root.SetArgs(append([]string{"--endpoint-url", sb.URL(), "measure"}, c.args...))
		err := root.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Fatalf("%v: err = %v", c.args, err)
		}
		var buf bytes.Buffer
		PrintError(&buf, err)
		if !strings.Contains(buf.String(), c.hint) || ExitCode(err) != ExitError {
			t.Errorf("%v: printed %q (exit %d)", c.args, buf.String(), ExitCode(err))
		}
		if tio.Out.Len() != 0 {
			t.Errorf("stdout on error: %q", tio.Out)
		}
	}
}

func goldenFile(t *testing.T, path string, got []byte) {
	t.Helper()
	goldenfile.Check(t, path, got)
}
