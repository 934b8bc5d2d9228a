package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// SavedFormat is the format tag of a saved plan file.
const SavedFormat = "apictl/saved-changes/v1"

// ErrLiveStateChanged is returned by Saved.Check when the live state no
// longer is the one the saved changes were computed from.
var ErrLiveStateChanged = errors.New("live state changed since the plan was saved: run the plan again")

// SavedFormatError is a saved plan file of another format (or none): it
// must be saved again.
type SavedFormatError struct{ Format string }

func (e *SavedFormatError) Error() string {
	return fmt.Sprintf("read saved plan: format %q, want %q", e.Format, SavedFormat)
}

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

// savedChanges are Changes whose lists carry what Apply needs too.
type savedChanges struct {
	*Changes
	Stages     []*savedChange `json:"stages"`
	UsagePlans []*savedChange `json:"usage_plans"`
	APIKeys    []*savedChange `json:"api_keys"`
	PlanKeys   []*savedChange `json:"plan_keys"`
}

// savedChange is a Change with its ApplyData (hidden from the change's own
// JSON view) alongside its fields.
type savedChange struct {
	*Change
	*ApplyData
}

// NewSaved records changes computed from the plan text planYAML against
// live state with the given fingerprint (see Fingerprint).
func NewSaved(ch *Changes, planFile string, planYAML []byte, prune bool, fingerprint string, now time.Time) (*Saved, error) {
	save := func(list []*Change) []*savedChange {
		out := []*savedChange{}
		for _, c := range list {
			out = append(out, &savedChange{Change: c, ApplyData: &c.Apply})
		}
		return out
	}
	sc := &savedChanges{Changes: ch, Stages: save(ch.Stages), UsagePlans: save(ch.UsagePlans), APIKeys: save(ch.APIKeys), PlanKeys: save(ch.PlanKeys)}
	return &Saved{Format: SavedFormat, CreatedAt: now.UTC(), PlanFile: planFile, PlanYAML: string(planYAML), Prune: prune,
		Region: ch.region, Fingerprint: fingerprint, Changes: sc}, nil
}

func (s *savedChange) change() *Change {
	c := s.Change
	if c == nil {
		c = &Change{}
	}
	if s.ApplyData != nil {
		c.Apply = *s.ApplyData
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
		return nil, &SavedFormatError{Format: s.Format}
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
	ch, fingerprint, err := diff(ctx, c, p, opts)
	if err != nil {
		return nil, "", err
	}
	return ch, fingerprint(), nil
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
		Default RouteSettings            `json:"default"`
		Routes  map[string]RouteSettings `json:"routes"`
	}
	c := struct {
		APIID, APIName string
		Routes         map[string]bool
		Stages         map[string]stage
	}{l.APIID, l.APIName, l.Routes, map[string]stage{}}
	for name, st := range l.Stages {
		s := stage{Default: routeSettingsOf(st.Default), Routes: map[string]RouteSettings{}}
		for k, v := range st.Routes {
			s.Routes[k] = routeSettingsOf(v)
		}
		c.Stages[name] = s
	}
	return hashJSON(c)
}
