package deployed

import (
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	s := &Summary{Stage: "prod", DeploymentID: "d1", Methods: map[string]Method{
		"GET /pets":    {APIKeyRequired: true, AuthorizationType: "NONE"},
		"DELETE /pets": {AuthorizationType: "NONE"},
		"GET /":        {AuthorizationType: "NONE"},
	}}
	live := map[string]Method{
		"GET /pets":  {APIKeyRequired: false, AuthorizationType: "AWS_IAM"},
		"POST /pets": {AuthorizationType: "NONE"},
		"GET /":      {AuthorizationType: "NONE"},
	}
	got := Compare(s, live)
	var lines []string
	for _, d := range got {
		lines = append(lines, d.Kind+" "+d.Key+": "+d.String())
	}
	want := []string{
		"deleted DELETE /pets: DELETE /pets was deleted but stage prod still serves it from deployment d1 until the API is deployed again",
		"changed GET /pets: GET /pets: apiKeyRequired is false now but true in the deployment, authorizationType is AWS_IAM now but NONE in the deployment; stage prod serves deployment d1 until the API is deployed again",
		"not-deployed POST /pets: POST /pets is not in deployment d1 that stage prod serves: it answers 403 until the API is deployed again",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if d := Compare(s, map[string]Method{"GET /pets": s.Methods["GET /pets"], "DELETE /pets": s.Methods["DELETE /pets"], "GET /": s.Methods["GET /"]}); len(d) != 0 {
		t.Fatalf("identical definitions: %v", d)
	}
}
