package cw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// awsCLIs returns the distinct AWS CLI executables on this machine: the one on
// PATH and Debian's /usr/bin/aws. AWS CLI 2.9 (Debian 12) speaks the Query
// protocol to CloudWatch; current releases speak Smithy RPC v2 CBOR.
func awsCLIs() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range []string{"aws", "/usr/bin/aws"} {
		p, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			real = p
		}
		if !seen[real] {
			seen[real] = true
			out = append(out, p)
		}
	}
	return out
}

func TestAWSCLI(t *testing.T) {
	clis := awsCLIs()
	if len(clis) == 0 {
		t.Skip("no aws CLI installed (apt-get install awscli)")
	}
	store := NewStore(nil)
	h := NewHandler(store)
	var (
		mu     sync.Mutex
		protos = map[string]bool{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Real CLI traffic must be recognised, and the handler still sees the whole body.
		if !IsCloudWatchRequest(r) {
			t.Errorf("IsCloudWatchRequest = false for the CLI's %s %s", r.Method, r.URL.Path)
		}
		proto := "query"
		if strings.HasPrefix(r.URL.Path, cborPathPrefix) {
			proto = "rpc-v2-cbor"
		} else if r.Header.Get("X-Amz-Target") != "" {
			proto = "json"
		}
		mu.Lock()
		protos[strings.Fields(r.UserAgent() + " ?")[0]+" → "+proto] = true
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close) // not defer: the parallel subtests run after this function returns
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1", "AWS_PAGER=",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1")

	t.Cleanup(func() {
		for p := range protos {
			t.Logf("client and protocol: %s", p)
		}
	})
	for i, cli := range clis {
		t.Run(fmt.Sprintf("cli%d", i), func(t *testing.T) {
			t.Parallel() // each CLI call is mostly Python start-up
			run := func(args ...string) ([]byte, error) {
				cmd := exec.Command(cli, append([]string{"cloudwatch", "--endpoint-url", srv.URL, "--output", "json"}, args...)...)
				cmd.Env = env
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					return out, fmt.Errorf("aws %s: %w: %s", strings.Join(args[:1], " "), err, stderr.Bytes())
				}
				return out, nil
			}
			ns := fmt.Sprintf("Apictl/CLI%d", i)
			// One call with both shapes of datum: a single Value (shorthand
			// --dimensions order) and Values with Counts.
			if _, err := run("put-metric-data", "--namespace", ns, "--metric-data",
				`[{"MetricName":"Latency","Dimensions":[{"Name":"ApiName","Value":"shop"},{"Name":"Stage","Value":"prod"}],"Value":12.5,"Unit":"Milliseconds"},`+
					`{"MetricName":"Latency","Dimensions":[{"Name":"Stage","Value":"prod"},{"Name":"ApiName","Value":"shop"}],"Values":[1,2,3],"Counts":[1,1,2],"Unit":"Milliseconds"}]`); err != nil {
				t.Fatal(err)
			}

			out, err := run("list-metrics", "--namespace", ns, "--dimensions", "Name=Stage")
			if err != nil {
				t.Fatal(err)
			}
			var lm struct{ Metrics []Metric }
			if err := json.Unmarshal(out, &lm); err != nil {
				t.Fatalf("list-metrics output %s: %v", out, err)
			}
			if len(lm.Metrics) != 1 || lm.Metrics[0].MetricName != "Latency" || len(lm.Metrics[0].Dimensions) != 2 {
				t.Fatalf("list-metrics = %s", out)
			}

			var queries []map[string]any
			for _, st := range []string{"Sum", "SampleCount", "p50", "Maximum"} {
				queries = append(queries, map[string]any{
					"Id": strings.ToLower(st),
					"MetricStat": map[string]any{
						"Metric": map[string]any{"Namespace": ns, "MetricName": "Latency",
							"Dimensions": []map[string]string{{"Name": "ApiName", "Value": "shop"}, {"Name": "Stage", "Value": "prod"}}},
						"Period": 3600, "Stat": st,
					},
				})
			}
			qjson, _ := json.Marshal(queries)
			now := time.Now().UTC()
			out, err = run("get-metric-data", "--metric-data-queries", string(qjson),
				"--start-time", now.Add(-10*time.Minute).Format(time.RFC3339), "--end-time", now.Add(2*time.Minute).Format(time.RFC3339))
			if err != nil {
				t.Fatal(err)
			}
			var gmd struct {
				MetricDataResults []struct {
					ID         string `json:"Id"`
					StatusCode string
					Timestamps []any // ISO 8601 strings (CLI v2) or epoch seconds (CLI v1)
					Values     []float64
				}
			}
			if err := json.Unmarshal(out, &gmd); err != nil {
				t.Fatalf("get-metric-data output %s: %v", out, err)
			}
			want := map[string]float64{"sum": 12.5 + 1 + 2 + 3*2, "samplecount": 5, "p50": 3, "maximum": 12.5}
			if len(gmd.MetricDataResults) != len(want) {
				t.Fatalf("get-metric-data = %s", out)
			}
			for _, r := range gmd.MetricDataResults {
				if len(r.Values) != 1 || r.Values[0] != want[r.ID] || len(r.Timestamps) != 1 || r.StatusCode != "Complete" {
					t.Errorf("%s: %+v, want value %v", r.ID, r, want[r.ID])
				}
			}

			// 501 queries are refused with ValidationError.
			queries = queries[:0]
			for n := range 501 {
				queries = append(queries, map[string]any{"Id": fmt.Sprintf("q%d", n),
					"MetricStat": map[string]any{"Metric": map[string]any{"Namespace": ns, "MetricName": "Latency"}, "Period": 60, "Stat": "Sum"}})
			}
			qjson, _ = json.Marshal(queries)
			qfile := filepath.Join(dir, fmt.Sprintf("queries%d.json", i))
			if err := os.WriteFile(qfile, qjson, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = run("get-metric-data", "--metric-data-queries", "file://"+qfile,
				"--start-time", now.Add(-10*time.Minute).Format(time.RFC3339), "--end-time", now.Format(time.RFC3339))
			if err == nil || !strings.Contains(err.Error(), "ValidationError") {
				t.Errorf("501 queries: err %v, want a ValidationError", err)
			}
		})
	}
}
