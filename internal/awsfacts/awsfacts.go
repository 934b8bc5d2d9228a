// Package awsfacts holds the small facts about AWS that both apictl and its
// sandbox emulator rely on and that vary with the region or are easy to get
// wrong: the partition of a region (ARN prefix and DNS suffix), the default
// account-level throttle of a region, and the ApiName dimension API Gateway
// writes to CloudWatch. Each fact has an entry, with its source, in
// docs/aws-behaviour.md.
package awsfacts

import (
	"strings"
)

// Partition is an AWS partition: the ARN prefix ("aws", "aws-cn",
// "aws-us-gov") and the DNS suffix of its endpoints.
type Partition struct {
	ID        string
	DNSSuffix string
}

// Known partitions.
var (
	PartitionAWS      = Partition{ID: "aws", DNSSuffix: "amazonaws.com"}
	PartitionChina    = Partition{ID: "aws-cn", DNSSuffix: "amazonaws.com.cn"}
	PartitionGovCloud = Partition{ID: "aws-us-gov", DNSSuffix: "amazonaws.com"}
	PartitionISO      = Partition{ID: "aws-iso", DNSSuffix: "c2s.ic.gov"}
	PartitionISOB     = Partition{ID: "aws-iso-b", DNSSuffix: "sc2s.sgov.gov"}
)

// PartitionOf returns the partition a region belongs to: cn-* is aws-cn,
// us-gov-* aws-us-gov, us-iso-* aws-iso, us-isob-* aws-iso-b, anything else
// (including an empty region) aws.
func PartitionOf(region string) Partition {
	r := strings.ToLower(region)
	switch {
	case strings.HasPrefix(r, "cn-"):
		return PartitionChina
	case strings.HasPrefix(r, "us-gov-"):
		return PartitionGovCloud
	case strings.HasPrefix(r, "us-isob-"):
		return PartitionISOB
	case strings.HasPrefix(r, "us-iso-"):
		return PartitionISO
	}
	return PartitionAWS
}

// APIGatewayARN is the ARN of an API Gateway resource path in region, e.g.
// APIGatewayARN("cn-north-1", "/usageplans/abc") =
// "arn:aws-cn:apigateway:cn-north-1::/usageplans/abc".
func APIGatewayARN(region, path string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return "arn:" + PartitionOf(region).ID + ":apigateway:" + region + "::" + path
}

// APIGatewayARNPrefix is APIGatewayARN without the path:
// "arn:aws:apigateway:us-east-1::".
func APIGatewayARNPrefix(region string) string {
	return "arn:" + PartitionOf(region).ID + ":apigateway:" + region + "::"
}

// ExecuteAPIHost is the default host name of an API's invoke URL:
// "{apiID}.execute-api.{region}.{dnsSuffix}".
func ExecuteAPIHost(apiID, region string) string {
	return apiID + ".execute-api." + region + "." + PartitionOf(region).DNSSuffix
}

// ExecuteAPIURL is the default invoke URL of a stage:
// "https://{apiID}.execute-api.{region}.{dnsSuffix}/{stage}".
func ExecuteAPIURL(apiID, region, stage string) string {
	return "https://" + ExecuteAPIHost(apiID, region) + "/" + stage
}

// AccountThrottle is an account-level throttle: steady rate (requests per
// second) and burst.
type AccountThrottle struct {
	Rate  float64
	Burst int
}

// lowThrottleRegions are the regions where AWS documents a default account
// throttle of 2,500 rps with a burst of 1,250 (Amazon API Gateway quotas):
// Cape Town, Milan, Jakarta, UAE, Hyderabad, Melbourne, Spain, Zurich, Tel
// Aviv, Calgary, Malaysia, Thailand and Mexico (Central).
var lowThrottleRegions = map[string]bool{
	"af-south-1": true, "eu-south-1": true, "ap-southeast-3": true, "me-central-1": true,
	"ap-south-2": true, "ap-southeast-4": true, "eu-south-2": true, "eu-central-2": true,
	"il-central-1": true, "ca-west-1": true, "ap-southeast-5": true, "ap-southeast-7": true,
	"mx-central-1": true,
}

// DefaultAccountThrottle is the documented default account-level throttle
// of a region: 10,000 rps with a burst of 5,000, or 2,500 / 1,250 in the
// regions AWS lists as lower. An account may have had it raised: GetAccount
// tells the account's actual figure.
func DefaultAccountThrottle(region string) AccountThrottle {
	if lowThrottleRegions[strings.ToLower(region)] {
		return AccountThrottle{Rate: 2500, Burst: 1250}
	}
	return AccountThrottle{Rate: 10000, Burst: 5000}
}

// MetricAPIName is the value API Gateway writes in the ApiName dimension of
// a REST API's CloudWatch metrics: the name with its non-ASCII characters
// removed, or the API id when no character is left.
func MetricAPIName(name, apiID string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 0x80 {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return apiID
	}
	return b.String()
}
