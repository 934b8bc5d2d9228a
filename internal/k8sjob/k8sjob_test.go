package k8sjob_test

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/yaml"

	"github.com/apictl/apictl/internal/k8sjob"
)

// DecodeStrict decodes a manifest as the API server's serializer does with
// strict field checking: unknown or duplicate fields are errors, and the
// apiVersion/kind must name a registered type.
func DecodeStrict(t testing.TB, manifest []byte) (*batchv1.Job, *schema.GroupVersionKind) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := batchv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	s := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
	obj, gvk, err := s.Decode(manifest, nil, nil)
	if err != nil {
		t.Fatalf("strict decode: %v\n%s", err, manifest)
	}
	job, ok := obj.(*batchv1.Job)
	if !ok {
		t.Fatalf("decoded a %T, not a batch/v1 Job", obj)
	}
	return job, gvk
}

func spec() k8sjob.Spec {
	return k8sjob.Spec{
		Name: "lt-1", Namespace: "load", Image: "ghcr.io/apictl/apictl:v1.2.3", ServiceAccount: "apictl-loadtest",
		Shards: 3, StartAt: time.Date(2026, 11, 29, 12, 1, 0, 0, time.UTC), Results: "s3://lt-results/run-1/",
		LoadtestArgs: []string{"https://api.example.com/pets", "--rate", "3000", "--duration", "5m", "-H", "X-Cost: $(not-a-var)"},
	}
}

func TestJobDecodesStrictly(t *testing.T) {
	job, err := k8sjob.Build(spec())
	if err != nil {
		t.Fatal(err)
	}
	out, err := k8sjob.YAML(job)
	if err != nil {
		t.Fatal(err)
	}
	jsonOut, err := k8sjob.JSON(job)
	if err != nil {
		t.Fatal(err)
	}
	if fromJSON, _ := DecodeStrict(t, jsonOut); fromJSON.Spec.Template.Spec.Containers[0].Image != job.Spec.Template.Spec.Containers[0].Image {
		t.Errorf("the JSON manifest differs from the YAML one")
	}
	got, gvk := DecodeStrict(t, out)
	if gvk.Group != "batch" || gvk.Version != "v1" || gvk.Kind != "Job" {
		t.Errorf("apiVersion/kind = %v", gvk)
	}
	js := got.Spec
	if got.Name != "lt-1" || got.Namespace != "load" {
		t.Errorf("metadata %+v", got.ObjectMeta)
	}
	if js.CompletionMode == nil || *js.CompletionMode != batchv1.IndexedCompletion ||
		js.Completions == nil || *js.Completions != 3 || js.Parallelism == nil || *js.Parallelism != 3 {
		t.Errorf("completionMode %v, completions %v, parallelism %v", js.CompletionMode, js.Completions, js.Parallelism)
	}
	if js.BackoffLimit == nil || *js.BackoffLimit != 0 || js.TTLSecondsAfterFinished == nil || *js.TTLSecondsAfterFinished != 3600 {
		t.Errorf("backoffLimit %v, ttlSecondsAfterFinished %v", js.BackoffLimit, js.TTLSecondsAfterFinished)
	}
	ps := js.Template.Spec
	if ps.RestartPolicy != corev1.RestartPolicyNever || ps.ServiceAccountName != "apictl-loadtest" || len(ps.Containers) != 1 {
		t.Fatalf("pod spec %+v", ps)
	}
	c := ps.Containers[0]
	if c.Image != "ghcr.io/apictl/apictl:v1.2.3" || len(c.Command) != 0 {
		t.Errorf("image %q command %v (the image's entrypoint is apictl)", c.Image, c.Command)
	}
	want := "loadtest https://api.example.com/pets --rate 3000 --duration 5m -H X-Cost: $$(not-a-var) " +
		"--shard $(JOB_COMPLETION_INDEX)/3 --start-at 2026-11-29T12:01:00Z --results s3://lt-results/run-1/"
	if got := strings.Join(c.Args, " "); got != want {
		t.Errorf("args\n got %s\nwant %s", got, want)
	}
	if len(c.Env) != 1 || c.Env[0].Name != "JOB_COMPLETION_INDEX" || c.Env[0].ValueFrom == nil || c.Env[0].ValueFrom.FieldRef == nil ||
		c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("env %+v: JOB_COMPLETION_INDEX must be declared from the annotation for $(…) to expand", c.Env)
	}
	for _, rl := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
		if rl.Cpu().String() != "2" || rl.Memory().String() != "1Gi" {
			t.Errorf("resources %v", rl)
		}
	}
	if sc := c.SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		ps.SecurityContext == nil || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot {
		t.Errorf("security context %+v / %+v", sc, ps.SecurityContext)
	}
	if tsc := ps.TopologySpreadConstraints; len(tsc) != 1 || tsc[0].TopologyKey != "kubernetes.io/hostname" ||
		tsc[0].WhenUnsatisfiable != corev1.ScheduleAnyway || tsc[0].LabelSelector.MatchLabels["app.kubernetes.io/instance"] != "lt-1" ||
		got.Spec.Template.Labels["app.kubernetes.io/instance"] != "lt-1" {
		t.Errorf("spread %+v over pods labelled %v", tsc, got.Spec.Template.Labels)
	}
	// Nothing the API server would fill in or reject: no status, no
	// creationTimestamp.
	var raw map[string]any
	if err := yaml.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["status"]; ok {
		t.Errorf("manifest has a status:\n%s", out)
	}
	if strings.Contains(string(out), "creationTimestamp") {
		t.Errorf("manifest has a creationTimestamp:\n%s", out)
	}
}

// TestStrictDecodingCatchesTypos shows the check can fail: a misspelt field
// is refused.
func TestStrictDecodingCatchesTypos(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := batchv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	s := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
	if _, _, err := s.Decode([]byte("apiVersion: batch/v1\nkind: Job\nspec:\n  completionMod: Indexed\n"), nil, nil); err == nil {
		t.Error("a misspelt field decoded without error")
	}
}

func TestBuildRefuses(t *testing.T) {
	for name, mut := range map[string]func(*k8sjob.Spec){
		"name":       func(s *k8sjob.Spec) { s.Name = "Bad_Name" },
		"namespace":  func(s *k8sjob.Spec) { s.Namespace = "a.b" },
		"image":      func(s *k8sjob.Spec) { s.Image = "" },
		"shards":     func(s *k8sjob.Spec) { s.Shards = 0 },
		"start":      func(s *k8sjob.Spec) { s.StartAt = time.Time{} },
		"results":    func(s *k8sjob.Spec) { s.Results = "" },
		"cpu":        func(s *k8sjob.Spec) { s.CPU = "two" },
		"memory":     func(s *k8sjob.Spec) { s.Memory = "0" },
		"shard flag": func(s *k8sjob.Spec) { s.LoadtestArgs = append(s.LoadtestArgs, "--shard=1/2") },
		"start flag": func(s *k8sjob.Spec) { s.LoadtestArgs = append(s.LoadtestArgs, "--start-at", "x") },
	} {
		s := spec()
		mut(&s)
		if _, err := k8sjob.Build(s); err == nil {
			t.Errorf("%s: built", name)
		}
	}
}
