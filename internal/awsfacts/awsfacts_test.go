package awsfacts

import "testing"

func TestLedgerPartitionOf(t *testing.T) {
	for _, c := range []struct{ region, arn, url string }{
		{"us-east-1", "arn:aws:apigateway:us-east-1::/usageplans/p1", "https://a1.execute-api.us-east-1.amazonaws.com/prod"},
		{"cn-north-1", "arn:aws-cn:apigateway:cn-north-1::/usageplans/p1", "https://a1.execute-api.cn-north-1.amazonaws.com.cn/prod"},
		{"cn-northwest-1", "arn:aws-cn:apigateway:cn-northwest-1::/usageplans/p1", "https://a1.execute-api.cn-northwest-1.amazonaws.com.cn/prod"},
		{"us-gov-west-1", "arn:aws-us-gov:apigateway:us-gov-west-1::/usageplans/p1", "https://a1.execute-api.us-gov-west-1.amazonaws.com/prod"},
		{"us-iso-east-1", "arn:aws-iso:apigateway:us-iso-east-1::/usageplans/p1", "https://a1.execute-api.us-iso-east-1.c2s.ic.gov/prod"},
		{"us-isob-east-1", "arn:aws-iso-b:apigateway:us-isob-east-1::/usageplans/p1", "https://a1.execute-api.us-isob-east-1.sc2s.sgov.gov/prod"},
	} {
		if got := APIGatewayARN(c.region, "/usageplans/p1"); got != c.arn {
			t.Errorf("%s ARN: %s, want %s", c.region, got, c.arn)
		}
		if got := ExecuteAPIURL("a1", c.region, "prod"); got != c.url {
			t.Errorf("%s invoke URL: %s, want %s", c.region, got, c.url)
		}
	}
}

func TestLedgerAccountThrottleDefaultByRegion(t *testing.T) {
	for region, want := range map[string]AccountThrottle{
		"us-east-1": {10000, 5000}, "cn-north-1": {10000, 5000}, "af-south-1": {2500, 1250},
		"eu-south-1": {2500, 1250}, "ap-southeast-3": {2500, 1250}, "mx-central-1": {2500, 1250},
	} {
		if got := DefaultAccountThrottle(region); got != want {
			t.Errorf("%s: %+v, want %+v", region, got, want)
		}
	}
}

func TestLedgerMetricApiName(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"pets", "pets"}, {"café-api", "caf-api"}, {"宠物", "a1b2"}, {"", "a1b2"}, {"ü pets ü", " pets "},
	} {
		if got := MetricAPIName(c.name, "a1b2"); got != c.want {
			t.Errorf("MetricAPIName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
