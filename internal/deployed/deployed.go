// Package deployed tells what a REST API stage serves. On API Gateway a
// stage serves the deployment it points at, a snapshot of the API's
// resources and methods taken when the deployment was created; changes made
// since are not served until the API is deployed again. Read fetches the
// stage's deployment summary (GetStage, then GetDeployment with
// embed=apisummary) and Compare lists how the live definition differs from
// it.
package deployed

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
)

// Client is the part of the API Gateway client Read uses.
type Client interface {
	GetStage(ctx context.Context, in *apigateway.GetStageInput, optFns ...func(*apigateway.Options)) (*apigateway.GetStageOutput, error)
	GetDeployment(ctx context.Context, in *apigateway.GetDeploymentInput, optFns ...func(*apigateway.Options)) (*apigateway.GetDeploymentOutput, error)
}

// Method is what a deployment records of a method.
type Method struct {
	APIKeyRequired    bool
	AuthorizationType string
}

// Summary is the deployment a stage serves.
type Summary struct {
	Stage        string
	DeploymentID string
	// Methods are keyed "GET /pets/{id}".
	Methods map[string]Method
}

// Read returns the summary of the deployment stage serves.
func Read(ctx context.Context, c Client, apiID, stage string) (*Summary, error) {
	st, err := c.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(apiID), StageName: aws.String(stage)})
	if err != nil {
		return nil, fmt.Errorf("get stage %s of api %s: %w", stage, apiID, err)
	}
	id := aws.ToString(st.DeploymentId)
	if id == "" {
		return nil, fmt.Errorf("stage %s of api %s points at no deployment", stage, apiID)
	}
	d, err := c.GetDeployment(ctx, &apigateway.GetDeploymentInput{RestApiId: aws.String(apiID), DeploymentId: aws.String(id), Embed: []string{"apisummary"}})
	if err != nil {
		return nil, fmt.Errorf("get deployment %s of api %s: %w", id, apiID, err)
	}
	if d.ApiSummary == nil {
		return nil, fmt.Errorf("deployment %s of api %s came without its api summary", id, apiID)
	}
	s := &Summary{Stage: stage, DeploymentID: id, Methods: map[string]Method{}}
	for path, ms := range d.ApiSummary {
		for verb, m := range ms {
			s.Methods[verb+" "+path] = Method{APIKeyRequired: m.ApiKeyRequired, AuthorizationType: aws.ToString(m.AuthorizationType)}
		}
	}
	return s, nil
}

// Difference kinds.
const (
	// NotDeployed: the method exists now but not in the deployment, so
	// the stage does not serve it (403 Missing Authentication Token).
	NotDeployed = "not-deployed"
	// Deleted: the deployment has the method but the live API no longer
	// does; the stage still serves it.
	Deleted = "deleted"
	// Changed: apiKeyRequired or authorizationType differ; the deployed
	// values apply.
	Changed = "changed"
)

// Difference is one way the live definition differs from the deployment.
type Difference struct {
	Key            string // "GET /pets"
	Kind           string
	Live, Deployed Method
	Stage          string
	DeploymentID   string
}

// String says what the difference means for requests to the stage.
func (d Difference) String() string {
	switch d.Kind {
	case NotDeployed:
		return fmt.Sprintf("%s is not in deployment %s that stage %s serves: it answers 403 until the API is deployed again", d.Key, d.DeploymentID, d.Stage)
	case Deleted:
		return fmt.Sprintf("%s was deleted but stage %s still serves it from deployment %s until the API is deployed again", d.Key, d.Stage, d.DeploymentID)
	}
	var parts []string
	if d.Live.APIKeyRequired != d.Deployed.APIKeyRequired {
		parts = append(parts, fmt.Sprintf("apiKeyRequired is %t now but %t in the deployment", d.Live.APIKeyRequired, d.Deployed.APIKeyRequired))
	}
	if d.Live.AuthorizationType != d.Deployed.AuthorizationType {
		parts = append(parts, fmt.Sprintf("authorizationType is %s now but %s in the deployment", d.Live.AuthorizationType, d.Deployed.AuthorizationType))
	}
	return fmt.Sprintf("%s: %s; stage %s serves deployment %s until the API is deployed again", d.Key, strings.Join(parts, ", "), d.Stage, d.DeploymentID)
}

// Compare lists how live (methods of the API now, keyed "GET /pets")
// differs from the served deployment s, sorted by method key.
func Compare(s *Summary, live map[string]Method) []Difference {
	var out []Difference
	for k, m := range live {
		d, ok := s.Methods[k]
		switch {
		case !ok:
			out = append(out, Difference{Key: k, Kind: NotDeployed, Live: m, Stage: s.Stage, DeploymentID: s.DeploymentID})
		case d != m:
			out = append(out, Difference{Key: k, Kind: Changed, Live: m, Deployed: d, Stage: s.Stage, DeploymentID: s.DeploymentID})
		}
	}
	for k, d := range s.Methods {
		if _, ok := live[k]; !ok {
			out = append(out, Difference{Key: k, Kind: Deleted, Deployed: d, Stage: s.Stage, DeploymentID: s.DeploymentID})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
