// Package k8sjob builds the Kubernetes Indexed Job that runs a sharded
// 'apictl loadtest' on N pods at once: pod I runs shard I/N, every pod starts
// its load at the same --start-at, and each streams its results to S3 for
// 'apictl loadtest merge s3://…'. The Job is built from the k8s.io/api types
// and marshalled with sigs.k8s.io/yaml, so it is valid by construction, not
// by template.
package k8sjob

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// IndexEnv is the environment variable that holds the pod's completion
// index. The Job controller sets it on Indexed Jobs; the Job also declares
// it from the pod's annotation (the downward API), so that $(IndexEnv) in
// the container's arguments is expanded by the documented rule for
// variables the container defines.
const IndexEnv = "JOB_COMPLETION_INDEX"

// IndexAnnotation is the pod annotation holding the completion index.
const IndexAnnotation = "batch.kubernetes.io/job-completion-index"

// Defaults of a Spec's optional fields.
const (
	DefaultCPU    = "2"
	DefaultMemory = "1Gi"
	DefaultTTL    = time.Hour
)

// Spec describes the Job.
type Spec struct {
	// Name of the Job (a DNS-1123 label); Namespace "" leaves it to kubectl.
	Name      string
	Namespace string
	// Image holds apictl as its entrypoint (ghcr.io/apictl/apictl:vX.Y.Z).
	Image string
	// ServiceAccount runs the pods; bind it to an IAM role (IRSA or EKS Pod
	// Identity) allowed to write the results and sign the requests.
	ServiceAccount string
	// Shards is the number of pods, all running at once.
	Shards int
	// StartAt is when every shard starts its load.
	StartAt time.Time
	// Results is the s3://bucket/prefix/ every shard writes its object under.
	Results string
	// LoadtestArgs are the arguments of 'apictl loadtest' (target, rate or
	// ramp, objectives…), without --shard, --start-at and --results.
	LoadtestArgs []string
	// CPU and Memory are each pod's requests and limits (equal: the
	// Guaranteed QoS class, so a generator is neither throttled below what it
	// asked nor evicted first); "" means DefaultCPU, DefaultMemory.
	CPU, Memory string
	// TTL is how long a finished Job stays for 'kubectl logs'; 0 means
	// DefaultTTL.
	TTL time.Duration
}

// ReservedFlags are the loadtest flags the Job sets itself.
var ReservedFlags = []string{"--shard", "--start-at", "--results"}

// Build returns the Job of s.
func Build(s Spec) (*batchv1.Job, error) {
	if errs := validation.IsDNS1123Label(s.Name); len(errs) > 0 {
		return nil, fmt.Errorf("job name %q: %s", s.Name, strings.Join(errs, "; "))
	}
	if s.Namespace != "" {
		if errs := validation.IsDNS1123Label(s.Namespace); len(errs) > 0 {
			return nil, fmt.Errorf("namespace %q: %s", s.Namespace, strings.Join(errs, "; "))
		}
	}
	if s.ServiceAccount != "" {
		if errs := validation.IsDNS1123Subdomain(s.ServiceAccount); len(errs) > 0 {
			return nil, fmt.Errorf("service account %q: %s", s.ServiceAccount, strings.Join(errs, "; "))
		}
	}
	if s.Image == "" {
		return nil, errors.New("no image")
	}
	if s.Shards < 1 {
		return nil, fmt.Errorf("%d shards: want at least 1", s.Shards)
	}
	if s.StartAt.IsZero() {
		return nil, errors.New("no start time")
	}
	if s.Results == "" {
		return nil, errors.New("no results location")
	}
	for _, a := range s.LoadtestArgs {
		for _, r := range ReservedFlags {
			if a == r || strings.HasPrefix(a, r+"=") {
				return nil, fmt.Errorf("%s is set by the Job: give it to k8s-job, not to loadtest", r)
			}
		}
	}
	res := corev1.ResourceList{}
	for name, v := range map[corev1.ResourceName]string{corev1.ResourceCPU: or(s.CPU, DefaultCPU), corev1.ResourceMemory: or(s.Memory, DefaultMemory)} {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", name, v, err)
		}
		if q.Sign() <= 0 {
			return nil, fmt.Errorf("%s %q: want more than zero", name, v)
		}
		res[name] = q
	}
	ttl := s.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}

	args := []string{"loadtest"}
	for _, a := range s.LoadtestArgs {
		// Kubernetes expands $(VAR) in args; $$ keeps a literal $.
		args = append(args, strings.ReplaceAll(a, "$(", "$$("))
	}
	args = append(args,
		"--shard", fmt.Sprintf("$(%s)/%d", IndexEnv, s.Shards),
		"--start-at", s.StartAt.UTC().Format(time.RFC3339),
		"--results", s.Results)

	labels := map[string]string{
		"app.kubernetes.io/name":      "apictl",
		"app.kubernetes.io/component": "loadtest",
		"app.kubernetes.io/instance":  s.Name,
	}
	n := int32(s.Shards)
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace, Labels: labels},
		Spec: batchv1.JobSpec{
			CompletionMode: ptr.To(batchv1.IndexedCompletion),
			Completions:    ptr.To(n),
			Parallelism:    ptr.To(n),
			// A shard that fails is not retried: a late copy would load the
			// API outside the common schedule and skew the merged result.
			BackoffLimit:            ptr.To(int32(0)),
			TTLSecondsAfterFinished: ptr.To(int32(ttl / time.Second)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy:      corev1.RestartPolicyNever,
					ServiceAccountName: s.ServiceAccount,
					// One generator per node where possible: pods on one node
					// share its network and would measure it, not the API.
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
						MaxSkew:           1,
						TopologyKey:       "kubernetes.io/hostname",
						WhenUnsatisfiable: corev1.ScheduleAnyway,
						LabelSelector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/instance": s.Name}},
					}},
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:  "loadtest",
						Image: s.Image,
						Args:  args,
						Env: []corev1.EnvVar{{
							Name: IndexEnv,
							ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
								FieldPath: "metadata.annotations['" + IndexAnnotation + "']",
							}},
						}},
						Resources: corev1.ResourceRequirements{Requests: res, Limits: res.DeepCopy()},
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false),
							ReadOnlyRootFilesystem:   ptr.To(true),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
					}},
				},
			},
		},
	}
	return job, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// manifest is a Job without its status, which the API server owns (a
// marshalled batchv1.Job carries "status: {}").
type manifest struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            batchv1.JobSpec   `json:"spec"`
}

// YAML is the Job as a YAML manifest for 'kubectl apply -f -'.
func YAML(job *batchv1.Job) ([]byte, error) {
	return yaml.Marshal(manifest{TypeMeta: job.TypeMeta, Metadata: job.ObjectMeta, Spec: job.Spec})
}

// JSON is the Job as an indented JSON manifest.
func JSON(job *batchv1.Job) ([]byte, error) {
	b, err := json.MarshalIndent(manifest{TypeMeta: job.TypeMeta, Metadata: job.ObjectMeta, Spec: job.Spec}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
