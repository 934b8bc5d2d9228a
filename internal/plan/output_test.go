package plan

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/apictl/apictl/internal/report"
)

func TestValidationResultViews(t *testing.T) {
	render := func(v report.Documenter) string {
		var b bytes.Buffer
		if err := report.Render(&b, report.Options{Format: report.FormatTable}, v); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	p, err := Check("ok.yaml", []byte("apiVersion: apictl/v1\nkind: Plan\napi: shop\nstages: [prod]\nstage:\n  throttle: {rate: 10, burst: 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := render(NewValidationResult("ok.yaml", p, nil)); !strings.Contains(got, "ok.yaml: valid (REST API shop, 1 stage, 0 method settings, 0 usage plans, 0 API keys)") {
		t.Errorf("valid plan: %s", got)
	}
	_, err = Check("bad.yaml", []byte("apiVersion: apictl/v1\nkind: Plan\napi: shop\nstages: [prod]\nstage:\n  throttle: {rate: -1, burst: 5}\n"))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("want plan errors, got %v", err)
	}
	res := NewValidationResult("bad.yaml", nil, es)
	if got := render(res); res.Valid || !strings.Contains(got, "bad.yaml:6:") {
		t.Errorf("invalid plan: valid %v, view %s", res.Valid, got)
	}
}
