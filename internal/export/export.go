// Package export turns a plan into infrastructure-as-code that teams already
// own their API Gateway stages with: Terraform (HCL written with hclwrite)
// and CloudFormation (a YAML template). Use Terraform or CloudFormation with
// Options carrying the plan file's provenance (Provenance) and, for
// Terraform import blocks, the ids of what already exists (LiveIDsREST,
// LiveIDsHTTP). Key values never appear: they come from sensitive
// variables or NoEcho parameters.
package export

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/apictl/apictl/internal/plan"
)

// Formats.
const (
	FormatTerraform      = "terraform"
	FormatCloudFormation = "cloudformation"
)

// Options tune an export.
type Options struct {
	// Source names the plan file in the header comment.
	Source string
	// Provenance lines (see Provenance) go into the header comment.
	Provenance []string
	// Live, when set, adds Terraform import blocks for what already exists.
	Live *LiveIDs
}

// LiveIDs are the ids of live resources the plan's exported resources
// correspond to.
type LiveIDs struct {
	APIID string
	// MethodSettings holds, per stage, the method paths (Terraform's
	// method_path: "*/*", "pets/GET") with a live setting.
	MethodSettings map[string]map[string]bool
	// UsagePlans and APIKeys map names to ids.
	UsagePlans map[string]string
	APIKeys    map[string]string
	// PlanKeys maps "plan\x00key" to "usagePlanId/keyId" for keys already
	// in their plan.
	PlanKeys map[string]string
	// HTTPStages lists the stages of an HTTP API that exist.
	HTTPStages map[string]bool
}

func planKeyID(planName, key string) string { return planName + "\x00" + key }

// LiveIDsREST collects the ids of a REST API's live resources named by the
// plan. A name held by several resources is left out (importing one of
// them would be a guess).
func LiveIDsREST(p *plan.Plan, live *plan.Live) *LiveIDs {
	ids := &LiveIDs{APIID: live.APIID, MethodSettings: map[string]map[string]bool{}, UsagePlans: map[string]string{}, APIKeys: map[string]string{}, PlanKeys: map[string]string{}}
	for name, st := range live.Stages {
		m := map[string]bool{}
		if st.Default != nil || st.DefaultMetrics {
			m["*/*"] = true
		}
		for id := range st.Methods {
			m[TerraformMethodPath(id.Verb, id.Path)] = true
		}
		ids.MethodSettings[name] = m
	}
	planCount := map[string]int{}
	for _, lp := range live.UsagePlans {
		planCount[lp.Name]++
		ids.UsagePlans[lp.Name] = lp.ID
	}
	keyCount := map[string]int{}
	keyByID := map[string]string{}
	for _, lk := range live.APIKeys {
		keyCount[lk.Name]++
		ids.APIKeys[lk.Name] = lk.ID
		keyByID[lk.ID] = lk.Name
	}
	for n, c := range planCount {
		if c > 1 {
			delete(ids.UsagePlans, n)
		}
	}
	for n, c := range keyCount {
		if c > 1 {
			delete(ids.APIKeys, n)
		}
	}
	for _, lp := range live.UsagePlans {
		if ids.UsagePlans[lp.Name] != lp.ID {
			continue
		}
		for _, k := range lp.Keys {
			name := k.Name
			if name == "" {
				name = keyByID[k.ID]
			}
			if ids.APIKeys[name] == k.ID {
				ids.PlanKeys[planKeyID(lp.Name, name)] = lp.ID + "/" + k.ID
			}
		}
	}
	return ids
}

// LiveIDsHTTP collects the ids of an HTTP API's stages.
func LiveIDsHTTP(live *plan.LiveHTTP) *LiveIDs {
	ids := &LiveIDs{APIID: live.APIID, HTTPStages: map[string]bool{}}
	for name := range live.Stages {
		ids.HTTPStages[name] = true
	}
	return ids
}

// Provenance returns the comments of a plan file (as written by plan
// generate: where each number came from), each prefixed with the path of
// the value it annotates.
func Provenance(data []byte) []string {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil
	}
	var out []string
	add := func(path, comment string) {
		for _, line := range strings.Split(comment, "\n") {
			line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
			if line == "" {
				continue
			}
			if path != "" {
				line = path + ": " + line
			}
			out = append(out, line)
		}
	}
	add("", doc.HeadComment)
	root := doc.Content[0]
	add("", root.HeadComment)
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if path == "" {
					add("", k.HeadComment) // a section's comment
				} else {
					add(p, k.HeadComment)
				}
				add(p, k.LineComment)
				if v.Kind == yaml.ScalarNode {
					add(p+" = "+v.Value, v.LineComment)
				} else {
					add(p, v.LineComment)
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if c.Kind == yaml.MappingNode {
					for j := 0; j+1 < len(c.Content); j += 2 {
						if c.Content[j].Value == "name" {
							p = fmt.Sprintf("%s[%s]", path, c.Content[j+1].Value)
						}
					}
				}
				add(p, c.HeadComment)
				walk(c, p)
			}
		}
	}
	walk(root, "")
	return out
}

// header is the comment block opening every export.
func header(p *plan.Plan, opts Options, what string) []string {
	src := opts.Source
	if src == "" {
		src = "a plan"
	}
	lines := []string{
		fmt.Sprintf("Generated by apictl plan export from %s: %s API %q, stages %s.", src, strings.ToUpper(p.EffectiveType()), p.API, strings.Join(p.Stages, ", ")),
		what,
		"API key values are never written here: they come from sensitive inputs.",
	}
	if len(opts.Provenance) > 0 {
		lines = append(lines, "", "Where the numbers came from (the plan's comments):")
		for _, l := range opts.Provenance {
			lines = append(lines, "  "+l)
		}
	}
	return lines
}

// TerraformMethodPath is aws_api_gateway_method_settings' method_path of a
// method: the resource path without its leading slash, then the verb
// ("cart/{id}/GET"); the root resource is "~1/GET", as API Gateway keys it.
func TerraformMethodPath(verb, path string) string {
	if path == "/" {
		return "~1/" + verb
	}
	return strings.TrimPrefix(path, "/") + "/" + verb
}

// planThrottlePath is a usage-plan per-method throttle path: "/pets/GET",
// root "//GET".
func planThrottlePath(verb, path string) string { return path + "/" + verb }

// cfnResourcePath is a CloudFormation MethodSetting ResourcePath:
// "/~1pets~1{id}", root "/".
func cfnResourcePath(path string) string {
	if path == "/" {
		return "/"
	}
	return "/" + strings.ReplaceAll(path, "/", "~1")
}

// namer hands out unique identifiers derived from names.
type namer struct {
	used  map[string]bool
	style func(string) string
}

func newNamer(style func(string) string) *namer {
	return &namer{used: map[string]bool{}, style: style}
}

func (n *namer) name(s string) string {
	base := n.style(s)
	out := base
	for i := 2; n.used[out]; i++ {
		out = fmt.Sprintf("%s_%d", base, i)
		if n.style(out) != out { // CloudFormation: no underscores
			out = fmt.Sprintf("%s%d", base, i)
		}
	}
	n.used[out] = true
	return out
}

// snake turns a name into a Terraform identifier: "GET /pets/{id}" →
// "get_pets_id".
func snake(s string) string {
	var b strings.Builder
	us := false
	for _, r := range strings.ToLower(s) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			us = false
		} else if !us && b.Len() > 0 {
			b.WriteByte('_')
			us = true
		}
	}
	out := strings.TrimSuffix(b.String(), "_")
	if out == "" {
		out = "x"
	}
	if out[0] >= '0' && out[0] <= '9' {
		out = "r_" + out
	}
	return out
}

// pascal turns a name into a CloudFormation logical id part: "free-tier" →
// "FreeTier".
func pascal(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if up {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			up = false
		} else {
			up = true
		}
	}
	if b.Len() == 0 {
		return "X"
	}
	return b.String()
}

// methodLabel names a method key for identifiers: "GET /" → "get_root".
func methodLabel(key string) string {
	if verb, path, ok := strings.Cut(key, " "); ok && path == "/" {
		return verb + " root"
	}
	return key
}

// stageVars names the variable (Terraform) or parameter (CloudFormation)
// holding each stage name.
func stageVars(p *plan.Plan, single string, style func(string) string) map[string]string {
	out := map[string]string{}
	stages := dedupe(p.Stages)
	for _, s := range stages {
		if len(stages) == 1 {
			out[s] = single
		} else {
			out[s] = style(single + " " + s)
		}
	}
	return out
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
