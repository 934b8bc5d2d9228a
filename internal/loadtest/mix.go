package loadtest

import (
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Shares returns each target's share of the mix (weights normalised to sum 1).
func (ts Targets) Shares() []float64 {
	total := 0
	for _, t := range ts {
		total += max(t.Weight, 1)
	}
	out := make([]float64, len(ts))
	for i, t := range ts {
		out[i] = float64(max(t.Weight, 1)) / float64(total)
	}
	return out
}

// indexOf returns the index of the target a vegeta.Target was made from:
// the one with its method and URL, else the only one with its method, else -1.
func (ts Targets) indexOf(t *vegeta.Target) int {
	only, templated := -1, -1
	for i := range ts {
		if ts[i].Method != t.Method {
			continue
		}
		if ts[i].URL == t.URL {
			return i
		}
		if templated == -1 && ts[i].Template.matches(t.URL) {
			templated = i // a request made from a data row
		}
		if only == -1 {
			only = i
		} else {
			only = -2
		}
	}
	if templated >= 0 {
		return templated
	}
	return max(only, -1)
}
