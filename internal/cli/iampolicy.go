package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/s3results"
)

// IAMPolicyOptions are the options of `apictl help iam-policy`.
type IAMPolicyOptions struct {
	IO          *IOStreams
	ReadOnly    bool
	ManagedOnly bool
	// Results is an s3://bucket/prefix/ that loadtest --results writes to
	// and loadtest merge reads.
	Results string
}

const iamPolicyLong = `Print the IAM policy document (JSON) apictl needs, to attach to the role or
user that runs it.

  apictl help iam-policy               every command: the reads below and
                                       apply-plan's writes
  apictl help iam-policy --read-only   measure, loadtest --api (discovery),
                                       apply-plan --dry-run, audit and
                                       plan export --import: reads only

API Gateway authorises its management API by HTTP method on resource paths
(apigateway:GET on arn:aws:apigateway:REGION::/restapis/*); CloudWatch by
operation (cloudwatch:GetMetricData, cloudwatch:ListMetrics). The load of
'apictl loadtest' goes to the API itself and needs no IAM permission unless
the API uses IAM authorisation.

With --managed-only, usage plans and API keys can be changed or deleted only
when tagged apictl:managed=true, and created only with that tag (the tag
apictl puts on what it creates and requires before it changes anything).
Stage throttles stay writable on every stage of every API: narrow the
resources to your APIs' ids if you want less.

With --results s3://BUCKET/PREFIX/, the policy also lets 'apictl loadtest
--results' write there and 'apictl loadtest merge' read there (s3:ListBucket
on the bucket; s3:PutObject, s3:GetObject and s3:AbortMultipartUpload under
the prefix), with --read-only too: results are apictl's own files.`

// NewCmdIAMPolicy is the help topic `apictl help iam-policy`. It is not a
// runnable command: the help command runs it with its flags (see
// newHelpCommand), so that it is listed among the help topics.
func NewCmdIAMPolicy(f *Factory, runF func(*IAMPolicyOptions) error) *cobra.Command {
	opts := &IAMPolicyOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "iam-policy",
		Short: "The IAM policy apictl needs (apictl help iam-policy [--read-only])",
		Long:  iamPolicyLong,
		Example: `  apictl help iam-policy --read-only > apictl-read.json
  apictl help iam-policy --managed-only > apictl.json
  apictl help iam-policy --read-only --results s3://lt-results/ > apictl-lt.json
  aws iam create-policy --policy-name apictl --policy-document file://apictl.json`,
		Annotations: map[string]string{helpTopicRun: "true"},
	}
	cmd.Flags().BoolVar(&opts.ReadOnly, "read-only", false, "only what measure, loadtest discovery, apply-plan --dry-run, audit and plan export --import need")
	cmd.Flags().BoolVar(&opts.ManagedOnly, "managed-only", false, "allow writes only to usage plans and keys tagged apictl:managed=true")
	cmd.Flags().StringVar(&opts.Results, "results", "", "also allow loadtest --results and loadtest merge on this s3://bucket/prefix/")
	helpTopicRunners[cmd] = func() error {
		if runF != nil {
			return runF(opts)
		}
		return iamPolicyRun(opts)
	}
	return cmd
}

func iamPolicyRun(opts *IAMPolicyOptions) error {
	po := awsapi.PolicyOptions{ReadOnly: opts.ReadOnly, ManagedOnly: opts.ManagedOnly}
	if opts.Results != "" {
		loc, err := s3results.ParseLocation(opts.Results)
		if err != nil {
			return &FlagError{Err: fmt.Errorf("--results: %w", err)}
		}
		po.ResultsBucket, po.ResultsPrefix = loc.Bucket, loc.Prefix
	}
	b, err := json.MarshalIndent(awsapi.IAMPolicy(po), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(opts.IO.Out, string(b))
	return err
}

// helpTopicRun marks a help topic that `apictl help TOPIC [flags]` runs.
const helpTopicRun = "apictl/help-topic-run"

// helpTopicRunners are the run functions of such topics.
var helpTopicRunners = map[*cobra.Command]func() error{}

// newHelpCommand is cobra's help command, which also runs the help topics
// that print something with flags (apictl help iam-policy --read-only).
func newHelpCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "help [command]",
		Short:              "Help about any command",
		Long:               "Help provides help for any command in the application.\nSimply type apictl help [path to command] for full details.",
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || target == nil {
				return FlagErrorf("unknown help topic %q", strings.Join(args, " "))
			}
			if run := helpTopicRunners[target]; run != nil && target.Annotations[helpTopicRun] == "true" {
				target.InitDefaultHelpFlag()
				if err := target.ParseFlags(rest); err != nil {
					return &FlagError{Err: err}
				}
				if extra := target.Flags().Args(); len(extra) > 0 {
					return FlagErrorf("help %s takes no arguments, only flags: %q", target.Name(), extra)
				}
				if help, _ := target.Flags().GetBool("help"); help {
					return target.Help()
				}
				return run()
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
	}
}
