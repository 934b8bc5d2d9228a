package sandbox

import (
	"net/http"
	"strings"

	"github.com/apictl/apictl/internal/awsfacts"
)

// tagsOf resolves arn:{partition}:apigateway:{region}::/usageplans/{id},
// ::/apikeys/{id}, ::/restapis/{id} and ::/restapis/{id}/stages/{name}.
func (s *Sandbox) tagsOf(arn string) (*map[string]string, *apiError) {
	prefix := awsfacts.APIGatewayARNPrefix(s.opts.Region)
	path, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		return nil, badRequest("Invalid ARN %q: expected %s/{resource}", arn, prefix)
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case len(parts) == 2 && parts[0] == "usageplans":
		if p, ok := s.state.plans[parts[1]]; ok {
			return &p.Tags, nil
		}
	case len(parts) == 2 && parts[0] == "apikeys":
		if k, ok := s.state.keys[parts[1]]; ok {
			return &k.Tags, nil
		}
	case len(parts) == 2 && parts[0] == "restapis":
		if a, ok := s.state.apis[parts[1]]; ok {
			return &a.Tags, nil
		}
	case len(parts) == 4 && parts[0] == "restapis" && parts[2] == "stages":
		if a, ok := s.state.apis[parts[1]]; ok {
			if st, ok := a.Stages[parts[3]]; ok {
				return &st.Tags, nil
			}
		}
	}
	return nil, notFound("Invalid resource identifier specified: %s", arn)
}

func (s *Sandbox) getTags(c *call) (int, any, *apiError) {
	t := c.tags
	tags := *t
	if tags == nil {
		tags = map[string]string{}
	}
	return 200, map[string]any{"tags": tags}, nil
}

func (s *Sandbox) tagResource(c *call) (int, any, *apiError) {
	t := c.tags
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if e := c.decode(&in); e != nil {
		return 0, nil, e
	}
	merged := copyMap(*t)
	if merged == nil {
		merged = map[string]string{}
	}
	for k, v := range in.Tags {
		if strings.HasPrefix(k, "aws:") {
			return 0, nil, badRequest("Tag keys must not start with aws: (%s)", k)
		}
		merged[k] = v
	}
	if len(merged) > 50 {
		return 0, nil, badRequest("Too many tags: %d (at most 50 per resource)", len(merged))
	}
	*t = merged
	return http.StatusNoContent, nil, nil
}

func (s *Sandbox) untagResource(c *call) (int, any, *apiError) {
	t := c.tags
	for _, k := range c.URL.Query()["tagKeys"] {
		delete(*t, k)
	}
	return http.StatusNoContent, nil, nil
}
