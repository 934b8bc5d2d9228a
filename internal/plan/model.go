// Package plan models apictl plan files (declarative API Gateway throttles,
// usage plans and API keys), validates them with file:line:column errors,
// generates them from loadtest and measure results, and converges live
// API Gateway state to them with the fewest calls.
//
// Use Load or Check to read a plan file, Validate for semantic checks on a
// plan built in code, Generate to derive a plan from measured capacity,
// Diff to compare it with a live account and Apply to converge:
//
//	p, yamlText, err := plan.Generate(plan.GenerateInput{API: "cart-api", Stage: "prod", Loadtest: lt})
//	c := plan.NewClient(clients) // *awsapi.Clients
//	changes, err := plan.Diff(ctx, c, p, plan.DiffOptions{Getenv: os.Getenv})
//	fmt.Print(changes.Text())   // terraform-style, never key values
//	res, err := plan.Apply(ctx, c, changes, plan.ApplyOptions{Getenv: os.Getenv, Pacing: plan.PacingFor(endpoint)})
//
// Diff is ReadLive (every page of the live state, REST) or ReadLiveHTTP
// followed by the pure Compute or ComputeHTTP, which unit tests drive with
// hand-made snapshots.
package plan

import (
	"fmt"
	"sort"
	"strings"
)

// APIVersion is the only plan file version this package understands.
const APIVersion = "apictl/v1"

// DocumentKind is the kind of a plan document.
const DocumentKind = "Plan"

// API types a plan can target.
const (
	TypeREST = "rest"
	TypeHTTP = "http"
)

// Pos is a 1-based line and column in a plan file.
type Pos struct {
	Line, Col int
}

// Source records where a struct and each of its fields were read from, so
// semantic errors can point at the offending line. Sequence elements are
// recorded as "field.N".
type Source struct {
	Pos    Pos
	Fields map[string]Pos
}

// Of returns the position of field (its value), or of the struct itself when
// the field was absent.
func (s Source) Of(field string) Pos {
	if p, ok := s.Fields[field]; ok {
		return p
	}
	return s.Pos
}

func (s *Source) set(field string, p Pos) {
	if s.Fields == nil {
		s.Fields = map[string]Pos{}
	}
	s.Fields[field] = p
}

// Plan is the root of a plan file.
type Plan struct {
	APIVersion string         `yaml:"apiVersion" json:"apiVersion" schema:"required,const=apictl/v1" desc:"Plan file format version."`
	Kind       string         `yaml:"kind" json:"kind" schema:"required,const=Plan" desc:"Document kind."`
	API        string         `yaml:"api" json:"api" schema:"required,minLength=1" desc:"Target API: its name or id."`
	Type       string         `yaml:"type,omitempty" json:"type,omitempty" schema:"enum=rest|http,default=rest" desc:"API type: rest (API Gateway v1) or http (API Gateway v2)."`
	Stages     []string       `yaml:"stages" json:"stages" schema:"required,minItems=1" desc:"Stages of the API the plan applies to."`
	Stage      *StageSettings `yaml:"stage,omitempty" json:"stage,omitempty" desc:"Stage throttles applied to every listed stage."`
	UsagePlans []UsagePlan    `yaml:"usagePlans,omitempty" json:"usagePlans,omitempty" desc:"Usage plans (REST APIs only)."`
	APIKeys    []APIKey       `yaml:"apiKeys,omitempty" json:"apiKeys,omitempty" desc:"API keys (REST APIs only)."`

	// File is the name used in error messages.
	File string `yaml:"-" json:"-"`
	Src  Source `yaml:"-" json:"-"`
}

// Throttle is a token bucket: a steady rate in requests per second and a
// burst (bucket size) in requests.
type Throttle struct {
	Rate  *float64 `yaml:"rate" json:"rate" schema:"required,exclusiveMinimum=0" desc:"Steady-state requests per second."`
	Burst *int     `yaml:"burst" json:"burst" schema:"required,minimum=0" desc:"Bucket size in requests."`

	Src Source `yaml:"-" json:"-"`
}

// StageSettings holds the stage-wide (`*/*`) throttle and per-method overrides.
type StageSettings struct {
	Throttle        *Throttle     `yaml:"throttle,omitempty" json:"throttle,omitempty" desc:"Default throttle of every method of the stage (*/*)."`
	DetailedMetrics *bool         `yaml:"detailedMetrics,omitempty" json:"detailedMetrics,omitempty" desc:"Enable per-method CloudWatch metrics."`
	Methods         []StageMethod `yaml:"methods,omitempty" json:"methods,omitempty" schema:"keyed" desc:"Per-method settings keyed 'VERB /path' (REST) or route key (HTTP)."`

	Src Source `yaml:"-" json:"-"`
}

// StageMethod overrides the stage settings of one method.
type StageMethod struct {
	Key             string    `yaml:",key" json:"-"`
	Throttle        *Throttle `yaml:"throttle,omitempty" json:"throttle,omitempty" desc:"Throttle of this method."`
	DetailedMetrics *bool     `yaml:"detailedMetrics,omitempty" json:"detailedMetrics,omitempty" desc:"Enable CloudWatch metrics for this method."`

	Src Source `yaml:"-" json:"-"`
}

// UsagePlan is an API Gateway usage plan attached to the plan's stages.
type UsagePlan struct {
	Name        string       `yaml:"name" json:"name" schema:"required,minLength=1" desc:"Usage plan name (unique)."`
	Description string       `yaml:"description,omitempty" json:"description,omitempty" desc:"Usage plan description."`
	Stages      []string     `yaml:"stages,omitempty" json:"stages,omitempty" desc:"Subset of the plan's stages to attach to (default: all)."`
	Throttle    *Throttle    `yaml:"throttle,omitempty" json:"throttle,omitempty" desc:"Per-key throttle."`
	Quota       *Quota       `yaml:"quota,omitempty" json:"quota,omitempty" desc:"Per-key request quota."`
	Methods     []PlanMethod `yaml:"methods,omitempty" json:"methods,omitempty" schema:"keyed" desc:"Per-method per-key throttles keyed 'VERB /path' (need a plan throttle)."`
	Keys        []string     `yaml:"keys,omitempty" json:"keys,omitempty" desc:"Names of apiKeys in this plan."`

	Src Source `yaml:"-" json:"-"`
}

// PlanMethod is a per-method throttle inside a usage plan.
type PlanMethod struct {
	Key   string   `yaml:",key" json:"-"`
	Rate  *float64 `yaml:"rate" json:"rate" schema:"required,exclusiveMinimum=0" desc:"Steady-state requests per second."`
	Burst *int     `yaml:"burst" json:"burst" schema:"required,minimum=0" desc:"Bucket size in requests."`

	Src Source `yaml:"-" json:"-"`
}

// Throttle returns the method throttle as a Throttle.
func (m PlanMethod) Throttle() Throttle { return Throttle{Rate: m.Rate, Burst: m.Burst, Src: m.Src} }

// Quota limits requests per key per period.
type Quota struct {
	Limit  *int   `yaml:"limit" json:"limit" schema:"required,exclusiveMinimum=0" desc:"Requests allowed per period."`
	Period string `yaml:"period" json:"period" schema:"required,enum=DAY|WEEK|MONTH" desc:"Quota period."`
	Offset int    `yaml:"offset,omitempty" json:"offset,omitempty" schema:"minimum=0" desc:"Days into the period the quota starts (WEEK 0-6, MONTH 0-27)."`

	Src Source `yaml:"-" json:"-"`
}

// APIKey is an API key. Its value is generated by API Gateway or taken from
// an environment variable; it is never written in the plan file.
type APIKey struct {
	Name        string    `yaml:"name" json:"name" schema:"required,minLength=1" desc:"Key name (unique)."`
	Description string    `yaml:"description,omitempty" json:"description,omitempty" desc:"Key description."`
	Enabled     *bool     `yaml:"enabled,omitempty" json:"enabled,omitempty" schema:"default=true" desc:"Whether the key is enabled (default true)."`
	CustomerID  string    `yaml:"customerId,omitempty" json:"customerId,omitempty" desc:"AWS Marketplace customer id."`
	Value       *KeyValue `yaml:"value,omitempty" json:"value,omitempty" desc:"Where the key value comes from; absent: generated by API Gateway."`

	Src Source `yaml:"-" json:"-"`
}

// IsEnabled reports the effective enabled flag (default true).
func (k APIKey) IsEnabled() bool { return k.Enabled == nil || *k.Enabled }

// KeyValue names the source of a key value.
type KeyValue struct {
	FromEnv string `yaml:"fromEnv" json:"fromEnv" schema:"required,pattern=^[A-Za-z_][A-Za-z0-9_]*$" desc:"Environment variable holding the key value (at least 20 characters)."`

	Src Source `yaml:"-" json:"-"`
}

// EffectiveType returns the plan's API type with the default applied.
func (p *Plan) EffectiveType() string {
	if p.Type == "" {
		return TypeREST
	}
	return p.Type
}

// PlanStages returns the stages a usage plan attaches to.
func (p *Plan) PlanStages(u UsagePlan) []string {
	if len(u.Stages) > 0 {
		return u.Stages
	}
	return p.Stages
}

// Error is one problem in a plan file, positioned at file:line:column.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

func (e *Error) Error() string {
	if e.Pos.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// Errors is every problem found in a plan file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Pos.Line != es[j].Pos.Line {
			return es[i].Pos.Line < es[j].Pos.Line
		}
		return es[i].Pos.Col < es[j].Pos.Col
	})
	return es
}

// err returns es as an error, or nil when empty.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es.sorted()
}
