package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// ExportClient is the part of the API Gateway client that reads a stage's
// export. A RestAPIClient that also implements it has DiscoverTargets
// complete the methods with the export's parameters, bodies and examples.
type ExportClient interface {
	GetExport(ctx context.Context, in *apigateway.GetExportInput, optFns ...func(*apigateway.Options)) (*apigateway.GetExportOutput, error)
}

// StageExport returns the OpenAPI 3 export of a deployed stage
// (GetExport, exportType oas30, JSON).
func StageExport(ctx context.Context, c ExportClient, apiID, stage string) ([]byte, error) {
	out, err := c.GetExport(ctx, &apigateway.GetExportInput{
		RestApiId: aws.String(apiID), StageName: aws.String(stage),
		ExportType: aws.String("oas30"), Accepts: aws.String("application/json"),
	})
	if err != nil {
		return nil, fmt.Errorf("export stage %s of api %s: %w", stage, apiID, err)
	}
	return out.Body, nil
}

// buildDiscovered turns the resources of a REST API into targets: the
// methods of GetResources (less those the stage's deployment lacks), completed by the stage's export when the client
// can read it, built with BuildTargets.
func buildDiscovered(ctx context.Context, c RestAPIClient, id string, resources []types.Resource, undeployed map[string]bool, o DiscoverOptions) (Targets, error) {
	var ops []Operation
	for _, op := range OperationsFromResources(resources) {
		if !undeployed[op.Name()] { // the stage does not serve it yet
			ops = append(ops, op)
		}
	}
	if ec, ok := c.(ExportClient); ok && !o.NoExport {
		data, err := StageExport(ctx, ec, id, o.Stage)
		if err == nil {
			var doc, derr = LoadOpenAPI(data, "export of stage "+o.Stage)
			if derr == nil {
				var def []Operation
				if def, derr = OperationsFromOpenAPI(doc); derr == nil {
					ops = MergeOperations(ops, def)
				}
			}
			err = derr
		}
		if err != nil && o.Warn != nil {
			o.Warn(note("parameters and bodies from GetResources only: %v", err))
		}
	}
	feed := o.Feed
	if feed == nil {
		feed = &Feed{}
	}
	if len(o.PathParams) > 0 {
		consts := map[string]string{}
		for k, v := range feed.Const {
			consts[k] = v
		}
		for k, v := range o.PathParams {
			consts[k] = v
		}
		feed = &Feed{Data: feed.Data, Order: feed.Order, Seed: feed.Seed, Const: consts}
	}
	if feed.Data == nil {
		// Without data every path parameter needs a --path-param: name them all at once.
		missing := map[string]bool{}
		keep := map[string]bool{}
		for _, m := range o.Methods {
			keep[strings.ToUpper(m)] = true
		}
		for _, op := range ops {
			send := op.Method
			if send == "ANY" {
				send = http.MethodGet
			}
			if op.Method == http.MethodOptions || len(keep) > 0 && !keep[op.Method] && !keep[send] {
				continue
			}
			for _, n := range pathParams(op.Path) {
				if !feed.has(n) {
					missing[n] = true
				}
			}
		}
		if len(missing) > 0 {
			names := make([]string, 0, len(missing))
			for n := range missing {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, &MissingPathParamsError{API: o.API, Names: names}
		}
	}
	ts, err := BuildTargets(ops, BuildOptions{
		Base: o.InvokeURL(id), Feed: feed, Methods: o.Methods, Header: o.Header,
		Body: o.Body, BodyFile: o.BodyFile, Bodies: o.Bodies, Warn: o.Warn,
	})
	if err != nil {
		if err.Error() == "no methods to load-test" {
			return nil, fmt.Errorf("api %s has no methods to load-test", o.API)
		}
		return nil, fmt.Errorf("api %s: %w", o.API, err)
	}
	return ts, nil
}
