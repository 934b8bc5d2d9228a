package awsapi

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
)

// API kinds of an APIRef.
const (
	KindREST = "rest"
	KindHTTP = "http"
)

// APIRef names one API: its kind (KindREST or KindHTTP), id and name.
type APIRef struct {
	Kind, ID, Name string
}

func (a APIRef) String() string {
	return fmt.Sprintf("%s (%s, %s API)", a.Name, a.ID, strings.ToUpper(a.Kind))
}

// PageLimit is the page size apictl asks API Gateway for (its maximum).
const PageLimit = 500

// HTTPAPILister is the part of the apigatewayv2 client ListHTTPAPIs uses.
type HTTPAPILister interface {
	GetApis(context.Context, *apigatewayv2.GetApisInput, ...func(*apigatewayv2.Options)) (*apigatewayv2.GetApisOutput, error)
}

// ListRestAPIs returns every REST API of the region (every page).
func ListRestAPIs(ctx context.Context, c apigateway.GetRestApisAPIClient) ([]APIRef, error) {
	var out []APIRef
	pg := apigateway.NewGetRestApisPaginator(c, &apigateway.GetRestApisInput{Limit: aws.Int32(PageLimit)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list REST APIs: %w", err)
		}
		for _, a := range page.Items {
			out = append(out, APIRef{Kind: KindREST, ID: aws.ToString(a.Id), Name: aws.ToString(a.Name)})
		}
	}
	return out, nil
}

// ListHTTPAPIs returns every HTTP API of the region (every page; WebSocket
// APIs left out). apigatewayv2 has no paginator for GetApis, so NextTokens
// are followed here, stopping on a repeated token.
func ListHTTPAPIs(ctx context.Context, c HTTPAPILister) ([]APIRef, error) {
	var out []APIRef
	err := AllPages(ctx, func(ctx context.Context, token *string) (*string, error) {
		page, err := c.GetApis(ctx, &apigatewayv2.GetApisInput{NextToken: token, MaxResults: aws.String(fmt.Sprint(PageLimit))})
		if err != nil {
			return nil, fmt.Errorf("list HTTP APIs: %w", err)
		}
		for _, a := range page.Items {
			if a.ProtocolType != "" && a.ProtocolType != v2types.ProtocolTypeHttp {
				continue
			}
			out = append(out, APIRef{Kind: KindHTTP, ID: aws.ToString(a.ApiId), Name: aws.ToString(a.Name)})
		}
		return page.NextToken, nil
	})
	return out, err
}

// AllPages calls page with nil, then with each token it returns, until the
// token is empty or repeats (a service that loops would otherwise never
// end). It is the NextToken loop of apigatewayv2 operations, which have no
// SDK paginators.
func AllPages(ctx context.Context, page func(ctx context.Context, token *string) (next *string, err error)) error {
	var token *string
	seen := map[string]bool{}
	for {
		next, err := page(ctx, token)
		if err != nil {
			return err
		}
		if aws.ToString(next) == "" || seen[*next] {
			return nil
		}
		seen[*next] = true
		token = next
	}
}

// APINotFoundError says no API has the id or name asked for; Have are the
// APIs that exist.
type APINotFoundError struct {
	Ref  string
	What string // "REST", "HTTP" or "REST or HTTP"
	Have []APIRef
}

func (e *APINotFoundError) Error() string {
	return fmt.Sprintf("no %s API named or with id %q", e.What, e.Ref)
}

// Hint lists the APIs of the region.
func (e *APINotFoundError) Hint() string {
	return "check --region and --endpoint-url; APIs here: " + DescribeAPIs(e.Have, 20)
}

// AmbiguousAPIError says several APIs carry the name asked for.
type AmbiguousAPIError struct {
	Ref     string
	Matches []APIRef
}

func (e *AmbiguousAPIError) Error() string {
	return fmt.Sprintf("%d APIs are named %q: %s", len(e.Matches), e.Ref, strings.Join(e.IDs(), ", "))
}

// IDs are the ids of the APIs carrying the name.
func (e *AmbiguousAPIError) IDs() []string {
	ids := make([]string, len(e.Matches))
	for i, a := range e.Matches {
		ids[i] = a.ID
	}
	return ids
}

// Hint says to use an id.
func (e *AmbiguousAPIError) Hint() string {
	return "give the API's id instead of its name: one of " + strings.Join(e.IDs(), ", ")
}

// FindAPI picks the API whose id is ref, else the only one named ref.
// what names the kinds searched in the not-found error ("REST").
func FindAPI(apis []APIRef, ref, what string) (APIRef, error) {
	for _, a := range apis {
		if a.ID == ref {
			return a, nil
		}
	}
	var named []APIRef
	for _, a := range apis {
		if a.Name == ref {
			named = append(named, a)
		}
	}
	switch len(named) {
	case 1:
		return named[0], nil
	case 0:
		return APIRef{}, &APINotFoundError{Ref: ref, What: what, Have: apis}
	}
	return APIRef{}, &AmbiguousAPIError{Ref: ref, Matches: named}
}

// ResolveRestAPI finds a REST API by id or name (see FindAPI).
func ResolveRestAPI(ctx context.Context, c apigateway.GetRestApisAPIClient, ref string) (APIRef, error) {
	apis, err := ListRestAPIs(ctx, c)
	if err != nil {
		return APIRef{}, err
	}
	return FindAPI(apis, ref, "REST")
}

// ResolveHTTPAPI finds an HTTP API by id or name (see FindAPI).
func ResolveHTTPAPI(ctx context.Context, c HTTPAPILister, ref string) (APIRef, error) {
	apis, err := ListHTTPAPIs(ctx, c)
	if err != nil {
		return APIRef{}, err
	}
	return FindAPI(apis, ref, "HTTP")
}

// DescribeAPIs lists APIs by name for a hint, at most max of them.
func DescribeAPIs(apis []APIRef, max int) string {
	if len(apis) == 0 {
		return "none"
	}
	sorted := append([]APIRef(nil), apis...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	parts := make([]string, 0, max+1)
	for i, a := range sorted {
		if i == max {
			parts = append(parts, fmt.Sprintf("… and %d more", len(sorted)-max))
			break
		}
		parts = append(parts, a.String())
	}
	return strings.Join(parts, ", ")
}

// ListUsagePlans returns every usage plan of the region (every page).
func ListUsagePlans(ctx context.Context, c apigateway.GetUsagePlansAPIClient) ([]types.UsagePlan, error) {
	var out []types.UsagePlan
	pg := apigateway.NewGetUsagePlansPaginator(c, &apigateway.GetUsagePlansInput{Limit: aws.Int32(PageLimit)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list usage plans: %w", err)
		}
		out = append(out, page.Items...)
	}
	return out, nil
}
