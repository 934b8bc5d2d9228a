package demo

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/apictl/apictl/internal/sandbox/cw"
)

// historyPeakShare is the share of the pool's true capacity (at the
// methods' mix) the simulated daily peak reaches: busy, but inside
// capacity, as an API is before someone load-tests it.
const historyPeakShare = 0.15

// writeHistory writes a simulated day of API Gateway metrics, one datum per
// minute up to the last whole minute before now, into the emulated
// CloudWatch, with the dimensions API Gateway uses for the stage and (with
// detailed metrics) for each method. Traffic follows a daily curve with its
// peak in the afternoon; the random source is seeded so runs compare.
func writeHistory(store *cw.Store, w *World, now time.Time) {
	rng := rand.New(rand.NewPCG(7, 11))
	end := now.Truncate(time.Minute)
	start := end.Add(-24 * time.Hour)
	stageDims := []cw.Dimension{{Name: "ApiName", Value: w.APIName}, {Name: "Stage", Value: w.Stage}}
	put := func(dims []cw.Dimension, t time.Time, name string, d cw.Datum) {
		d.MetricName, d.Dimensions, d.Timestamp = name, dims, t
		store.Put("AWS/ApiGateway", d)
	}
	count := func(n float64) cw.Datum {
		return cw.Datum{Unit: "Count", StatisticValues: &cw.StatSet{SampleCount: n, Sum: n, Minimum: 1, Maximum: 1}}
	}
	errs := func(n, e float64) cw.Datum {
		return cw.Datum{Unit: "Count", StatisticValues: &cw.StatSet{SampleCount: n, Sum: e, Minimum: 0, Maximum: math.Min(e, 1)}}
	}
	peak := w.PoolConfig.CapacityAt(w.Methods, Mix(w.Methods)) * historyPeakShare
	for t := start; t.Before(end); t = t.Add(time.Minute) {
		hour := float64(t.Hour()) + float64(t.Minute())/60
		// 25% of the peak at night, the peak at 15:00 UTC.
		shape := 0.25 + 0.75*(0.5-0.5*math.Cos(2*math.Pi*(hour-3)/24))
		var total, total4, total5 float64
		var lat, latCounts []float64
		for _, m := range w.Methods {
			rps := peak * m.Share * shape * (0.9 + 0.2*rng.Float64())
			n := math.Round(rps * 60)
			e4 := math.Round(n * 0.004 * rng.Float64() * 2)
			e5 := math.Round(n * 0.0004 * rng.Float64() * 2)
			svc := float64(m.Service) / 1e6
			values := []float64{svc + 2, svc + 3, svc + 5, svc * 1.5, svc * 2.5}
			counts := []float64{math.Round(n * 0.5), math.Round(n * 0.3), math.Round(n * 0.15), math.Round(n * 0.04), math.Max(1, math.Round(n*0.01))}
			integration := make([]float64, len(values))
			for i, v := range values {
				integration[i] = v - 1.5
			}
			dims := append(append([]cw.Dimension{}, stageDims...),
				cw.Dimension{Name: "Method", Value: m.Verb}, cw.Dimension{Name: "Resource", Value: m.Path})
			put(dims, t, "Count", count(n))
			put(dims, t, "4XXError", errs(n, e4))
			put(dims, t, "5XXError", errs(n, e5))
			put(dims, t, "Latency", cw.Datum{Unit: "Milliseconds", Values: values, Counts: counts})
			put(dims, t, "IntegrationLatency", cw.Datum{Unit: "Milliseconds", Values: integration, Counts: counts})
			total, total4, total5 = total+n, total4+e4, total5+e5
			lat, latCounts = append(lat, values...), append(latCounts, counts...)
		}
		put(stageDims, t, "Count", count(total))
		put(stageDims, t, "4XXError", errs(total, total4))
		put(stageDims, t, "5XXError", errs(total, total5))
		put(stageDims, t, "Latency", cw.Datum{Unit: "Milliseconds", Values: lat, Counts: latCounts})
	}
}

// WriteHistory writes a simulated last 24 h of the API's metrics (at the
// methods' mix) into the emulated CloudWatch, so measure sees the mix
// without waiting for live traffic to fill whole minutes.
func (w *World) WriteHistory(now time.Time) { writeHistory(w.Sandbox.Metrics(), w, now) }
