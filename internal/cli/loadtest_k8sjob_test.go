package cli

import (
	"path/filepath"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"

	"github.com/apictl/apictl/internal/golden"
)

// decodeJobStrictly decodes a manifest with the Kubernetes API machinery's
// serializer in strict mode (unknown and duplicate fields are errors) into
// a registered batch/v1 Job.
func decodeJobStrictly(t *testing.T, manifest string) *batchv1.Job {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := batchv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	s := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
	obj, gvk, err := s.Decode([]byte(manifest), nil, nil)
	if err != nil {
		t.Fatalf("strict decode: %v\n%s", err, manifest)
	}
	job, ok := obj.(*batchv1.Job)
	if !ok || gvk.Group != "batch" || gvk.Version != "v1" || gvk.Kind != "Job" {
		t.Fatalf("decoded %T as %v", obj, gvk)
	}
	return job
}

// TestLoadtestK8sJobGolden: the manifest of a fixed clock (the test
// factory's 2026-11-29 12:00 UTC) with the default --start-delay, as YAML
// and JSON, both decoding strictly into the same Job.
func TestLoadtestK8sJobGolden(t *testing.T) {
	args := []string{"loadtest", "k8s-job", "--shards", "3", "--image", "ghcr.io/apictl/apictl:v1.2.3",
		"--namespace", "load", "--service-account", "apictl-loadtest", "--results", "s3://lt-results/run-42/",
		"--", "https://api.example.com/pets", "--rate", "6000", "--duration", "5m", "--slo", "p99<300ms"}
	out, stderr, err := runLoadtest(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	golden.Check(t, filepath.Join("testdata", "k8sjob", "job.yaml"), []byte(out))
	job := decodeJobStrictly(t, out)
	if job.Name != "apictl-loadtest-20261129-120100" || *job.Spec.Parallelism != 3 || *job.Spec.Completions != 3 ||
		*job.Spec.CompletionMode != batchv1.IndexedCompletion || *job.Spec.BackoffLimit != 0 {
		t.Errorf("job %s: %+v", job.Name, job.Spec)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if got := strings.Join(c.Args, " "); !strings.HasSuffix(got, "--slo p99<300ms --shard $(JOB_COMPLETION_INDEX)/3 --start-at 2026-11-29T12:01:00Z --results s3://lt-results/run-42/") {
		t.Errorf("args %s", got)
	}
	if !strings.Contains(stderr, "3 shards start together at 2026-11-29T12:01:00Z") {
		t.Errorf("stderr %q", stderr)
	}

	jsonOut, _, err := runLoadtest(t, append([]string{"-o", "json"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(jsonOut, "{") {
		t.Fatalf("-o json printed %q", jsonOut[:min(40, len(jsonOut))])
	}
	if j := decodeJobStrictly(t, jsonOut); strings.Join(j.Spec.Template.Spec.Containers[0].Args, " ") != strings.Join(c.Args, " ") {
		t.Error("the JSON manifest differs from the YAML one")
	}
}

func TestLoadtestK8sJobStartAt(t *testing.T) {
	out, stderr, err := runLoadtest(t, "loadtest", "k8s-job", "--shards", "2", "--image", "img", "--results", "s3://b-1/x",
		"--start-at", "2027-01-02T03:04:05Z", "--name", "nightly", "--cpu", "500m", "--memory", "256Mi", "--ttl", "10m",
		"--", "http://127.0.0.1:8080/", "--rate", "10")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	job := decodeJobStrictly(t, out)
	c := job.Spec.Template.Spec.Containers[0]
	if job.Name != "nightly" || !strings.Contains(strings.Join(c.Args, " "), "--start-at 2027-01-02T03:04:05Z --results s3://b-1/x") ||
		c.Resources.Requests.Cpu().String() != "500m" || c.Resources.Limits.Memory().String() != "256Mi" || *job.Spec.TTLSecondsAfterFinished != 600 {
		t.Errorf("job %s args %v resources %v ttl %d", job.Name, c.Args, c.Resources, *job.Spec.TTLSecondsAfterFinished)
	}
}

func TestLoadtestK8sJobFlagErrors(t *testing.T) {
	base := []string{"loadtest", "k8s-job", "--shards", "3", "--image", "img", "--results", "s3://lt-results/r/"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"loadtest", "k8s-job", "--image", "img", "--results", "s3://b-1/", "--", "http://x/"}, "--shards is required"},
		{[]string{"loadtest", "k8s-job", "--shards", "2", "--results", "s3://b-1/", "--", "http://x/"}, "--image is required"},
		{[]string{"loadtest", "k8s-job", "--shards", "2", "--image", "i", "--", "http://x/"}, "--results s3://bucket/prefix/ is required"},
		{[]string{"loadtest", "k8s-job", "--shards", "2", "--image", "i", "--results", "r.gob", "--", "http://x/"}, "need an s3://"},
		{append(append([]string{}, base...), "http://x/"), "after --"},
		{append(append([]string{}, base...), "--"), "no loadtest arguments"},
		{append(append([]string{}, base...), "--", "http://x/", "--shard", "1/3"), "--shard goes before --"},
		{append(append([]string{}, base...), "--", "http://x/", "--rat", "5"), "loadtest arguments: unknown flag: --rat"},
		{append(append([]string{}, base...), "--start-at", "tomorrow", "--", "http://x/"), "RFC 3339"},
		{append(append([]string{}, base...), "--name", "Bad_Name", "--", "http://x/"), "job name"},
		{append(append([]string{"-o", "markdown"}, base...), "--", "http://x/"), "-o yaml"},
	} {
		_, _, err := runLoadtest(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
		if ExitCode(err) != ExitError {
			t.Errorf("%v: exit %d", c.args, ExitCode(err))
		}
	}
}
