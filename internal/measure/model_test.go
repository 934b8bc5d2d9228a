package measure

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReadUsage(t *testing.T) {
	one, _ := json.Marshal(&Usage{API: "shop", Stage: "prod", Totals: Totals{Count: 7}})
	two, _ := json.Marshal([]*Usage{{API: "shop", Stage: "dev"}, {API: "shop", Stage: "prod", Totals: Totals{Count: 9}}})

	u, err := ReadUsage(strings.NewReader(string(one)), "")
	if err != nil || u.Stage != "prod" || u.Totals.Count != 7 {
		t.Errorf("object: %+v %v", u, err)
	}
	if _, err := ReadUsage(strings.NewReader(string(one)), "dev"); err == nil || !strings.Contains(err.Error(), `no stage "dev"`) {
		t.Errorf("object, wrong stage: %v", err)
	}
	u, err = ReadUsage(strings.NewReader(string(two)), "prod")
	if err != nil || u.Totals.Count != 9 {
		t.Errorf("array: %+v %v", u, err)
	}
	if _, err := ReadUsage(strings.NewReader(string(two)), ""); err == nil || !strings.Contains(err.Error(), "several stages") {
		t.Errorf("array without stage: %v", err)
	}
	if _, err := ReadUsage(strings.NewReader("{"), ""); err == nil {
		t.Error("bad json accepted")
	}
	if _, err := ReadUsage(strings.NewReader("[]"), ""); err == nil {
		t.Error("empty array accepted")
	}
}
