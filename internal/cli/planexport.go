package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/awsapi"
	"github.com/apictl/apictl/internal/export"
	"github.com/apictl/apictl/internal/plan"
)

// PlanExportOptions are the options of `apictl plan export`.
type PlanExportOptions struct {
	IO    *IOStreams
	AWS   func(ctx context.Context) (*awsapi.Clients, error)
	Quiet func() bool

	File    string
	Format  string
	Import  bool
	OutFile string
}

// NewCmdPlanExport writes a plan as Terraform or CloudFormation.
func NewCmdPlanExport(f *Factory, runF func(*PlanExportOptions) error) *cobra.Command {
	opts := &PlanExportOptions{IO: f.IO, AWS: f.AWS, Quiet: f.Quiet}
	cmd := &cobra.Command{
		Use:   "export -f plan.yaml --format terraform|cloudformation [--import] [--out FILE]",
		Short: "Write a plan as Terraform or CloudFormation for teams that own their stages in code",
		Long: `Write the plan as infrastructure-as-code, so the team that owns the API's
stages in Terraform, CloudFormation or SAM applies the same settings there
instead of apply-plan writing them behind its back (perpetual diffs).

  --format terraform       HCL: aws_api_gateway_method_settings per stage and
                           method ("*/*" and "path/VERB"),
                           aws_api_gateway_usage_plan (throttle_settings,
                           quota_settings, api_stages with per-method throttle
                           blocks), aws_api_gateway_api_key (values from
                           sensitive variables named after the plan's fromEnv,
                           so TF_VAR_ALICE_KEY), aws_api_gateway_usage_plan_key;
                           variables rest_api_id and stage_name. HTTP APIs: an
                           aws_apigatewayv2_stage whose default_route_settings
                           and route_settings blocks go into your own stage.
  --format cloudformation  a YAML template: AWS::ApiGateway::UsagePlan,
                           ApiKey (values from NoEcho parameters) and
                           UsagePlanKey; parameters RestApiId and StageName;
                           Metadata.apictl.Stages[].MethodSettings to merge into
                           your AWS::ApiGateway::Stage or SAM
                           AWS::Serverless::Api (HTTP APIs: DefaultRouteSettings
                           and RouteSettings for AWS::ApiGatewayV2::Stage).

The header comment says where each number came from (the plan's comments).
Key values are never written. --import (terraform) reads the live account like
apply-plan's diff and adds import blocks (Terraform 1.5+) with the ids of
the method settings, usage plans, keys and memberships that already exist.`,
		Example: `  apictl plan export -f plan.yaml --format terraform --out apictl.tf
  apictl plan export -f plan.yaml --format terraform --import --out apictl.tf
  apictl plan export -f plan.yaml --format cloudformation > apictl.cfn.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.File == "" {
				return FlagErrorf("-f FILE is required")
			}
			switch opts.Format {
			case export.FormatTerraform:
			case export.FormatCloudFormation:
				if opts.Import {
					return FlagErrorf("--import needs --format terraform (CloudFormation imports resources with a change set of type IMPORT)")
				}
			case "":
				return FlagErrorf("--format is required: terraform or cloudformation")
			default:
				return FlagErrorf("--format %q: want terraform or cloudformation", opts.Format)
			}
			if runF != nil {
				return runF(opts)
			}
			return planExportRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", "", "plan file (- for stdin)")
	fl.StringVar(&opts.Format, "format", "", "terraform or cloudformation")
	fl.BoolVar(&opts.Import, "import", false, "read live state and add import blocks for resources that exist (terraform)")
	fl.StringVar(&opts.OutFile, "out", "", "write to FILE instead of stdout")
	return cmd
}

func planExportRun(ctx context.Context, opts *PlanExportOptions) error {
	var data []byte
	var err error
	if opts.File == "-" {
		data, err = io.ReadAll(opts.IO.In)
	} else {
		data, err = os.ReadFile(opts.File)
	}
	if err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	name := opts.File
	if name == "-" {
		name = "<stdin>"
	}
	p, err := plan.Check(name, data)
	if err != nil {
		var es plan.Errors
		if errors.As(err, &es) {
			fmt.Fprintln(opts.IO.ErrOut, es.Error())
			return WithHint(fmt.Errorf("%s: %d %s", name, len(es), plural(len(es), "problem", "problems")), "fix the plan; 'apictl plan validate -f "+opts.File+"' lists the same problems")
		}
		return err
	}
	eo := export.Options{Source: filepath.Base(name), Provenance: export.Provenance(data)}
	if opts.Import {
		clients, err := opts.AWS(ctx)
		if err != nil {
			return err
		}
		if !opts.Quiet() {
			fmt.Fprintf(opts.IO.ErrOut, "Reading live state of API %s for import blocks…\n", p.API)
		}
		c := plan.NewClient(clients)
		if p.EffectiveType() == plan.TypeHTTP {
			live, err := plan.ReadLiveHTTP(ctx, c.HTTP, p)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			eo.Live = export.LiveIDsHTTP(live)
		} else {
			live, err := plan.ReadLive(ctx, c.REST, c.Region, p, plan.ReadOptions{})
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			eo.Live = export.LiveIDsREST(p, live)
		}
	}
	var out []byte
	if opts.Format == export.FormatTerraform {
		out, err = export.Terraform(p, eo)
	} else {
		out, err = export.CloudFormation(p, eo)
	}
	if err != nil {
		return err
	}
	if opts.OutFile == "" || opts.OutFile == "-" {
		_, err = opts.IO.Out.Write(out)
		return err
	}
	if err := os.WriteFile(opts.OutFile, out, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", opts.OutFile, err)
	}
	if !opts.Quiet() {
		fmt.Fprintf(opts.IO.ErrOut, "Wrote %s (%s).\n", opts.OutFile, opts.Format)
	}
	return nil
}
