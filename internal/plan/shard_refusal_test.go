package plan

import (
	"errors"
	"strings"
	"testing"
)

// TestGenerateRefusesOneShard: one shard's own result of a distributed run
// holds 1/N of the load; a plan from it would throttle at 1/N of the
// capacity. The merged result (no shard) is planned from.
func TestGenerateRefusesOneShard(t *testing.T) {
	lt := decodeLT(t, mixResult)
	lt.Shard = &struct {
		Index int `json:"index"`
		Count int `json:"count"`
	}{Index: 1, Count: 3}
	_, _, err := Generate(GenerateInput{API: "cart-api", Stage: "prod", Loadtest: lt, LoadtestFile: "shard1.json"})
	var re *RefusalError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "it is shard 1 of 3 of a distributed run") || re.Refusals[0].Reason != RefusalOneShard || !strings.Contains(re.Hint(), "merge every shard's results") {
		t.Fatalf("err = %v, want a refusal naming the shard with a hint to merge", err)
	}
	lt.Shard = nil
	if _, _, err := Generate(GenerateInput{API: "cart-api", Stage: "prod", Loadtest: lt, LoadtestFile: "merged.json"}); err != nil {
		t.Errorf("merged result refused: %v", err)
	}
}
