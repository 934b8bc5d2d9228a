package export

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/apictl/apictl/internal/plan"
)

// Terraform resource types and the variable of the API id.
const (
	TFMethodSettings = "aws_api_gateway_method_settings"
	TFUsagePlan      = "aws_api_gateway_usage_plan"
	TFAPIKey         = "aws_api_gateway_api_key"
	TFUsagePlanKey   = "aws_api_gateway_usage_plan_key"
	TFHTTPStage      = "aws_apigatewayv2_stage"
	TFRestAPIIDVar   = "rest_api_id"
	TFHTTPAPIIDVar   = "api_id"
	TFStageVar       = "stage_name"
)

// Terraform writes the plan as Terraform configuration. REST APIs get
// aws_api_gateway_method_settings per stage and method key, usage plans,
// API keys (values from sensitive variables named after the plan's fromEnv
// variables, so TF_VAR_ALICE_KEY sets ALICE_KEY's key) and usage plan keys;
// HTTP APIs get an aws_apigatewayv2_stage whose default_route_settings and
// route_settings blocks are meant to be merged into the user's own stage.
// With opts.Live, import blocks bring existing resources under Terraform.
func Terraform(p *plan.Plan, opts Options) ([]byte, error) {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	what := "Resources for the plan's stage method settings, usage plans, API keys and their memberships."
	if p.EffectiveType() == plan.TypeHTTP {
		what = "Merge the default_route_settings and route_settings blocks below into your own aws_apigatewayv2_stage."
	}
	comment(body, header(p, opts, what)...)
	body.AppendNewline()
	if p.EffectiveType() == plan.TypeHTTP {
		terraformHTTP(body, p, opts)
	} else {
		terraformREST(body, p, opts)
	}
	return hclwrite.Format(f.Bytes()), nil
}

func comment(body *hclwrite.Body, lines ...string) {
	var toks hclwrite.Tokens
	for _, l := range lines {
		text := "#"
		if l != "" {
			text += " " + l
		}
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComment, Bytes: []byte(text + "\n")})
	}
	body.AppendUnstructuredTokens(toks)
}

func ref(parts ...string) hclwrite.Tokens {
	t := hcl.Traversal{hcl.TraverseRoot{Name: parts[0]}}
	for _, p := range parts[1:] {
		t = append(t, hcl.TraverseAttr{Name: p})
	}
	return hclwrite.TokensForTraversal(t)
}

func number(f float64) cty.Value { return cty.NumberFloatVal(f) }

func variable(body *hclwrite.Body, name, description string, def *string, sensitive bool) {
	v := body.AppendNewBlock("variable", []string{name}).Body()
	v.SetAttributeRaw("type", hclwrite.TokensForIdentifier("string"))
	v.SetAttributeValue("description", cty.StringVal(description))
	if def != nil {
		v.SetAttributeValue("default", cty.StringVal(*def))
	}
	if sensitive {
		v.SetAttributeValue("sensitive", cty.True)
	}
	body.AppendNewline()
}

func importBlock(body *hclwrite.Body, typ, name, id string) {
	b := body.AppendNewBlock("import", nil).Body()
	b.SetAttributeRaw("to", ref(typ, name))
	b.SetAttributeValue("id", cty.StringVal(id))
	body.AppendNewline()
}

func apiDescription(p *plan.Plan, kind string) string {
	return fmt.Sprintf("Id of the %s API the plan protects (api: %s).", kind, p.API)
}

// apiAndStageVariables declares the API id variable (its default the live
// API's id, when known) and one variable per stage, whose names it returns.
func apiAndStageVariables(body *hclwrite.Body, p *plan.Plan, opts Options, apiVar, kind string) map[string]string {
	var apiDefault *string
	if live := opts.Live; live != nil && live.APIID != "" {
		apiDefault = &live.APIID
	}
	variable(body, apiVar, apiDescription(p, kind), apiDefault, false)
	stageVar := stageVars(p, TFStageVar, snake)
	for _, s := range dedupe(p.Stages) {
		variable(body, stageVar[s], "Stage the plan applies to.", &s, false)
	}
	return stageVar
}

func terraformREST(body *hclwrite.Body, p *plan.Plan, opts Options) {
	live := opts.Live
	stageVar := apiAndStageVariables(body, p, opts, TFRestAPIIDVar, "REST")
	for _, k := range p.APIKeys {
		if k.Value != nil && k.Value.FromEnv != "" {
			variable(body, k.Value.FromEnv, fmt.Sprintf("Value of API key %q (apictl reads it from $%s; set TF_VAR_%s).", k.Name, k.Value.FromEnv, k.Value.FromEnv), nil, true)
		}
	}

	names := newNamer(snake)
	var imports [][3]string
	// Stage method settings.
	if p.Stage != nil {
		type setting struct {
			label, path string
			t           *plan.Throttle
			metrics     *bool
		}
		var settings []setting
		if p.Stage.Throttle != nil || p.Stage.DetailedMetrics != nil {
			settings = append(settings, setting{"all", "*/*", p.Stage.Throttle, p.Stage.DetailedMetrics})
		}
		for _, m := range p.Stage.Methods {
			verb, path, err := plan.ParseMethodKey(m.Key)
			if err != nil {
				continue // Validate rejects it before export
			}
			settings = append(settings, setting{methodLabel(m.Key), TerraformMethodPath(verb, path), m.Throttle, m.DetailedMetrics})
		}
		stages := dedupe(p.Stages)
		for _, s := range stages {
			for _, st := range settings {
				label := st.label
				if len(stages) > 1 {
					label = s + " " + label
				}
				name := names.name(label)
				b := body.AppendNewBlock("resource", []string{TFMethodSettings, name}).Body()
				b.SetAttributeRaw("rest_api_id", ref("var", TFRestAPIIDVar))
				b.SetAttributeRaw("stage_name", ref("var", stageVar[s]))
				b.SetAttributeValue("method_path", cty.StringVal(st.path))
				b.AppendNewline()
				sb := b.AppendNewBlock("settings", nil).Body()
				if st.t != nil && st.t.Rate != nil {
					sb.SetAttributeValue("throttling_rate_limit", number(*st.t.Rate))
					burst := 0
					if st.t.Burst != nil {
						burst = *st.t.Burst
					}
					sb.SetAttributeValue("throttling_burst_limit", cty.NumberIntVal(int64(burst)))
				}
				if st.metrics != nil {
					sb.SetAttributeValue("metrics_enabled", cty.BoolVal(*st.metrics))
				}
				body.AppendNewline()
				if live != nil && live.MethodSettings[s][st.path] {
					imports = append(imports, [3]string{TFMethodSettings, name, live.APIID + "/" + s + "/" + st.path})
				}
			}
		}
	}
	// Usage plans.
	planLabel := map[string]string{}
	for _, u := range p.UsagePlans {
		name := names.name("plan " + u.Name)
		planLabel[u.Name] = name
		b := body.AppendNewBlock("resource", []string{TFUsagePlan, name}).Body()
		b.SetAttributeValue("name", cty.StringVal(u.Name))
		if u.Description != "" {
			b.SetAttributeValue("description", cty.StringVal(u.Description))
		}
		for _, s := range dedupe(p.PlanStages(u)) {
			b.AppendNewline()
			as := b.AppendNewBlock("api_stages", nil).Body()
			as.SetAttributeRaw("api_id", ref("var", TFRestAPIIDVar))
			as.SetAttributeRaw("stage", ref("var", stageVar[s]))
			for _, m := range u.Methods {
				verb, path, err := plan.ParseMethodKey(m.Key)
				if err != nil || m.Rate == nil {
					continue
				}
				as.AppendNewline()
				tb := as.AppendNewBlock("throttle", nil).Body()
				tb.SetAttributeValue("path", cty.StringVal(planThrottlePath(verb, path)))
				tb.SetAttributeValue("rate_limit", number(*m.Rate))
				if m.Burst != nil {
					tb.SetAttributeValue("burst_limit", cty.NumberIntVal(int64(*m.Burst)))
				}
			}
		}
		if q := u.Quota; q != nil && q.Limit != nil {
			b.AppendNewline()
			qb := b.AppendNewBlock("quota_settings", nil).Body()
			qb.SetAttributeValue("limit", cty.NumberIntVal(int64(*q.Limit)))
			qb.SetAttributeValue("period", cty.StringVal(q.Period))
			if q.Offset != 0 {
				qb.SetAttributeValue("offset", cty.NumberIntVal(int64(q.Offset)))
			}
		}
		if t := u.Throttle; t != nil && t.Rate != nil {
			b.AppendNewline()
			tb := b.AppendNewBlock("throttle_settings", nil).Body()
			tb.SetAttributeValue("rate_limit", number(*t.Rate))
			if t.Burst != nil {
				tb.SetAttributeValue("burst_limit", cty.NumberIntVal(int64(*t.Burst)))
			}
		}
		body.AppendNewline()
		if live != nil {
			if id, ok := live.UsagePlans[u.Name]; ok {
				imports = append(imports, [3]string{TFUsagePlan, name, id})
			}
		}
	}
	// API keys.
	keyLabel := map[string]string{}
	for _, k := range p.APIKeys {
		name := names.name("key " + k.Name)
		keyLabel[k.Name] = name
		b := body.AppendNewBlock("resource", []string{TFAPIKey, name}).Body()
		b.SetAttributeValue("name", cty.StringVal(k.Name))
		if k.Description != "" {
			b.SetAttributeValue("description", cty.StringVal(k.Description))
		}
		b.SetAttributeValue("enabled", cty.BoolVal(k.IsEnabled()))
		if k.CustomerID != "" {
			b.SetAttributeValue("customer_id", cty.StringVal(k.CustomerID))
		}
		if k.Value != nil && k.Value.FromEnv != "" {
			b.SetAttributeRaw("value", ref("var", k.Value.FromEnv))
		}
		body.AppendNewline()
		if live != nil {
			if id, ok := live.APIKeys[k.Name]; ok {
				imports = append(imports, [3]string{TFAPIKey, name, id})
			}
		}
	}
	// Keys in plans.
	for _, u := range p.UsagePlans {
		for _, kn := range u.Keys {
			kl, ok := keyLabel[kn]
			if !ok {
				continue
			}
			name := names.name(u.Name + " " + kn)
			b := body.AppendNewBlock("resource", []string{TFUsagePlanKey, name}).Body()
			b.SetAttributeRaw("key_id", ref(TFAPIKey, kl, "id"))
			b.SetAttributeValue("key_type", cty.StringVal("API_KEY"))
			b.SetAttributeRaw("usage_plan_id", ref(TFUsagePlan, planLabel[u.Name], "id"))
			body.AppendNewline()
			if live != nil {
				if id, ok := live.PlanKeys[planKeyID(u.Name, kn)]; ok {
					imports = append(imports, [3]string{TFUsagePlanKey, name, id})
				}
			}
		}
	}
	if len(imports) > 0 {
		comment(body, "Resources that already exist (read by apictl plan export --import); needs Terraform 1.5 or later.")
		for _, im := range imports {
			importBlock(body, im[0], im[1], im[2])
		}
	}
}

func terraformHTTP(body *hclwrite.Body, p *plan.Plan, opts Options) {
	live := opts.Live
	stageVar := apiAndStageVariables(body, p, opts, TFHTTPAPIIDVar, "HTTP")
	names := newNamer(snake)
	var imports [][3]string
	for _, s := range dedupe(p.Stages) {
		name := names.name(s)
		b := body.AppendNewBlock("resource", []string{TFHTTPStage, name}).Body()
		b.SetAttributeRaw("api_id", ref("var", TFHTTPAPIIDVar))
		b.SetAttributeRaw("name", ref("var", stageVar[s]))
		if p.Stage != nil {
			if p.Stage.Throttle != nil || p.Stage.DetailedMetrics != nil {
				b.AppendNewline()
				routeSettings(b.AppendNewBlock("default_route_settings", nil).Body(), "", p.Stage.Throttle, p.Stage.DetailedMetrics)
			}
			for _, m := range p.Stage.Methods {
				b.AppendNewline()
				routeSettings(b.AppendNewBlock("route_settings", nil).Body(), m.Key, m.Throttle, m.DetailedMetrics)
			}
		}
		body.AppendNewline()
		if live != nil && live.HTTPStages[s] {
			imports = append(imports, [3]string{TFHTTPStage, name, live.APIID + "/" + s})
		}
	}
	if len(imports) > 0 {
		comment(body, "Stages that already exist (read by apictl plan export --import); needs Terraform 1.5 or later.")
		for _, im := range imports {
			importBlock(body, im[0], im[1], im[2])
		}
	}
}

func routeSettings(b *hclwrite.Body, routeKey string, t *plan.Throttle, metrics *bool) {
	if routeKey != "" {
		b.SetAttributeValue("route_key", cty.StringVal(routeKey))
	}
	if t != nil && t.Rate != nil {
		b.SetAttributeValue("throttling_rate_limit", number(*t.Rate))
		if t.Burst != nil {
			b.SetAttributeValue("throttling_burst_limit", cty.NumberIntVal(int64(*t.Burst)))
		}
	}
	if metrics != nil {
		b.SetAttributeValue("detailed_metrics_enabled", cty.BoolVal(*metrics))
	}
}
