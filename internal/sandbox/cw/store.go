// Package cw is the sandbox's emulated Amazon CloudWatch: a metric store and
// an http.Handler that serves GetMetricData, GetMetricStatistics, ListMetrics
// and PutMetricData over the wire protocols real clients use:
//
//   - Smithy RPC v2 CBOR (aws-sdk-go-v2 service/cloudwatch):
//     POST /service/GraniteServiceVersion20100801/operation/{Operation}
//   - awsJson1.0 (newer AWS CLI releases): POST / with
//     X-Amz-Target: GraniteServiceVersion20100801.{Operation}
//   - the AWS Query protocol (older AWS CLI releases): POST / with a form body
//     Action={Operation}&Version=2010-08-01&…, answered in XML
//
// Use Store.Put to record data points from Go (the sandbox's data plane does)
// and NewHandler to serve the store; IsCloudWatchRequest tells a composed
// server which requests belong here.
//
// The store keeps, per metric identity (namespace, metric name, exact set of
// dimensions, as CloudWatch does) and unit, one bucket per minute with the
// sum, count, minimum and maximum, plus the values themselves: exact
// (value, count) pairs while a bucket holds few distinct values, then a
// log-bucketed histogram with 0.5% relative error, so percentiles stay within
// 1% of the true value however many points arrive. Periods are therefore whole
// minutes: a period that is not a multiple of 60 seconds is rejected.
// Percentiles are nearest-rank over the individual values; data put as a
// StatisticValues set counts for every other statistic but not percentiles.
//
// ListMetrics, as on CloudWatch, leaves out metrics that have reported no
// data in the past two weeks (of the store's clock); GetMetricData and
// GetMetricStatistics still return their data.
//
// Not emulated: metric math and Metrics Insights expressions (a query with
// Expression gets a ValidationError), high-resolution (sub-minute) periods,
// retention and roll-up of old data, LabelOptions, alarms, dashboards and
// cross-account observability. PutMetricData accepts "AWS/" namespaces, which
// real CloudWatch refuses, so tests can seed API Gateway metrics via the SDK.
package cw

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Dimension is a name/value pair that is part of a metric's identity.
type Dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// StatSet is a pre-aggregated set of samples (CloudWatch's StatisticSet).
// It contributes to Sum, SampleCount, Average, Minimum and Maximum, but not to
// percentiles, which need the individual values.
type StatSet struct {
	SampleCount, Sum, Minimum, Maximum float64
}

// Datum is one PutMetricData entry. Exactly one of Value, Values (with
// optional Counts, each defaulting to 1) or StatisticValues carries the data;
// when Values is set it wins, then StatisticValues, then Value. A zero
// Timestamp means the store's now.
type Datum struct {
	MetricName      string
	Dimensions      []Dimension
	Timestamp       time.Time
	Value           float64
	Unit            string
	Values, Counts  []float64
	StatisticValues *StatSet
}

// Metric identifies a metric, as ListMetrics returns it. Dimensions are
// sorted by name.
type Metric struct {
	Namespace  string
	MetricName string
	Dimensions []Dimension
}

// Point is one aggregated data point; Timestamp is the start of its period.
type Point struct {
	Timestamp time.Time
	Value     float64
}

// Store is an in-memory metric store, safe for concurrent use.
type Store struct {
	now func() time.Time

	mu      sync.RWMutex
	metrics map[string]*metric // by identity key
	points  int64
}

type metric struct {
	id       Metric
	key      string
	byUnit   map[string]*series
	lastSeen time.Time // latest data-point timestamp, for ListMetrics RecentlyActive
}

// series holds the minute buckets of one metric and unit, sorted by minute.
type series struct {
	buckets []*bucket
}

// NewStore returns an empty store; now is the clock for data points without a
// timestamp (time.Now when nil).
func NewStore(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, metrics: map[string]*metric{}}
}

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// Put records one datum in namespace ns. Invalid parts are skipped rather than
// reported: NaN and infinite values, and a StatisticValues with a sample count
// below 1. Counts shorter than Values default the missing counts to 1.
func (s *Store) Put(ns string, d Datum) {
	ts := d.Timestamp
	if ts.IsZero() {
		ts = s.now()
	}
	dims := sortedDims(d.Dimensions)
	key := identityKey(ns, d.MetricName, dims)
	minute := floorDiv(ts.Unix(), 60)

	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.metrics[key]
	if m == nil {
		m = &metric{id: Metric{Namespace: ns, MetricName: d.MetricName, Dimensions: dims}, key: key, byUnit: map[string]*series{}}
		s.metrics[key] = m
	}
	if ts.After(m.lastSeen) {
		m.lastSeen = ts
	}
	unit := d.Unit
	if unit == "None" {
		unit = ""
	}
	sr := m.byUnit[unit]
	if sr == nil {
		sr = &series{}
		m.byUnit[unit] = sr
	}
	b := sr.bucketAt(minute)
	switch {
	case len(d.Values) > 0:
		for i, v := range d.Values {
			c := 1.0
			if i < len(d.Counts) {
				c = d.Counts[i]
			}
			if c > 0 && finite(v) {
				b.addValue(v, c)
				s.points++
			}
		}
	case d.StatisticValues != nil:
		st := d.StatisticValues
		if st.SampleCount >= 1 && finite(st.Sum) && finite(st.Minimum) && finite(st.Maximum) {
			b.addStats(*st)
			s.points++
		}
	default:
		if finite(d.Value) {
			b.addValue(d.Value, 1)
			s.points++
		}
	}
}

// Points is the number of data points (Put values and statistic sets) stored.
func (s *Store) Points() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.points
}

// Reset removes all metrics.
func (s *Store) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metrics = map[string]*metric{}
	s.points = 0
}

// MetricFilter selects metrics for ListMetrics: empty fields match anything;
// a dimension filter with an empty Value matches any value of that name.
// ActiveSince, when set, keeps metrics with a data point at or after it.
type MetricFilter struct {
	Namespace   string
	MetricName  string
	Dimensions  []Dimension
	ActiveSince time.Time
}

// ListMetrics returns the metrics matching f, sorted by namespace, name and
// dimensions.
func (s *Store) ListMetrics(f MetricFilter) []Metric {
	s.mu.RLock()
	out := make([]Metric, 0, 16)
	keys := make([]string, 0, 16)
	for key, m := range s.metrics {
		if f.Namespace != "" && m.id.Namespace != f.Namespace ||
			f.MetricName != "" && m.id.MetricName != f.MetricName ||
			!f.ActiveSince.IsZero() && m.lastSeen.Before(f.ActiveSince) ||
			!matchDims(m.id.Dimensions, f.Dimensions) {
			continue
		}
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, s.metrics[k].id)
	}
	s.mu.RUnlock()
	return out
}

func matchDims(have, filter []Dimension) bool {
	for _, f := range filter {
		i, ok := slices.BinarySearchFunc(have, f.Name, func(d Dimension, name string) int { return strings.Compare(d.Name, name) })
		if !ok || f.Value != "" && have[i].Value != f.Value {
			return false
		}
	}
	return true
}

// Query is one metric statistic over a time range.
type Query struct {
	Namespace  string
	MetricName string
	Dimensions []Dimension // exact set, order does not matter
	Unit       string      // empty: all units
	Stat       string      // Sum, Average, Minimum, Maximum, SampleCount, pNN[.NN]
	Period     time.Duration
	Start, End time.Time // End is exclusive; Start is rounded down to the minute
}

// Series returns the data points of q in ascending time order, one per period
// that has data; the points' timestamps are Start (rounded down to the
// minute) plus whole periods. It fails only for an invalid Stat or Period.
func (s *Store) Series(q Query) ([]Point, error) {
	st, err := parseStat(q.Stat)
	if err != nil {
		return nil, err
	}
	aggs, err := s.aggregate(q)
	if err != nil {
		return nil, err
	}
	out := make([]Point, 0, len(aggs))
	for _, a := range aggs {
		if v, ok := a.value(st); ok {
			out = append(out, Point{Timestamp: a.start, Value: v})
		}
	}
	return out, nil
}

// periodAgg is everything known about one period of one query.
type periodAgg struct {
	start                time.Time
	unit                 string // of the first series seen; "" for none
	count, sum, min, max float64
	raw                  []valueCount // exact values while every bucket has them
	sk                   *sketch      // merged sketch once any bucket overflowed
	sampled              float64      // how many samples have individual values (for percentiles)
}

func (s *Store) aggregate(q Query) ([]*periodAgg, error) {
	period := int64(q.Period / time.Second)
	if q.Period%time.Minute != 0 || period <= 0 {
		return nil, errInvalidPeriod
	}
	startMin := floorDiv(q.Start.Unix(), 60)
	endSec := q.End.Unix()
	if q.End.Nanosecond() > 0 {
		endSec++ // End is exclusive; a fractional second still covers the second it starts
	}
	endMin := floorDiv(endSec+59, 60) // first minute not included
	periodMin := period / 60
	key := identityKey(q.Namespace, q.MetricName, sortedDims(q.Dimensions))
	unit := q.Unit
	if unit == "None" {
		unit = ""
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.metrics[key]
	if m == nil || endMin <= startMin {
		return nil, nil
	}
	byPeriod := map[int64]*periodAgg{}
	for u, sr := range m.byUnit {
		if q.Unit != "" && u != unit {
			continue
		}
		lo := sort.Search(len(sr.buckets), func(i int) bool { return sr.buckets[i].minute >= startMin })
		for _, b := range sr.buckets[lo:] {
			if b.minute >= endMin {
				break
			}
			idx := (b.minute - startMin) / periodMin
			a := byPeriod[idx]
			if a == nil {
				a = &periodAgg{start: time.Unix((startMin+idx*periodMin)*60, 0).UTC(), min: math.Inf(1), max: math.Inf(-1)}
				byPeriod[idx] = a
			}
			if a.unit == "" {
				a.unit = u
			}
			a.merge(b)
		}
	}
	out := make([]*periodAgg, 0, len(byPeriod))
	for _, a := range byPeriod {
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y *periodAgg) int { return x.start.Compare(y.start) })
	return out, nil
}

func (a *periodAgg) merge(b *bucket) {
	a.count += b.count
	a.sum += b.sum
	a.min = math.Min(a.min, b.min)
	a.max = math.Max(a.max, b.max)
	a.sampled += b.sampled
	switch {
	case a.sk == nil && b.sk == nil:
		a.raw = append(a.raw, b.raw...)
	default:
		if a.sk == nil {
			a.sk = newSketch()
			for _, vc := range a.raw {
				a.sk.add(vc.v, vc.c)
			}
			a.raw = nil
		}
		if b.sk != nil {
			a.sk.mergeFrom(b.sk)
		} else {
			for _, vc := range b.raw {
				a.sk.add(vc.v, vc.c)
			}
		}
	}
}

func (a *periodAgg) value(st stat) (float64, bool) {
	if a.count == 0 {
		return 0, false
	}
	switch st.kind {
	case statSum:
		return a.sum, true
	case statAverage:
		return a.sum / a.count, true
	case statMinimum:
		return a.min, true
	case statMaximum:
		return a.max, true
	case statSampleCount:
		return a.count, true
	}
	// Percentile over the samples that have individual values.
	if a.sampled == 0 {
		return 0, false
	}
	rank := math.Max(1, math.Ceil(st.p/100*a.sampled-1e-9))
	if a.sk != nil {
		return clamp(a.sk.rankValue(rank), a.min, a.max), true
	}
	slices.SortFunc(a.raw, func(x, y valueCount) int { return cmpFloat(x.v, y.v) })
	var seen float64
	for _, vc := range a.raw {
		seen += vc.c
		if seen >= rank {
			return vc.v, true
		}
	}
	return a.raw[len(a.raw)-1].v, true
}

// bucket is one minute of one series.
type bucket struct {
	minute               int64
	count, sum, min, max float64
	sampled              float64
	raw                  []valueCount
	sk                   *sketch
}

type valueCount struct{ v, c float64 }

// rawLimit is how many distinct values a bucket keeps exactly before it
// switches to a sketch.
const rawLimit = 256

func (sr *series) bucketAt(minute int64) *bucket {
	n := len(sr.buckets)
	if n > 0 && sr.buckets[n-1].minute == minute {
		return sr.buckets[n-1]
	}
	i := n
	if n > 0 && sr.buckets[n-1].minute > minute {
		i = sort.Search(n, func(i int) bool { return sr.buckets[i].minute >= minute })
		if i < n && sr.buckets[i].minute == minute {
			return sr.buckets[i]
		}
	}
	b := &bucket{minute: minute, min: math.Inf(1), max: math.Inf(-1)}
	sr.buckets = slices.Insert(sr.buckets, i, b)
	return b
}

func (b *bucket) addValue(v, c float64) {
	b.count += c
	b.sum += v * c
	b.min = math.Min(b.min, v)
	b.max = math.Max(b.max, v)
	b.sampled += c
	if b.sk != nil {
		b.sk.add(v, c)
		return
	}
	for i := range b.raw {
		if b.raw[i].v == v {
			b.raw[i].c += c
			return
		}
	}
	if len(b.raw) < rawLimit {
		b.raw = append(b.raw, valueCount{v, c})
		return
	}
	b.sk = newSketch()
	for _, vc := range b.raw {
		b.sk.add(vc.v, vc.c)
	}
	b.raw = nil
	b.sk.add(v, c)
}

func (b *bucket) addStats(st StatSet) {
	b.count += st.SampleCount
	b.sum += st.Sum
	b.min = math.Min(b.min, st.Minimum)
	b.max = math.Max(b.max, st.Maximum)
}

// sketch is a log-bucketed histogram: a positive value v falls in bin
// ceil(log_γ v), and reading a bin back as 2γ^i/(γ+1) is within
// (γ-1)/(γ+1) ≈ 0.5% of every value in it. Negative values mirror this.
type sketch struct {
	pos, neg map[int32]float64
	zero     float64
}

const sketchGamma = 1.01

var sketchLogGamma = math.Log(sketchGamma)

func newSketch() *sketch {
	return &sketch{pos: map[int32]float64{}, neg: map[int32]float64{}}
}

func sketchIndex(v float64) int32 {
	return int32(math.Ceil(math.Log(v) / sketchLogGamma))
}

func sketchValue(i int32) float64 {
	return 2 * math.Pow(sketchGamma, float64(i)) / (1 + sketchGamma)
}

func (s *sketch) add(v, c float64) {
	switch {
	case v > 0:
		s.pos[sketchIndex(v)] += c
	case v < 0:
		s.neg[sketchIndex(-v)] += c
	default:
		s.zero += c
	}
}

func (s *sketch) mergeFrom(o *sketch) {
	for i, c := range o.pos {
		s.pos[i] += c
	}
	for i, c := range o.neg {
		s.neg[i] += c
	}
	s.zero += o.zero
}

// rankValue returns the value of the sample with the given 1-based rank.
func (s *sketch) rankValue(rank float64) float64 {
	var seen float64
	negIdx := sortedKeys(s.neg)
	for j := len(negIdx) - 1; j >= 0; j-- { // most negative first
		seen += s.neg[negIdx[j]]
		if seen >= rank {
			return -sketchValue(negIdx[j])
		}
	}
	seen += s.zero
	if seen >= rank {
		return 0
	}
	posIdx := sortedKeys(s.pos)
	for _, i := range posIdx {
		seen += s.pos[i]
		if seen >= rank {
			return sketchValue(i)
		}
	}
	if len(posIdx) > 0 {
		return sketchValue(posIdx[len(posIdx)-1])
	}
	return 0
}

func sortedKeys(m map[int32]float64) []int32 {
	keys := make([]int32, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedDims(dims []Dimension) []Dimension {
	if len(dims) == 0 {
		return nil
	}
	out := slices.Clone(dims)
	slices.SortFunc(out, func(a, b Dimension) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out
}

func identityKey(ns, name string, sortedDims []Dimension) string {
	var b strings.Builder
	b.Grow(len(ns) + len(name) + 2 + 16*len(sortedDims))
	b.WriteString(ns)
	b.WriteByte(0)
	b.WriteString(name)
	for _, d := range sortedDims {
		b.WriteByte(0)
		b.WriteString(d.Name)
		b.WriteByte(1)
		b.WriteString(d.Value)
	}
	return b.String()
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
