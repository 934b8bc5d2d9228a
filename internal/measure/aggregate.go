package measure

import (
	"math"
	"time"
)

// BurstSigmas is the number of standard deviations the burst estimate adds
// to the peak-period rate.
const BurstSigmas = 3

// BurstEstimateNote explains Totals.BurstEstimateRPS.
const BurstEstimateNote = "estimate: peak-period rate + 3·√(peak-period rate), the busiest second if requests arrive as a Poisson process at the peak rate; CloudWatch keeps no per-second API Gateway data"

// HeadroomWarn is the headroom below which measure warns.
const HeadroomWarn = 1.2

// grid is the period layout of a window.
type grid struct {
	start  time.Time
	end    time.Time
	period int
}

func (g grid) n() int { return int(g.end.Sub(g.start) / (time.Duration(g.period) * time.Second)) }

func (g grid) seconds() int64 { return int64(g.end.Sub(g.start) / time.Second) }

// buckets lays the datapoints of s onto the grid; periods without data are
// zero, datapoints outside the window are dropped.
func (g grid) buckets(s *series) []float64 {
	out := make([]float64, g.n())
	if s == nil {
		return out
	}
	p := time.Duration(g.period) * time.Second
	for i, t := range s.times {
		if t.Before(g.start) || !t.Before(g.end) {
			continue
		}
		out[int(t.Sub(g.start)/p)] += s.values[i]
	}
	return out
}

// rate is the per-second figures of a Count series.
type rate struct {
	count   int64
	avg     float64
	peak    float64
	peakAt  *time.Time
	burst   float64
	perStep []float64 // requests per second of each period
}

// countRate computes total, average, peak (first busiest period) and burst
// estimate from per-period request counts.
func countRate(g grid, counts []float64) rate {
	var r rate
	var sum float64
	peakIdx := -1
	r.perStep = make([]float64, len(counts))
	for i, c := range counts {
		sum += c
		r.perStep[i] = c / float64(g.period)
		if c > 0 && (peakIdx < 0 || c > counts[peakIdx]) {
			peakIdx = i
		}
	}
	r.count = int64(math.Round(sum))
	if secs := g.seconds(); secs > 0 {
		r.avg = round(sum/float64(secs), 3)
	}
	if peakIdx >= 0 {
		peak := counts[peakIdx] / float64(g.period)
		r.peak = round(peak, 3)
		at := g.start.Add(time.Duration(peakIdx*g.period) * time.Second)
		r.peakAt = &at
		r.burst = round(burstEstimate(peak), 1)
	}
	return r
}

// burstEstimate is the documented heuristic for the busiest second: the
// peak-period rate plus BurstSigmas standard deviations of a Poisson count
// with that mean.
func burstEstimate(peakRPS float64) float64 {
	if peakRPS <= 0 {
		return 0
	}
	return peakRPS + BurstSigmas*math.Sqrt(peakRPS)
}

// daily sums per-period counts by UTC day; days not wholly inside the
// window are marked partial.
func daily(g grid, counts []float64) []Daily {
	var out []Daily
	var dayEnd time.Time
	p := time.Duration(g.period) * time.Second
	for i, c := range counts {
		t := g.start.Add(time.Duration(i) * p).UTC()
		if len(out) == 0 || !t.Before(dayEnd) {
			dayStart := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
			dayEnd = dayStart.Add(24 * time.Hour)
			out = append(out, Daily{
				Date:    t.Format(time.DateOnly),
				Partial: dayStart.Before(g.start) || dayEnd.After(g.end),
			})
		}
		out[len(out)-1].Count += int64(math.Round(c))
	}
	return out
}

// sumOf adds every datapoint of a one-value-per-window Sum query.
func sumOf(s *series) int64 {
	if s == nil {
		return 0
	}
	var t float64
	for _, v := range s.values {
		t += v
	}
	return int64(math.Round(t))
}

// percentileOf returns the value of a one-value-per-window percentile
// query, nil without data. Should CloudWatch split the window into several
// datapoints, the largest is kept (a percentile of the whole cannot be
// rebuilt from parts; the largest never understates it).
func percentileOf(s *series) *float64 {
	if s == nil || len(s.values) == 0 {
		return nil
	}
	m := s.values[0]
	for _, v := range s.values[1:] {
		m = math.Max(m, v)
	}
	m = round(m, 3)
	return &m
}

// ratio returns part/whole rounded to 4 decimals, 0 when whole is 0.
func ratio(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return round(float64(part)/float64(whole), 4)
}

// headroom returns throttle rate / peak RPS rounded to 2 decimals; nil
// when either is missing.
func headroom(l *Limit, peak float64) *float64 {
	if l == nil || l.Rate <= 0 || peak <= 0 {
		return nil
	}
	h := round(l.Rate/peak, 2)
	return &h
}

func round(x float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(x*p) / p
}
