package sandbox

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// getExport serves GetExport (GET /restapis/{id}/stages/{stage}/exports/{type}):
// the stage's API as an OpenAPI 3.0.1 document, JSON or YAML by the Accept
// header, shaped like API Gateway's exports (servers with a basePath
// variable, x-amazon-apigateway-any-method for ANY, API-key security,
// parameters from the methods' requestParameters, request bodies from their
// requestModels, x-amazon-apigateway-integration with extensions=integrations
// or apigateway), as of the stage's deployment (changes made since are not
// exported). The stage's server URL is the sandbox's path-style invoke URL.
// Only exportType oas30 is emulated.
func (s *Sandbox) getExport(c *call) (int, any, *apiError) {
	doc, e := s.exportDoc(c)
	if e != nil {
		return 0, nil, e
	}
	var (
		body []byte
		err  error
		ct   = "application/json"
		ext  = ".json"
	)
	// aws-sdk-go-v2 replaces any Accepts with "Accept: application/json"
	// (service/apigateway/internal/customizations/accept_header.go): YAML
	// comes only to other clients (the AWS CLI, curl).
	switch accept := strings.Join(c.Header.Values("Accept"), ","); {
	case strings.Contains(accept, "yaml"):
		ct, ext = "application/yaml", ".yaml"
		body, err = yaml.Marshal(doc)
	case accept == "" || strings.Contains(accept, "json") || strings.Contains(accept, "*/*"):
		body, err = json.MarshalIndent(doc, "", "  ")
	default:
		return 0, nil, badRequest("Invalid accept type %s: use application/json or application/yaml", accept)
	}
	if err != nil {
		return 0, nil, &apiError{Status: 500, Type: "InternalFailure", Message: err.Error()}
	}
	return http.StatusOK, &document{contentType: ct, filename: c.api.ID + "-" + c.stage.Name + "-oas30" + ext, body: body}, nil
}

var exportPathParam = regexp.MustCompile(`\{([^{}]+?)\+?\}`)

func (s *Sandbox) exportDoc(c *call) (map[string]any, *apiError) {
	st := c.stage
	if t := c.PathValue("exportType"); t != "oas30" {
		return nil, badRequest("Invalid export type %q: the sandbox emulates oas30 only", t)
	}
	ext := strings.Join(c.URL.Query()["extensions"], ",")
	integrations := strings.Contains(ext, "integrations") || strings.Contains(ext, "apigateway")
	version := st.Created
	// The export is of the deployed API: the stage's deployment snapshot.
	a, d := c.api.deployed(st)
	if d != nil {
		version = time.Time(d.Created)
	}
	models := map[string]bool{"Empty": true}
	apiKey := false
	paths := map[string]any{}
	for _, id := range a.ResourceOrder {
		res := a.Resources[id]
		if res == nil || len(res.Methods) == 0 {
			continue
		}
		item := map[string]any{}
		for hm, m := range res.Methods {
			op := map[string]any{
				"responses": map[string]any{"200": map[string]any{
					"description": "200 response",
					"content":     map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Empty"}}},
				}},
			}
			var params []any
			for _, pm := range exportPathParam.FindAllStringSubmatch(res.Path, -1) {
				params = append(params, map[string]any{"name": pm[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
			keys := make([]string, 0, len(m.RequestParameters))
			for k := range m.RequestParameters {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for prefix, in := range map[string]string{"method.request.querystring.": "query", "method.request.header.": "header"} {
					if name, ok := strings.CutPrefix(k, prefix); ok {
						params = append(params, map[string]any{"name": name, "in": in, "required": m.RequestParameters[k], "schema": map[string]any{"type": "string"}})
					}
				}
			}
			if len(params) > 0 {
				op["parameters"] = params
			}
			if len(m.RequestModels) > 0 {
				content := map[string]any{}
				required := false
				for ct, model := range m.RequestModels {
					models[model] = true
					content[ct] = map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + model}}
					required = required || model != "Empty"
				}
				rb := map[string]any{"content": content}
				if required {
					rb["required"] = true
				}
				op["requestBody"] = rb
			}
			if m.APIKeyRequired {
				apiKey = true
				op["security"] = []any{map[string]any{"api_key": []any{}}}
			}
			if integrations && m.Integration != nil {
				in := map[string]any{"type": strings.ToLower(m.Integration.Type), "passthroughBehavior": strings.ToLower(m.Integration.PassthroughBehavior), "timeoutInMillis": m.Integration.TimeoutInMillis}
				if m.Integration.HTTPMethod != "" {
					in["httpMethod"] = m.Integration.HTTPMethod
				}
				if m.Integration.URI != "" {
					in["uri"] = m.Integration.URI
				}
				op["x-amazon-apigateway-integration"] = in
			}
			key := strings.ToLower(hm)
			if hm == "ANY" {
				key = "x-amazon-apigateway-any-method"
			}
			item[key] = op
		}
		paths[res.Path] = item
	}
	schemas := map[string]any{}
	for name := range models {
		title := name + " Schema"
		schemas[name] = map[string]any{"title": title, "type": "object"}
	}
	components := map[string]any{"schemas": schemas}
	if apiKey {
		components["securitySchemes"] = map[string]any{"api_key": map[string]any{"type": "apiKey", "name": "x-api-key", "in": "header"}}
	}
	base := s.URL()
	if base == "" {
		base = "http://" + c.Host
	}
	return map[string]any{
		"openapi": "3.0.1",
		"info":    map[string]any{"title": a.Name, "version": version.UTC().Format(time.RFC3339)},
		"servers": []any{map[string]any{
			"url":       base + "/restapis/" + a.ID + "/{basePath}/_user_request_",
			"variables": map[string]any{"basePath": map[string]any{"default": st.Name}},
		}},
		"paths":      paths,
		"components": components,
	}, nil
}
