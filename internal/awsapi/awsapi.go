// Package awsapi loads the AWS configuration for apictl and builds the API
// Gateway (REST and HTTP APIs), CloudWatch and S3 clients the commands use.
//
// Overrides from the command line (region, profile, endpoint) apply only when
// set, on top of the standard chain of config.LoadDefaultConfig, so AWS_PROFILE,
// AWS_REGION, AWS_ENDPOINT_URL and SSO work as they do for the AWS CLI.
package awsapi

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Settings are the AWS options given on the command line. Empty fields leave
// the standard configuration chain alone.
type Settings struct {
	Region      string
	Profile     string
	EndpointURL string
	// StaticCredentials uses fixed fake credentials; for tests and the
	// sandbox, which accept any signature.
	StaticCredentials bool
	// MaxAttempts bounds the retries of one call (default 8).
	MaxAttempts int
	// Getenv reads the endpoint environment variables (nil: os.Getenv);
	// see ResolveEndpoints.
	Getenv func(string) string
}

// Endpoints resolves the settings' endpoints with the one endpoint rule.
func (s Settings) Endpoints() Endpoints {
	return ResolveEndpoints(s.EndpointURL, s.Getenv)
}

// Clients holds the service clients built from one configuration.
type Clients struct {
	Config aws.Config
	Region string
	// Endpoints are where each client sends its calls ("" for AWS).
	Endpoints    Endpoints
	APIGateway   *apigateway.Client
	APIGatewayV2 *apigatewayv2.Client
	CloudWatch   *cloudwatch.Client
	S3           *s3.Client
}

// LoadConfig loads the AWS configuration with the given overrides.
func LoadConfig(ctx context.Context, s Settings) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if s.Region != "" {
		opts = append(opts, config.WithRegion(s.Region))
	}
	if s.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.Profile))
	}
	if s.StaticCredentials {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider("AKIDSANDBOX", "sandbox-secret", "")))
	}
	if s.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(s.EndpointURL))
	}
	maxAttempts := s.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 8
	}
	opts = append(opts, config.WithRetryer(func() aws.Retryer {
		return NewRetryer(maxAttempts)
	}))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, &MissingRegionError{}
	}
	return cfg, nil
}

// MissingRegionError reports that no region came from flags, environment or
// profile.
type MissingRegionError struct{}

func (*MissingRegionError) Error() string { return "no aws region configured" }

// Hint tells the user how to set a region.
func (*MissingRegionError) Hint() string {
	return "pass --region us-east-1, set AWS_REGION, or set region in your AWS profile"
}

// NewRetryer returns the retryer apictl uses: the SDK's standard retryer with
// API Gateway's TooManyRequestsException and other throttling codes made
// retryable, exponential backoff with jitter up to 20 s (UpdateUsagePlan is
// limited to one call per 20 s per account).
func NewRetryer(maxAttempts int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = 20 * time.Second
		o.Retryables = append([]retry.IsErrorRetryable{
			retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				if IsThrottle(err) {
					return aws.TrueTernary
				}
				return aws.UnknownTernary
			}),
		}, o.Retryables...)
		o.Timeouts = append([]retry.IsErrorTimeout{}, o.Timeouts...)
		// Throttling errors must not drain the client-side retry token
		// bucket, or a long apply would stop retrying exactly when the
		// service asks it to slow down.
		o.RetryCost = 1
		o.RetryTimeoutCost = 1
	})
}

// NewClients loads the configuration and builds every client.
func NewClients(ctx context.Context, s Settings) (*Clients, error) {
	cfg, err := LoadConfig(ctx, s)
	if err != nil {
		return nil, err
	}
	return ClientsFromConfig(cfg, s.Endpoints()), nil
}

// ClientsFromConfig builds the clients from a loaded configuration, each
// sent to its endpoint in ep ("" leaves the SDK's resolution, AWS's
// endpoint or the shared config file's endpoint_url).
func ClientsFromConfig(cfg aws.Config, ep Endpoints) *Clients {
	if ep.APIGateway == "" && ep.APIGatewayV2 == "" && ep.CloudWatch == "" && cfg.BaseEndpoint != nil {
		// endpoint_url of the shared config file.
		b := *cfg.BaseEndpoint
		ep = Endpoints{APIGateway: b, APIGatewayV2: b, CloudWatch: b, S3: ep.S3}
	}
	if ep.S3 == "" && cfg.BaseEndpoint != nil {
		ep.S3 = *cfg.BaseEndpoint
	}
	return &Clients{
		Config:       cfg,
		Region:       cfg.Region,
		Endpoints:    ep,
		APIGateway:   apigateway.NewFromConfig(cfg, func(o *apigateway.Options) { setBase(&o.BaseEndpoint, ep.APIGateway) }),
		APIGatewayV2: apigatewayv2.NewFromConfig(cfg, func(o *apigatewayv2.Options) { setBase(&o.BaseEndpoint, ep.APIGatewayV2) }),
		CloudWatch:   cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { setBase(&o.BaseEndpoint, ep.CloudWatch) }),
		S3:           NewS3Client(cfg, ep.S3),
	}
}

// NewS3Client builds the S3 client for endpoint ("" leaves the SDK's
// resolution). A loopback endpoint (the sandbox, MinIO on this machine) is
// addressed path-style ({endpoint}/{bucket}/{key}); any other keeps the
// SDK's default, virtual-hosted-style on AWS.
func NewS3Client(cfg aws.Config, endpoint string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		setBase(&o.BaseEndpoint, endpoint)
		if IsLoopback(endpoint) {
			o.UsePathStyle = true
		}
	})
}

func setBase(dst **string, endpoint string) {
	if endpoint != "" {
		*dst = aws.String(endpoint)
	}
}
