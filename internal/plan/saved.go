package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
)

// SavedFormat is the format tag of a saved plan file.
const SavedFormat = "apictl/saved-changes/v1"

// ErrLiveStateChanged is returned by Saved.Check when the live state no
// longer is the one the saved changes were computed from.
var ErrLiveStateChanged = errors.New("live state changed since the plan was saved: run the plan again")

// Saved is a saved plan, terraform-style: the exact changes `apply-plan
// --dry-run --out FILE` computed, the plan they came from and a fingerprint
// of the live state they were computed against. It is plain data (JSON);
// SDK inputs are rebuilt only when the changes are applied. It never holds
// an API key value: keys whose value comes from the environment name the
// variable, read again at apply time.
type Saved struct {
	Format    string    `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	// PlanFile and PlanYAML are the plan the changes came from (a plan file
	// never holds key values); Prune is the diff option used.
	PlanFile string `json:"plan_file"`
	PlanYAML string `json:"plan_yaml"`
	Prune    bool   `json:"prune"`
	Region   string `json:"region"`
	// Fingerprint is the SHA-256 of the canonical live state read for the
	// diff.
	Fingerprint string        `json:"fingerprint"`
	Changes     *savedChanges `json:"changes"`
}

// PatchOp is one JSON-Patch-like operation of an API Gateway update, as
// plain data.
type PatchOp struct {
	Op    string  `json:"op"`
	Path  string  `json:"path"`
	Value *string `json:"value,omitempty"`
	From  *string `json:"from,omitempty"`
}

type savedChanges struct {
	*Changes
	Stages     []*savedChange `json:"stages"`
	UsagePlans []*savedChange `json:"usage_plans"`
	APIKeys    []*savedChange `json:"api_keys"`
	PlanKeys   []*savedChange `json:"plan_keys"`
}

// savedChange carries a Change's exported fields and, as plain data, what
// Apply needs from its unexported ones.
type savedChange struct {
	*Change
	Ops        []PatchOp        `json:"ops,omitempty"`
	CreatePlan *savedPlanInput  `json:"create_plan,omitempty"`
	CreateKey  *savedKeyInput   `json:"create_key,omitempty"`
	FromEnv    string           `json:"from_env,omitempty"`
	Detach     []string         `json:"detach,omitempty"`
	PlanID     string           `json:"plan_id,omitempty"`
	KeyID      string           `json:"key_id,omitempty"`
	HTTPUpdate *savedHTTPUpdate `json:"http_update,omitempty"`
	HTTPDelete []string         `json:"http_delete,omitempty"`
}

// savedChangeFields are the fields of Change a saved plan carries; a test
// fails when Change gains one this file does not know.
var savedChangeFields = []string{"Action", "Kind", "Name", "ID", "Plan", "Key", "Reason", "Fields",
	"ops", "createPlan", "createKey", "fromEnv", "detach", "planID", "keyID", "httpUpdate", "httpDelete"}

type savedThrottle struct {
	Rate  float64 `json:"rate"`
	Burst int32   `json:"burst"`
}

type savedPlanInput struct {
	Name        string            `json:"name"`
	Description *string           `json:"description,omitempty"`
	Throttle    *savedThrottle    `json:"throttle,omitempty"`
	Quota       *QuotaValue       `json:"quota,omitempty"`
	APIStages   []savedAPIStage   `json:"api_stages,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

type savedAPIStage struct {
	APIID    string                   `json:"api_id"`
	Stage    string                   `json:"stage"`
	Throttle map[string]savedThrottle `json:"throttle,omitempty"`
}

type savedKeyInput struct {
	Name        string            `json:"name"`
	Description *string           `json:"description,omitempty"`
	CustomerID  *string           `json:"customer_id,omitempty"`
	Enabled     bool              `json:"enabled"`
	Tags        map[string]string `json:"tags,omitempty"`
}

type savedRouteSettings struct {
	DataTraceEnabled       *bool    `json:"data_trace_enabled,omitempty"`
	DetailedMetricsEnabled *bool    `json:"detailed_metrics_enabled,omitempty"`
	LoggingLevel           string   `json:"logging_level,omitempty"`
	ThrottlingBurstLimit   *int32   `json:"throttling_burst_limit,omitempty"`
	ThrottlingRateLimit    *float64 `json:"throttling_rate_limit,omitempty"`
}

type savedHTTPUpdate struct {
	APIID                string                        `json:"api_id"`
	StageName            string                        `json:"stage_name"`
	DefaultRouteSettings *savedRouteSettings           `json:"default_route_settings,omitempty"`
	RouteSettings        map[string]savedRouteSettings `json:"route_settings,omitempty"`
}

// NewSaved records changes computed from the plan text planYAML against
// live state with the given fingerprint (see Fingerprint).
func NewSaved(ch *Changes, planFile string, planYAML []byte, prune bool, fingerprint string, now time.Time) (*Saved, error) {
	sc := &savedChanges{Changes: ch}
	for _, l := range []struct {
		in  []*Change
		out *[]*savedChange
	}{{ch.Stages, &sc.Stages}, {ch.UsagePlans, &sc.UsagePlans}, {ch.APIKeys, &sc.APIKeys}, {ch.PlanKeys, &sc.PlanKeys}} {
		*l.out = []*savedChange{}
		for _, c := range l.in {
			s, err := saveChange(c)
			if err != nil {
				return nil, fmt.Errorf("save %s %q: %w", c.Kind, c.Name, err)
			}
			*l.out = append(*l.out, s)
		}
	}
	return &Saved{Format: SavedFormat, CreatedAt: now.UTC(), PlanFile: planFile, PlanYAML: string(planYAML), Prune: prune,
		Region: ch.region, Fingerprint: fingerprint, Changes: sc}, nil
}

func saveChange(c *Change) (*savedChange, error) {
	s := &savedChange{Change: c, FromEnv: c.fromEnv, Detach: c.detach, PlanID: c.planID, KeyID: c.keyID, HTTPDelete: c.httpDelete}
	for _, op := range c.ops {
		s.Ops = append(s.Ops, PatchOp{Op: string(op.Op), Path: aws.ToString(op.Path), Value: op.Value, From: op.From})
	}
	if in := c.createPlan; in != nil {
		probe := *in
		probe.Name, probe.Description, probe.Tags, probe.Throttle, probe.Quota, probe.ApiStages = nil, nil, nil, nil, nil, nil
		if !reflect.DeepEqual(probe, apigateway.CreateUsagePlanInput{}) {
			return nil, errors.New("a usage plan input with fields other than name, description, throttle, quota, stages and tags cannot be saved")
		}
		sp := &savedPlanInput{Name: aws.ToString(in.Name), Description: in.Description, Tags: in.Tags}
		if in.Throttle != nil {
			sp.Throttle = &savedThrottle{in.Throttle.RateLimit, in.Throttle.BurstLimit}
		}
		if in.Quota != nil {
			sp.Quota = &QuotaValue{Limit: int(in.Quota.Limit), Period: string(in.Quota.Period), Offset: int(in.Quota.Offset)}
		}
		for _, as := range in.ApiStages {
			sa := savedAPIStage{APIID: aws.ToString(as.ApiId), Stage: aws.ToString(as.Stage)}
			if as.Throttle != nil {
				sa.Throttle = map[string]savedThrottle{}
				for k, t := range as.Throttle {
					sa.Throttle[k] = savedThrottle{t.RateLimit, t.BurstLimit}
				}
			}
			sp.APIStages = append(sp.APIStages, sa)
		}
		s.CreatePlan = sp
	}
	if in := c.createKey; in != nil {
		// The value is set from the environment at apply time only.
		if in.Value != nil || in.GenerateDistinctId || len(in.StageKeys) > 0 {
			return nil, errors.New("an API key input with a value or stage keys cannot be saved")
		}
		s.CreateKey = &savedKeyInput{Name: aws.ToString(in.Name), Description: in.Description, CustomerID: in.CustomerId, Enabled: in.Enabled, Tags: in.Tags}
	}
	if in := c.httpUpdate; in != nil {
		probe := *in
		probe.ApiId, probe.StageName, probe.DefaultRouteSettings, probe.RouteSettings = nil, nil, nil, nil
		if !reflect.DeepEqual(probe, apigatewayv2.UpdateStageInput{}) {
			return nil, errors.New("an HTTP stage update with fields other than route settings cannot be saved")
		}
		hu := &savedHTTPUpdate{APIID: aws.ToString(in.ApiId), StageName: aws.ToString(in.StageName)}
		if in.DefaultRouteSettings != nil {
			rs := saveRouteSettings(*in.DefaultRouteSettings)
			hu.DefaultRouteSettings = &rs
		}
		if in.RouteSettings != nil {
			hu.RouteSettings = map[string]savedRouteSettings{}
			for k, v := range in.RouteSettings {
				hu.RouteSettings[k] = saveRouteSettings(v)
			}
		}
		s.HTTPUpdate = hu
	}
	return s, nil
}

func saveRouteSettings(rs v2types.RouteSettings) savedRouteSettings {
	return savedRouteSettings{DataTraceEnabled: rs.DataTraceEnabled, DetailedMetricsEnabled: rs.DetailedMetricsEnabled,
		LoggingLevel: string(rs.LoggingLevel), ThrottlingBurstLimit: rs.ThrottlingBurstLimit, ThrottlingRateLimit: rs.ThrottlingRateLimit}
}

func (r savedRouteSettings) sdk() v2types.RouteSettings {
	return v2types.RouteSettings{DataTraceEnabled: r.DataTraceEnabled, DetailedMetricsEnabled: r.DetailedMetricsEnabled,
		LoggingLevel: v2types.LoggingLevel(r.LoggingLevel), ThrottlingBurstLimit: r.ThrottlingBurstLimit, ThrottlingRateLimit: r.ThrottlingRateLimit}
}

func (s *savedChange) change() *Change {
	c := s.Change
	if c == nil {
		c = &Change{}
	}
	c.fromEnv, c.detach, c.planID, c.keyID, c.httpDelete = s.FromEnv, s.Detach, s.PlanID, s.KeyID, s.HTTPDelete
	c.ops = nil
	for _, op := range s.Ops {
		c.ops = append(c.ops, types.PatchOperation{Op: types.Op(op.Op), Path: aws.String(op.Path), Value: op.Value, From: op.From})
	}
	if sp := s.CreatePlan; sp != nil {
		in := &apigateway.CreateUsagePlanInput{Name: aws.String(sp.Name), Description: sp.Description, Tags: sp.Tags}
		if sp.Throttle != nil {
			in.Throttle = &types.ThrottleSettings{RateLimit: sp.Throttle.Rate, BurstLimit: sp.Throttle.Burst}
		}
		if sp.Quota != nil {
			in.Quota = &types.QuotaSettings{Limit: int32(sp.Quota.Limit), Period: types.QuotaPeriodType(sp.Quota.Period), Offset: int32(sp.Quota.Offset)}
		}
		for _, sa := range sp.APIStages {
			as := types.ApiStage{ApiId: aws.String(sa.APIID), Stage: aws.String(sa.Stage)}
			if sa.Throttle != nil {
				as.Throttle = map[string]types.ThrottleSettings{}
				for k, t := range sa.Throttle {
					as.Throttle[k] = types.ThrottleSettings{RateLimit: t.Rate, BurstLimit: t.Burst}
				}
			}
			in.ApiStages = append(in.ApiStages, as)
		}
		c.createPlan = in
	}
	if sk := s.CreateKey; sk != nil {
		c.createKey = &apigateway.CreateApiKeyInput{Name: aws.String(sk.Name), Description: sk.Description, CustomerId: sk.CustomerID, Enabled: sk.Enabled, Tags: sk.Tags}
	}
	if hu := s.HTTPUpdate; hu != nil {
		in := &apigatewayv2.UpdateStageInput{ApiId: aws.String(hu.APIID), StageName: aws.String(hu.StageName)}
		if hu.DefaultRouteSettings != nil {
			rs := hu.DefaultRouteSettings.sdk()
			in.DefaultRouteSettings = &rs
		}
		if hu.RouteSettings != nil {
			in.RouteSettings = map[string]v2types.RouteSettings{}
			for k, v := range hu.RouteSettings {
				in.RouteSettings[k] = v.sdk()
			}
		}
		c.httpUpdate = in
	}
	return c
}

// ReadSaved decodes a saved plan file.
func ReadSaved(data []byte) (*Saved, error) {
	var s Saved
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("read saved plan: %w", err)
	}
	if s.Format != SavedFormat {
		return nil, fmt.Errorf("read saved plan: format %q, want %q (save it again with apply-plan --dry-run --out)", s.Format, SavedFormat)
	}
	if s.Changes == nil || s.Changes.Changes == nil {
		return nil, errors.New("read saved plan: no changes")
	}
	return &s, nil
}

// Plan parses the plan the changes were computed from.
func (s *Saved) Plan() (*Plan, error) {
	name := s.PlanFile
	if name == "" {
		name = "saved plan"
	}
	return Check(name, []byte(s.PlanYAML))
}

// ChangeSet returns the saved changes, ready for Apply.
func (s *Saved) ChangeSet() *Changes {
	ch := *s.Changes.Changes
	ch.region = s.Region
	conv := func(list []*savedChange) []*Change {
		out := []*Change{}
		for _, sc := range list {
			out = append(out, sc.change())
		}
		return out
	}
	ch.Stages, ch.UsagePlans, ch.APIKeys, ch.PlanKeys = conv(s.Changes.Stages), conv(s.Changes.UsagePlans), conv(s.Changes.APIKeys), conv(s.Changes.PlanKeys)
	ch.count()
	return &ch
}

// ReadFingerprint reads the live state a plan touches, as Diff does, and
// returns its fingerprint with the changes computed from it.
func ReadFingerprint(ctx context.Context, c Client, p *Plan, opts DiffOptions) (*Changes, string, error) {
	if p.EffectiveType() == TypeHTTP {
		if c.HTTP == nil {
			return nil, "", fmt.Errorf("diff plan: no API Gateway v2 client for an HTTP API plan")
		}
		live, err := ReadLiveHTTP(ctx, c.HTTP, p)
		if err != nil {
			return nil, "", err
		}
		ch, err := ComputeHTTP(p, live, opts)
		if err != nil {
			return nil, "", err
		}
		return ch, FingerprintHTTP(live), nil
	}
	if c.REST == nil {
		return nil, "", fmt.Errorf("diff plan: no API Gateway client")
	}
	live, err := ReadLive(ctx, c.REST, c.Region, p, ReadOptions{Getenv: opts.Getenv})
	if err != nil {
		return nil, "", err
	}
	ch, err := Compute(p, live, opts)
	if err != nil {
		return nil, "", err
	}
	return ch, Fingerprint(live), nil
}

// Check re-reads the live state of the saved plan and fails with
// ErrLiveStateChanged when its fingerprint differs from the saved one.
func (s *Saved) Check(ctx context.Context, c Client, getenv func(string) string) error {
	p, err := s.Plan()
	if err != nil {
		return fmt.Errorf("saved plan: %w", err)
	}
	_, fp, err := ReadFingerprint(ctx, c, p, DiffOptions{Prune: s.Prune, Getenv: getenv})
	if err != nil {
		var le *LiveError
		if errors.As(err, &le) {
			return fmt.Errorf("%w (%v)", ErrLiveStateChanged, err)
		}
		return err
	}
	if fp != s.Fingerprint {
		return ErrLiveStateChanged
	}
	return nil
}

func hashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("fingerprint: %v", err)) // plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Fingerprint is a digest of the live state of a REST API plan that does
// not depend on listing order.
func Fingerprint(l *Live) string {
	type method struct {
		ID       string         `json:"id"`
		Throttle *ThrottleValue `json:"throttle"`
		Metrics  bool           `json:"metrics"`
	}
	type stage struct {
		Name           string         `json:"name"`
		Default        *ThrottleValue `json:"default"`
		DefaultMetrics bool           `json:"default_metrics"`
		Methods        []method       `json:"methods"`
	}
	type planStage struct {
		Stage   string   `json:"stage"`
		Methods []string `json:"methods"`
	}
	type usagePlan struct {
		ID, Name, Description string
		Throttle              *ThrottleValue
		Quota                 *QuotaValue
		Stages                []planStage
		OtherStages           []string
		Tags                  map[string]string
		Keys                  []string
		KeysRead              bool
	}
	type key struct {
		ID, Name, Description, CustomerID string
		Enabled                           bool
		Tags                              map[string]string
		ValueMatches                      *bool
	}
	var c struct {
		APIID, APIName, Region string
		Methods, KeyRequired   []string
		Stages                 []stage
		UsagePlans             []usagePlan
		APIKeys                []key
	}
	c.APIID, c.APIName, c.Region = l.APIID, l.APIName, l.Region
	ids := func(m map[MethodID]bool) []string {
		out := []string{}
		for id, ok := range m {
			if ok {
				out = append(out, id.String())
			}
		}
		sort.Strings(out)
		return out
	}
	c.Methods, c.KeyRequired = ids(l.Methods), ids(l.KeyRequired)
	for _, name := range sortedKeys(l.Stages) {
		st := l.Stages[name]
		s := stage{Name: name, Default: st.Default, DefaultMetrics: st.DefaultMetrics, Methods: []method{}}
		for id, m := range st.Methods {
			s.Methods = append(s.Methods, method{id.String(), m.Throttle, m.Metrics})
		}
		sort.Slice(s.Methods, func(i, j int) bool { return s.Methods[i].ID < s.Methods[j].ID })
		c.Stages = append(c.Stages, s)
	}
	for _, lp := range l.UsagePlans {
		u := usagePlan{ID: lp.ID, Name: lp.Name, Description: lp.Description, Throttle: lp.Throttle, Quota: lp.Quota,
			Tags: lp.Tags, KeysRead: lp.KeysRead, OtherStages: append([]string{}, lp.OtherStages...), Keys: []string{}}
		sort.Strings(u.OtherStages)
		for _, s := range sortedKeys(lp.Stages) {
			ps := planStage{Stage: s, Methods: []string{}}
			for id, t := range lp.Stages[s] {
				ps.Methods = append(ps.Methods, fmt.Sprintf("%s=%s/%d", id, fmtFloat(t.Rate), t.Burst))
			}
			sort.Strings(ps.Methods)
			u.Stages = append(u.Stages, ps)
		}
		for _, k := range lp.Keys {
			u.Keys = append(u.Keys, k.ID+"="+k.Name)
		}
		sort.Strings(u.Keys)
		c.UsagePlans = append(c.UsagePlans, u)
	}
	sort.Slice(c.UsagePlans, func(i, j int) bool { return c.UsagePlans[i].ID < c.UsagePlans[j].ID })
	for _, lk := range l.APIKeys {
		c.APIKeys = append(c.APIKeys, key{lk.ID, lk.Name, lk.Description, lk.CustomerID, lk.Enabled, lk.Tags, lk.ValueMatches})
	}
	sort.Slice(c.APIKeys, func(i, j int) bool { return c.APIKeys[i].ID < c.APIKeys[j].ID })
	return hashJSON(c)
}

// FingerprintHTTP is a digest of the live state of an HTTP API plan.
func FingerprintHTTP(l *LiveHTTP) string {
	// Maps marshal with sorted keys: the JSON is canonical.
	type stage struct {
		Default savedRouteSettings            `json:"default"`
		Routes  map[string]savedRouteSettings `json:"routes"`
	}
	c := struct {
		APIID, APIName string
		Routes         map[string]bool
		Stages         map[string]stage
	}{l.APIID, l.APIName, l.Routes, map[string]stage{}}
	for name, st := range l.Stages {
		s := stage{Default: saveRouteSettings(st.Default), Routes: map[string]savedRouteSettings{}}
		for k, v := range st.Routes {
			s.Routes[k] = saveRouteSettings(v)
		}
		c.Stages[name] = s
	}
	return hashJSON(c)
}
