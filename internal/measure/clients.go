package measure

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/apictl/apictl/internal/awsapi"
)

// RESTAPI is the part of the API Gateway (v1) client measure uses.
type RESTAPI interface {
	GetRestApis(ctx context.Context, in *apigateway.GetRestApisInput, optFns ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error)
	GetStages(ctx context.Context, in *apigateway.GetStagesInput, optFns ...func(*apigateway.Options)) (*apigateway.GetStagesOutput, error)
	GetUsagePlans(ctx context.Context, in *apigateway.GetUsagePlansInput, optFns ...func(*apigateway.Options)) (*apigateway.GetUsagePlansOutput, error)
}

// HTTPAPI is the part of the API Gateway v2 client measure uses.
type HTTPAPI interface {
	GetApis(ctx context.Context, in *apigatewayv2.GetApisInput, optFns ...func(*apigatewayv2.Options)) (*apigatewayv2.GetApisOutput, error)
	GetStages(ctx context.Context, in *apigatewayv2.GetStagesInput, optFns ...func(*apigatewayv2.Options)) (*apigatewayv2.GetStagesOutput, error)
}

// Metrics is the part of the CloudWatch client measure uses.
type Metrics interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
	ListMetrics(ctx context.Context, in *cloudwatch.ListMetricsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.ListMetricsOutput, error)
}

// Clients are the narrow clients Measure needs; either API client may be
// nil to skip that kind of API.
type Clients struct {
	REST       RESTAPI
	HTTP       HTTPAPI
	CloudWatch Metrics
}

// FromAWS returns the narrow clients over apictl's AWS clients.
func FromAWS(c *awsapi.Clients) Clients {
	return Clients{REST: c.APIGateway, HTTP: c.APIGatewayV2, CloudWatch: c.CloudWatch}
}
