package plan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
)

// TestSavedCarriesEveryChangeField fails when Change (or what it holds)
// gains a field a saved plan would not carry: every field must be exported
// and named in JSON (Change.Apply, hidden from the change's JSON view, is
// carried by savedChange), and none may be an SDK type, whose JSON is not
// the API's.
func TestSavedCarriesEveryChangeField(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if strings.Contains(typ.PkgPath(), "aws-sdk-go") || strings.Contains(typ.PkgPath(), "smithy") {
			t.Errorf("%s is an SDK type (%s): Change must be plain data", path, typ)
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			switch {
			case !f.IsExported():
				t.Errorf("%s.%s is unexported: a saved plan would lose it", path, f.Name)
			case tag == "" || (tag == "-" && !(typ == reflect.TypeOf(Change{}) && f.Name == "Apply")):
				t.Errorf("%s.%s has no JSON name: a saved plan would lose it", path, f.Name)
			}
			walk(f.Type, path+"."+f.Name)
		}
	}
	walk(reflect.TypeOf(Change{}), "Change")
	if f, ok := reflect.TypeOf(savedChange{}).FieldByName("ApplyData"); !ok || !f.Anonymous || f.Type != reflect.TypeOf(&ApplyData{}) {
		t.Error("savedChange does not carry Change.Apply")
	}
}

func roundTripSaved(t *testing.T, ch *Changes) *Changes {
	t.Helper()
	s, err := NewSaved(ch, "plan.yaml", []byte("apiVersion: apictl/v1\n"), true, "sha256:x", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadSaved(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Fingerprint != "sha256:x" || !back.Prune || back.PlanFile != "plan.yaml" {
		t.Fatalf("saved header: %+v", back)
	}
	return back.ChangeSet()
}

// TestSavedRoundTripREST saves a diff with creates, updates and prunes and
// reads back the same changes, unexported SDK inputs included.
func TestSavedRoundTripREST(t *testing.T) {
	p := goodPlan(t)
	for name, live := range map[string]*Live{"from scratch": liveFor(p), "converged": converged(t, p)} {
		l := live
		if name == "converged" {
			l.Stages["prod"].Default = &ThrottleValue{90, 45} // one stage update
		}
		ch, err := Compute(p, l, DiffOptions{Getenv: env, Prune: true})
		if err != nil {
			t.Fatal(err)
		}
		if ch.Empty() {
			t.Fatalf("%s: test setup: no changes", name)
		}
		got := roundTripSaved(t, ch)
		if !reflect.DeepEqual(got, ch) {
			a, _ := json.MarshalIndent(ch, "", " ")
			b, _ := json.MarshalIndent(got, "", " ")
			t.Fatalf("%s: saved changes differ after reading back:\n%s\n---\n%s\n(%#v)\n(%#v)", name, a, b, ch.UsagePlans, got.UsagePlans)
		}
	}
}

func TestSavedRoundTripHTTP(t *testing.T) {
	p, live := itemsHTTP(t, map[string]v2types.RouteSettings{
		"POST /items": {ThrottlingRateLimit: aws.Float64(3), ThrottlingBurstLimit: aws.Int32(1), LoggingLevel: v2types.LoggingLevelOff}})
	ch, err := ComputeHTTP(p, live, DiffOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Stages[0].Apply.HTTPUpdate == nil || len(ch.Stages[0].Apply.HTTPDelete) != 1 {
		t.Fatalf("test setup: want an update and a delete, got %+v", ch.Stages[0])
	}
	if got := roundTripSaved(t, ch); !reflect.DeepEqual(got, ch) {
		t.Fatalf("saved HTTP changes differ after reading back:\n%#v\n%#v", got.Stages[0], ch.Stages[0])
	}
}

// TestFingerprint: independent of listing order, sensitive to any value.
func TestFingerprint(t *testing.T) {
	p := goodPlan(t)
	a, b := converged(t, p), converged(t, p)
	b.UsagePlans[0], b.UsagePlans[1] = b.UsagePlans[1], b.UsagePlans[0]
	b.APIKeys[0], b.APIKeys[1] = b.APIKeys[1], b.APIKeys[0]
	if Fingerprint(a) != Fingerprint(b) {
		t.Fatal("fingerprint depends on listing order")
	}
	for name, change := range map[string]func(l *Live){
		"stage rate": func(l *Live) { l.Stages["prod"].Default.Rate = 99 },
		"method metrics": func(l *Live) {
			m := l.Stages["prod"].Methods[MethodID{"GET", "/"}]
			m.Metrics = false
			l.Stages["prod"].Methods[MethodID{"GET", "/"}] = m
		},
		"plan quota":  func(l *Live) { l.UsagePlans[0].Quota.Limit++ },
		"plan key":    func(l *Live) { l.UsagePlans[1].Keys = nil },
		"key enabled": func(l *Live) { l.APIKeys[1].Enabled = true },
		"key value":   func(l *Live) { f := false; l.APIKeys[0].ValueMatches = &f },
		"tag":         func(l *Live) { l.APIKeys[1].Tags = map[string]string{} },
	} {
		c := converged(t, p)
		change(c)
		if Fingerprint(c) == Fingerprint(a) {
			t.Errorf("%s: fingerprint unchanged", name)
		}
	}
	if !strings.HasPrefix(Fingerprint(a), "sha256:") {
		t.Errorf("fingerprint %q", Fingerprint(a))
	}
}

func TestReadSavedRejectsOtherFormats(t *testing.T) {
	for _, in := range []string{`{}`, `{"format":"apictl/saved-changes/v0","changes":{}}`, `not json`} {
		if _, err := ReadSaved([]byte(in)); err == nil {
			t.Errorf("ReadSaved(%s) accepted", in)
		}
	}
}

// TestSavedV1FilesStillRead reads saved plans written before Change became
// plain data (by the v1 code, from the inputs below): they give the changes
// Compute gives today, and saving those changes again writes the same file.
func TestSavedV1FilesStillRead(t *testing.T) {
	p := goodPlan(t)
	rest, err := Compute(p, liveFor(p), DiffOptions{Getenv: env, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	l := converged(t, p)
	addLegacyPlan(l)
	f := false
	l.APIKeys[0].ValueMatches = &f
	l.APIKeys[1].Enabled = !l.APIKeys[1].Enabled
	l.UsagePlans[0].Quota.Limit++
	prune, err := Compute(p, l, DiffOptions{Getenv: env, Prune: true}) // replace, update, delete, detach
	if err != nil {
		t.Fatal(err)
	}
	hp, live := itemsHTTP(t, map[string]v2types.RouteSettings{
		"POST /items": {ThrottlingRateLimit: aws.Float64(3), ThrottlingBurstLimit: aws.Int32(1), LoggingLevel: v2types.LoggingLevelOff},
		"GET /items":  {ThrottlingRateLimit: aws.Float64(3), ThrottlingBurstLimit: aws.Int32(1), LoggingLevel: v2types.LoggingLevelInfo}})
	http, err := ComputeHTTP(hp, live, DiffOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file, planFile, fingerprint string
		want                        *Changes
	}{{"saved-rest-v1.json", "plan.yaml", "sha256:x", rest}, {"saved-rest-prune-v1.json", "plan.yaml", "sha256:z", prune}, {"saved-http-v1.json", "http.yaml", "sha256:y", http}} {
		data, err := os.ReadFile(filepath.Join("testdata", "saved", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		s, err := ReadSaved(data)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		tc.want.region = s.Region
		if got := s.ChangeSet(); !reflect.DeepEqual(got, tc.want) {
			a, _ := json.MarshalIndent(tc.want, "", " ")
			b, _ := json.MarshalIndent(got, "", " ")
			t.Errorf("%s: read back\n%s\nwant\n%s", tc.file, b, a)
		}
		again, err := NewSaved(tc.want, tc.planFile, []byte("apiVersion: apictl/v1\n"), true, tc.fingerprint, s.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := json.MarshalIndent(again, "", "  ")
		if string(out) != string(data) {
			t.Errorf("%s: saving the same changes now writes another file:\n%s", tc.file, out)
		}
	}
}

// itemsHTTP is an HTTP API plan for items-api and the live state of that
// API with the given route settings on stage prod.
func itemsHTTP(t *testing.T, routes map[string]v2types.RouteSettings) (*Plan, *LiveHTTP) {
	return itemsHTTPPlan(t), &LiveHTTP{APIID: "h1", APIName: "items-api", Routes: map[string]bool{"GET /items": true, "POST /items": true},
		Stages: map[string]*LiveHTTPStage{"prod": {Name: "prod", Routes: routes}}}
}

// addLegacyPlan adds to l a managed usage plan "legacy" (p3) of the API on
// stage prod with a managed key "old" (k9), neither in goodPlan.
func addLegacyPlan(l *Live) {
	old, _ := normalisePlan(types.UsagePlan{Id: aws.String("p3"), Name: aws.String("legacy"), Tags: map[string]string{ManagedTag: "true"},
		ApiStages: []types.ApiStage{{ApiId: aws.String("api1"), Stage: aws.String("prod")}}}, "api1")
	old.Keys = []LivePlanKey{{ID: "k9", Name: "old"}}
	l.UsagePlans = append(l.UsagePlans, old)
	l.APIKeys = append(l.APIKeys, &LiveKey{ID: "k9", Name: "old", Enabled: true, Tags: map[string]string{ManagedTag: "true"}})
}

// itemsHTTPPlan is an HTTP API plan for stage prod of items-api: a stage
// throttle, detailed metrics, GET /items throttled and the methods given
// ("POST /items: {…}").
func itemsHTTPPlan(t *testing.T, methods ...string) *Plan {
	t.Helper()
	text := `apiVersion: apictl/v1
kind: Plan
api: items-api
type: http
stages: [prod]
stage:
  throttle: {rate: 100, burst: 50}
  detailedMetrics: true
  methods:
    GET /items: {throttle: {rate: 40, burst: 20}}
`
	for _, m := range methods {
		text += "    " + m + "\n"
	}
	p, err := Check("http.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
