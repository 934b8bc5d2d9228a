package loadtest

import (
	"math"
	"sort"
)

// maxInFlightUpTo is the most requests in flight in the passing steps at
// or below rate.
func maxInFlightUpTo(steps []Step, rate float64) int {
	n := 0
	for _, st := range steps {
		if st.Pass && st.Rate <= rate {
			n = max(n, st.MaxInFlight)
		}
	}
	return n
}

func lowestFailing(steps []Step) *Step {
	var out *Step
	for i := range steps {
		if !steps[i].Pass && !steps[i].Interrupted && (out == nil || steps[i].Rate < out.Rate) {
			out = &steps[i]
		}
	}
	return out
}

// Knee estimates the rate at which latency starts to climb. A step is
// "flat" when its median latency is within 1.5× (or 5 ms) of the lowest
// median seen and at least 99% of its requests succeeded. Scanning from the
// highest rate down, the knee is the first flat step below the bent ones:
// isolated noisy steps lower on the curve do not move it. It returns 0 when
// no step left the flat part (the knee is above every rate tried) or there
// are fewer than three steps.
func Knee(steps []Step) float64 {
	var pts []Step
	for _, st := range steps {
		if st.Requests > 0 && !st.Interrupted && st.Phase != PhaseConfirm {
			pts = append(pts, st)
		}
	}
	if len(pts) < 3 {
		return 0
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].Rate < pts[j].Rate })
	base := math.Inf(1)
	for _, p := range pts {
		base = math.Min(base, p.Latency.P50)
	}
	limit := math.Max(base*1.5, base+5)
	flat := func(p Step) bool { return p.Latency.P50 <= limit && p.SuccessRatio >= 0.99 }
	if flat(pts[len(pts)-1]) {
		return 0
	}
	for i := len(pts) - 1; i >= 0; i-- {
		if flat(pts[i]) {
			return pts[i].Rate
		}
	}
	return 0
}
