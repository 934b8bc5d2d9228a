package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

// bigPlan has 20 methods, 10 usage plans and 1000 keys.
func bigPlan(b *testing.B) (*Plan, []byte) {
	var s strings.Builder
	s.WriteString("apiVersion: apictl/v1\nkind: Plan\napi: big\nstages: [prod]\nstage:\n  throttle: {rate: 1000, burst: 500}\n  methods:\n")
	for m := range 20 {
		fmt.Fprintf(&s, "    GET /r%d/{id}: {throttle: {rate: %d, burst: 10}}\n", m, 10+m)
	}
	s.WriteString("usagePlans:\n")
	for u := range 10 {
		fmt.Fprintf(&s, "  - name: plan%d\n    throttle: {rate: 100, burst: 50}\n    quota: {limit: 10000, period: DAY}\n    methods:\n", u)
		for m := range 20 {
			fmt.Fprintf(&s, "      GET /r%d/{id}: {rate: 5, burst: 5}\n", m)
		}
		s.WriteString("    keys: [")
		for k := u; k < 1000; k += 10 {
			if k > u {
				s.WriteString(", ")
			}
			fmt.Fprintf(&s, "k%d", k)
		}
		s.WriteString("]\n")
	}
	s.WriteString("apiKeys:\n")
	for k := range 1000 {
		fmt.Fprintf(&s, "  - name: k%d\n", k)
	}
	p, err := Check("big.yaml", []byte(s.String()))
	if err != nil {
		b.Fatal(err)
	}
	return p, []byte(s.String())
}

func BenchmarkCheck(b *testing.B) {
	_, data := bigPlan(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Check("big.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComputeConverged diffs the big plan against live state that
// already matches it (the common CI case).
func BenchmarkComputeConverged(b *testing.B) {
	p, _ := bigPlan(b)
	l := &Live{APIID: "a", APIName: "big", Methods: map[MethodID]bool{}, Stages: map[string]*LiveStage{}}
	st := &LiveStage{Name: "prod", Default: &ThrottleValue{1000, 500}, Methods: map[MethodID]LiveMethodSetting{}}
	l.Stages["prod"] = st
	for m := range 20 {
		id := MethodID{"GET", fmt.Sprintf("/r%d/{id}", m)}
		l.Methods[id] = true
		st.Methods[id] = LiveMethodSetting{Throttle: &ThrottleValue{float64(10 + m), 10}}
	}
	tags := map[string]string{ManagedTag: "true"}
	for k := range 1000 {
		l.APIKeys = append(l.APIKeys, &LiveKey{ID: fmt.Sprint("id", k), Name: fmt.Sprint("k", k), Enabled: true, Tags: tags})
	}
	for u := range 10 {
		th := map[string]types.ThrottleSettings{}
		for m := range 20 {
			th[fmt.Sprintf("/r%d/{id}/GET", m)] = types.ThrottleSettings{RateLimit: 5, BurstLimit: 5}
		}
		lp, err := normalisePlan(types.UsagePlan{Id: aws.String(fmt.Sprint("p", u)), Name: aws.String(fmt.Sprint("plan", u)), Tags: tags,
			Throttle: &types.ThrottleSettings{RateLimit: 100, BurstLimit: 50}, Quota: &types.QuotaSettings{Limit: 10000, Period: "DAY"},
			ApiStages: []types.ApiStage{{ApiId: aws.String("a"), Stage: aws.String("prod"), Throttle: th}}}, "a")
		if err != nil {
			b.Fatal(err)
		}
		for k := u; k < 1000; k += 10 {
			lp.Keys = append(lp.Keys, LivePlanKey{ID: fmt.Sprint("id", k), Name: fmt.Sprint("k", k)})
		}
		l.UsagePlans = append(l.UsagePlans, lp)
	}
	for b.Loop() {
		ch, err := Compute(p, l, DiffOptions{})
		if err != nil || !ch.Empty() {
			b.Fatalf("%v\n%s", err, ch.Text())
		}
	}
}
