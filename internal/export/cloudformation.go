package export

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/apictl/apictl/internal/plan"
	"github.com/apictl/apictl/internal/report"
)

// CloudFormation names.
const (
	CFNUsagePlan    = "AWS::ApiGateway::UsagePlan"
	CFNAPIKey       = "AWS::ApiGateway::ApiKey"
	CFNUsagePlanKey = "AWS::ApiGateway::UsagePlanKey"
	CFNRestAPIID    = "RestApiId"
	CFNHTTPAPIID    = "ApiId"
	CFNStageName    = "StageName"
	// CFNMetadataKey holds, under the template's Metadata, what belongs in
	// the user's own stage resource and the plan facts the template cannot
	// express.
	CFNMetadataKey = "apictl"
)

// CloudFormation writes the plan as a CloudFormation YAML template:
// AWS::ApiGateway::UsagePlan, ApiKey (values from NoEcho parameters) and
// UsagePlanKey resources, parameters for the API id and stage names, and
// under Metadata.apictl.Stages the MethodSettings (REST) or
// DefaultRouteSettings/RouteSettings (HTTP) to merge into the user's
// AWS::ApiGateway::Stage, SAM AWS::Serverless::Api or
// AWS::ApiGatewayV2::Stage.
func CloudFormation(p *plan.Plan, opts Options) ([]byte, error) {
	y := ygen{}
	root := y.mapping()
	http := p.EffectiveType() == plan.TypeHTTP
	what := "Merge Metadata.apictl.Stages[].MethodSettings into your AWS::ApiGateway::Stage (or SAM AWS::Serverless::Api) MethodSettings;\nthe usage plans need that stage to exist (DependsOn it when both are in one template)."
	if http {
		what = "Merge Metadata.apictl.Stages[].DefaultRouteSettings and RouteSettings into your AWS::ApiGatewayV2::Stage."
	}
	y.add(root, "AWSTemplateFormatVersion", y.str("2010-09-09"))
	y.add(root, "Description", y.str(fmt.Sprintf("apictl plan for %s API %s", strings.ToUpper(p.EffectiveType()), p.API)))

	apiParam := CFNRestAPIID
	if http {
		apiParam = CFNHTTPAPIID
	}
	stageParam := stageVars(p, CFNStageName, pascal)

	// Metadata: stage settings to merge, and the plan facts.
	meta := y.mapping()
	y.add(meta, "Api", y.str(p.API))
	y.add(meta, "Type", y.str(p.EffectiveType()))
	stagesMeta := y.seq()
	for _, s := range dedupe(p.Stages) {
		sm := y.mapping()
		y.add(sm, "StageName", y.str(s))
		if http {
			cfnRouteSettings(y, sm, p)
		} else if ms := cfnMethodSettings(y, p); ms != nil {
			y.add(sm, "MethodSettings", ms)
		}
		stagesMeta.Content = append(stagesMeta.Content, sm)
	}
	y.add(meta, "Stages", stagesMeta)
	keyParams := y.mapping()
	params := y.mapping()
	pm := y.mapping()
	y.add(pm, "Type", y.str("String"))
	y.add(pm, "Description", y.str(apiDescription(p, strings.ToUpper(p.EffectiveType()))))
	y.add(params, apiParam, pm)
	for _, s := range dedupe(p.Stages) {
		sp := y.mapping()
		y.add(sp, "Type", y.str("String"))
		y.add(sp, "Default", y.str(s))
		y.add(sp, "Description", y.str("Stage the plan applies to."))
		y.add(params, stageParam[s], sp)
	}
	names := newNamer(pascal)
	keyParam := map[string]string{}
	for _, k := range p.APIKeys {
		if k.Value == nil || k.Value.FromEnv == "" {
			continue
		}
		name := names.name(k.Name + " key value")
		keyParam[k.Name] = name
		kp := y.mapping()
		y.add(kp, "Type", y.str("String"))
		y.add(kp, "NoEcho", y.boolean(true))
		y.add(kp, "MinLength", y.integer(20))
		y.add(kp, "MaxLength", y.integer(128))
		y.add(kp, "Description", y.str(fmt.Sprintf("Value of API key %q (apictl reads it from $%s).", k.Name, k.Value.FromEnv)))
		y.add(params, name, kp)
		y.add(keyParams, name, y.str(k.Value.FromEnv))
	}
	if len(keyParams.Content) > 0 {
		y.add(meta, "KeyValueParameters", keyParams)
	}
	md := y.mapping()
	y.add(md, CFNMetadataKey, meta)
	y.add(root, "Metadata", md)
	y.add(root, "Parameters", params)

	res := y.mapping()
	planID := map[string]string{}
	for _, u := range p.UsagePlans {
		id := names.name(u.Name + " usage plan")
		planID[u.Name] = id
		props := y.mapping()
		y.add(props, "UsagePlanName", y.str(u.Name))
		if u.Description != "" {
			y.add(props, "Description", y.str(u.Description))
		}
		stages := y.seq()
		for _, s := range dedupe(p.PlanStages(u)) {
			as := y.mapping()
			y.add(as, "ApiId", y.ref(apiParam))
			y.add(as, "Stage", y.ref(stageParam[s]))
			if len(u.Methods) > 0 {
				th := y.mapping()
				for _, m := range u.Methods {
					verb, path, err := plan.ParseMethodKey(m.Key)
					if err != nil || m.Rate == nil {
						continue
					}
					y.add(th, planThrottlePath(verb, path), y.throttle(m.Rate, m.Burst))
				}
				y.add(as, "Throttle", th)
			}
			stages.Content = append(stages.Content, as)
		}
		y.add(props, "ApiStages", stages)
		if q := u.Quota; q != nil && q.Limit != nil {
			qm := y.mapping()
			y.add(qm, "Limit", y.integer(*q.Limit))
			y.add(qm, "Period", y.str(q.Period))
			if q.Offset != 0 {
				y.add(qm, "Offset", y.integer(q.Offset))
			}
			y.add(props, "Quota", qm)
		}
		if t := u.Throttle; t != nil && t.Rate != nil {
			y.add(props, "Throttle", y.throttle(t.Rate, t.Burst))
		}
		y.add(res, id, y.resource(CFNUsagePlan, props))
	}
	keyID := map[string]string{}
	for _, k := range p.APIKeys {
		id := names.name(k.Name + " api key")
		keyID[k.Name] = id
		props := y.mapping()
		y.add(props, "Name", y.str(k.Name))
		if k.Description != "" {
			y.add(props, "Description", y.str(k.Description))
		}
		y.add(props, "Enabled", y.boolean(k.IsEnabled()))
		if k.CustomerID != "" {
			y.add(props, "CustomerId", y.str(k.CustomerID))
		}
		if pn, ok := keyParam[k.Name]; ok {
			y.add(props, "Value", y.ref(pn))
		}
		y.add(res, id, y.resource(CFNAPIKey, props))
	}
	for _, u := range p.UsagePlans {
		for _, kn := range u.Keys {
			kid, ok := keyID[kn]
			if !ok {
				continue
			}
			props := y.mapping()
			y.add(props, "KeyId", y.ref(kid))
			y.add(props, "KeyType", y.str("API_KEY"))
			y.add(props, "UsagePlanId", y.ref(planID[u.Name]))
			y.add(res, names.name(u.Name+" "+kn+" usage plan key"), y.resource(CFNUsagePlanKey, props))
		}
	}
	if len(res.Content) == 0 {
		// CloudFormation wants at least one resource: this template is then
		// only the carrier of the stage settings to merge.
		what += "\nThe plan has no usage plans or keys: no resources here, only the stage settings under Metadata."
	}
	root.HeadComment = strings.Join(header(p, opts, what), "\n")
	y.add(root, "Resources", res)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("export cloudformation: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("export cloudformation: %w", err)
	}
	return buf.Bytes(), nil
}

func cfnMethodSettings(y ygen, p *plan.Plan) *yaml.Node {
	if p.Stage == nil {
		return nil
	}
	list := y.seq()
	add := func(resourcePath, verb string, t *plan.Throttle, metrics *bool) {
		m := y.mapping()
		y.add(m, "ResourcePath", y.str(resourcePath))
		y.add(m, "HttpMethod", y.str(verb))
		if t != nil && t.Rate != nil {
			y.add(m, "ThrottlingRateLimit", y.number(*t.Rate))
			if t.Burst != nil {
				y.add(m, "ThrottlingBurstLimit", y.integer(*t.Burst))
			}
		}
		if metrics != nil {
			y.add(m, "MetricsEnabled", y.boolean(*metrics))
		}
		list.Content = append(list.Content, m)
	}
	if p.Stage.Throttle != nil || p.Stage.DetailedMetrics != nil {
		add("/*", "*", p.Stage.Throttle, p.Stage.DetailedMetrics)
	}
	for _, m := range p.Stage.Methods {
		verb, path, err := plan.ParseMethodKey(m.Key)
		if err != nil {
			continue
		}
		add(cfnResourcePath(path), verb, m.Throttle, m.DetailedMetrics)
	}
	if len(list.Content) == 0 {
		return nil
	}
	return list
}

func cfnRouteSettings(y ygen, sm *yaml.Node, p *plan.Plan) {
	if p.Stage == nil {
		return
	}
	rs := func(t *plan.Throttle, metrics *bool) *yaml.Node {
		m := y.mapping()
		if t != nil && t.Rate != nil {
			y.add(m, "ThrottlingRateLimit", y.number(*t.Rate))
			if t.Burst != nil {
				y.add(m, "ThrottlingBurstLimit", y.integer(*t.Burst))
			}
		}
		if metrics != nil {
			y.add(m, "DetailedMetricsEnabled", y.boolean(*metrics))
		}
		return m
	}
	if p.Stage.Throttle != nil || p.Stage.DetailedMetrics != nil {
		y.add(sm, "DefaultRouteSettings", rs(p.Stage.Throttle, p.Stage.DetailedMetrics))
	}
	if len(p.Stage.Methods) > 0 {
		routes := y.mapping()
		for _, m := range p.Stage.Methods {
			y.add(routes, m.Key, rs(m.Throttle, m.DetailedMetrics))
		}
		y.add(sm, "RouteSettings", routes)
	}
}

// ygen builds YAML nodes in a fixed order.
type ygen struct{}

func (ygen) mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }
func (ygen) seq() *yaml.Node     { return &yaml.Node{Kind: yaml.SequenceNode} }
func (ygen) str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}
func (ygen) integer(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}
func (ygen) number(f float64) *yaml.Node {
	tag := "!!float"
	if f == float64(int64(f)) {
		tag = "!!int"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: report.Num(f, -1)}
}
func (ygen) boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// ref is CloudFormation's short-form !Ref.
func (ygen) ref(name string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!Ref", Value: name}
}
func (y ygen) add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, y.str(key), v)
}
func (y ygen) resource(typ string, props *yaml.Node) *yaml.Node {
	r := y.mapping()
	y.add(r, "Type", y.str(typ))
	y.add(r, "Properties", props)
	return r
}
func (y ygen) throttle(rate *float64, burst *int) *yaml.Node {
	m := y.mapping()
	y.add(m, "RateLimit", y.number(*rate))
	if burst != nil {
		y.add(m, "BurstLimit", y.integer(*burst))
	}
	return m
}
