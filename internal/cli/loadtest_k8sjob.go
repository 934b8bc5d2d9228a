package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/k8sjob"
	"github.com/apictl/apictl/internal/s3results"
)

// LoadtestK8sJobOptions are the options of `apictl loadtest k8s-job`.
type LoadtestK8sJobOptions struct {
	IO     *IOStreams
	Output func() string
	Quiet  func() bool
	Now    func() time.Time
	// ParseLoadtestFlags checks the loadtest arguments as 'apictl loadtest'
	// would parse them.
	ParseLoadtestFlags func(args []string) error

	Shards         int
	Image          string
	Namespace      string
	Name           string
	ServiceAccount string
	StartDelay     time.Duration
	StartAt        string
	Results        string
	CPU, Memory    string
	TTL            time.Duration
	LoadtestArgs   []string
}

// NewCmdLoadtestK8sJob is `apictl loadtest k8s-job`.
func NewCmdLoadtestK8sJob(f *Factory, runF func(*LoadtestK8sJobOptions) error) *cobra.Command {
	opts := &LoadtestK8sJobOptions{IO: f.IO, Quiet: f.Quiet, Now: f.Now,
		Output: func() string { return f.globals.output }}
	opts.ParseLoadtestFlags = func(args []string) error {
		return NewCmdLoadtest(f, func(*LoadtestOptions) error { return nil }).ParseFlags(args)
	}
	cmd := &cobra.Command{
		Use:   "k8s-job --shards N --image IMAGE --results s3://bucket/prefix/ [flags] -- <loadtest arguments>",
		Short: "Print a Kubernetes Indexed Job that runs a load test on N pods at once",
		Long: `Print a Kubernetes Job (batch/v1, completionMode Indexed) that runs
'apictl loadtest <loadtest arguments>' as N shards in N pods at once:
pod I runs --shard I/N (its index from JOB_COMPLETION_INDEX), every pod
starts its load at the same --start-at, a little in the future (now +
--start-delay), and streams its results to --results
s3://bucket/prefix/shard-<I>-of-<N>.gob. Each shard sends 1/N of the rate
(of every step of a --ramp), so the pods together send the whole load.

Then merge the shards' results into one report, the JSON 'plan generate'
takes:

  apictl loadtest merge s3://bucket/prefix/ -o json > lt.json

The pods run the image's entrypoint (apictl; ghcr.io/apictl/apictl) with
parallelism = completions = N, backoffLimit 0 (a failed shard is not
retried off schedule), restartPolicy Never, ttlSecondsAfterFinished, equal
CPU and memory requests and limits (Guaranteed QoS), pods spread over
nodes where possible, a restricted security context, and --service-account for the S3 writes and SigV4 signing (IRSA or
EKS Pod Identity). The manifest is YAML (-o json for JSON); nothing is sent
to a cluster: pipe it to 'kubectl apply -f -'. docs/distributed.md walks
through it, and through the GitHub Actions matrix equivalent.`,
		Example: `  apictl loadtest k8s-job --shards 3 --image ghcr.io/apictl/apictl:v1.2.3 \
      --results s3://lt-results/run-42/ --service-account apictl-loadtest \
      -- https://api.example.com/pets --rate 6000 --duration 5m | kubectl apply -f -

  # a staircase from 3,000 to 30,000 rps in 10 steps of 1 minute, on 10 pods
  apictl loadtest k8s-job --shards 10 --image ghcr.io/apictl/apictl:v1.2.3 --namespace load \
      --start-delay 2m --cpu 2 --memory 1Gi --results s3://lt-results/ramp-7/ \
      -- --api shop --stage prod --region eu-west-1 --sigv4 --ramp 3000:30000:10 --step-duration 1m

  kubectl -n load wait --for=condition=complete job/apictl-loadtest-20261129-120100 --timeout=30m
  apictl loadtest merge s3://lt-results/ramp-7/ --slo 'p99<300ms' -o json > lt.json`,
		Annotations: map[string]string{extraOutputAnnotation: "yaml"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash != 0 {
				return FlagErrorf("give the loadtest arguments after --: apictl loadtest k8s-job --shards N --image IMAGE --results s3://… -- URL --rate R --duration D")
			}
			opts.LoadtestArgs = args
			switch {
			case len(args) == 0:
				return FlagErrorf("no loadtest arguments: add them after --, e.g. -- https://api.example.com/pets --rate 3000 --duration 5m")
			case opts.Shards < 1:
				return FlagErrorf("--shards is required: the number of pods (at least 1)")
			case opts.Image == "":
				return FlagErrorf("--image is required: an image whose entrypoint is apictl, e.g. ghcr.io/apictl/apictl:v1.2.3")
			case opts.Results == "":
				return FlagErrorf("--results s3://bucket/prefix/ is required: each pod writes its shard's results there for 'apictl loadtest merge'")
			case !s3results.IsURI(opts.Results):
				return FlagErrorf("--results %q: the pods need an s3://bucket/prefix/ location (a file would stay in the pod)", opts.Results)
			case opts.StartDelay < 0:
				return FlagErrorf("--start-delay must not be negative")
			}
			if _, err := s3results.ParseLocation(opts.Results); err != nil {
				return FlagErrorf("--results %v", err)
			}
			if opts.StartAt != "" {
				if _, err := time.Parse(time.RFC3339, opts.StartAt); err != nil {
					return FlagErrorf("--start-at %q: want an RFC 3339 time such as 2026-11-29T12:00:00Z", opts.StartAt)
				}
				if cmd.Flags().Changed("start-delay") {
					return FlagErrorf("give --start-at or --start-delay, not both")
				}
			}
			for _, a := range args {
				for _, r := range k8sjob.ReservedFlags {
					if a == r || strings.HasPrefix(a, r+"=") {
						return FlagErrorf("%s goes before --, to k8s-job (the Job sets it for each pod)", r)
					}
				}
			}
			if err := opts.ParseLoadtestFlags(args); err != nil {
				return FlagErrorf("loadtest arguments: %v", err)
			}
			switch o := strings.ToLower(opts.Output()); o {
			case "table", "yaml", "json":
			default:
				return FlagErrorf("-o %s: k8s-job prints a manifest, -o yaml (the default) or -o json", o)
			}
			if runF != nil {
				return runF(opts)
			}
			return loadtestK8sJobRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Shards, "shards", 0, "number of pods, each running one shard (1/N of the load)")
	fl.StringVar(&opts.Image, "image", "", "container image whose entrypoint is apictl (ghcr.io/apictl/apictl:vX.Y.Z)")
	fl.StringVar(&opts.Namespace, "namespace", "", "namespace of the Job (default: kubectl's)")
	fl.StringVar(&opts.Name, "name", "", "name of the Job (default: apictl-loadtest-<start time>)")
	fl.StringVar(&opts.ServiceAccount, "service-account", "", "service account of the pods, bound to an IAM role (IRSA or EKS Pod Identity) for S3 and SigV4")
	fl.DurationVar(&opts.StartDelay, "start-delay", time.Minute, "start the load this long after now, time for the pods to be scheduled and pull the image")
	fl.StringVar(&opts.StartAt, "start-at", "", "start the load at this RFC 3339 time instead of now + --start-delay")
	fl.StringVar(&opts.Results, "results", "", "s3://bucket/prefix/ where each pod writes shard-<I>-of-<N>.gob")
	fl.StringVar(&opts.CPU, "cpu", k8sjob.DefaultCPU, "CPU request and limit of each pod")
	fl.StringVar(&opts.Memory, "memory", k8sjob.DefaultMemory, "memory request and limit of each pod")
	fl.DurationVar(&opts.TTL, "ttl", k8sjob.DefaultTTL, "keep the finished Job and its pods' logs this long (ttlSecondsAfterFinished)")
	return cmd
}

func loadtestK8sJobRun(opts *LoadtestK8sJobOptions) error {
	start := opts.Now().Add(opts.StartDelay).Truncate(time.Second)
	if opts.StartAt != "" {
		start, _ = time.Parse(time.RFC3339, opts.StartAt)
	} else if start.Before(opts.Now().Add(opts.StartDelay)) {
		start = start.Add(time.Second) // round up: never earlier than asked
	}
	name := opts.Name
	if name == "" {
		name = "apictl-loadtest-" + start.UTC().Format("20060102-150405")
	}
	job, err := k8sjob.Build(k8sjob.Spec{
		Name: name, Namespace: opts.Namespace, Image: opts.Image, ServiceAccount: opts.ServiceAccount,
		Shards: opts.Shards, StartAt: start, Results: opts.Results, LoadtestArgs: opts.LoadtestArgs,
		CPU: opts.CPU, Memory: opts.Memory, TTL: opts.TTL,
	})
	if err != nil {
		return &FlagError{Err: err}
	}
	var out []byte
	if strings.EqualFold(opts.Output(), "json") {
		out, err = k8sjob.JSON(job)
	} else {
		out, err = k8sjob.YAML(job)
	}
	if err != nil {
		return fmt.Errorf("marshal the job: %w", err)
	}
	if _, err := opts.IO.Out.Write(out); err != nil {
		return err
	}
	if opts.Quiet == nil || !opts.Quiet() {
		fmt.Fprintf(opts.IO.ErrOut, "job %s: %d shards start together at %s; apply with 'kubectl apply -f -' before then, merge with 'apictl loadtest merge %s'\n",
			name, opts.Shards, start.UTC().Format(time.RFC3339), opts.Results)
	}
	return nil
}
