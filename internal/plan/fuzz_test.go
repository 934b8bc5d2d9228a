package plan

import (
	"errors"
	"os"
	"testing"
)

// FuzzCheck feeds arbitrary bytes to the plan parser and validator: they
// must never panic, and every error they return must name the file and a
// line and column (plan.yaml:LINE:COL), as `apictl plan validate` promises.
func FuzzCheck(f *testing.F) {
	for _, name := range []string{"testdata/good.yaml", "testdata/bad.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(""))
	f.Add([]byte("apiVersion: apictl/v1\nkind: Plan\napi: a\nstages: [p]\nstage: {throttle: {rate: 0, burst: 0}}\n"))
	f.Add([]byte("usagePlans:\n  - name: x\n    methods: {'GET /a': {rate: -1}}\n    keys: [k, k]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Check("plan.yaml", data)
		if err == nil {
			if p == nil {
				t.Fatal("Check returned neither a plan nor an error")
			}
			return
		}
		var es Errors
		if !errors.As(err, &es) {
			t.Fatalf("error is not plan.Errors: %T %v", err, err)
		}
		if len(es) == 0 {
			t.Fatal("empty Errors returned as an error")
		}
		for _, e := range es {
			if e.File != "plan.yaml" || e.Pos.Line < 1 || e.Pos.Col < 1 {
				t.Fatalf("error without FILE:LINE:COL: %q (file %q, pos %+v)", e.Error(), e.File, e.Pos)
			}
		}
	})
}
