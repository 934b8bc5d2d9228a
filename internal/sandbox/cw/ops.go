package cw

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CloudWatch's documented limits.
const (
	maxQueriesPerCall    = 500
	defaultMaxDatapoints = 100800
	maxStatisticsPoints  = 1440
	listMetricsPageSize  = 500
	maxMetricDataPerPut  = 1000
	maxValuesPerDatum    = 150
	maxDimensions        = 30
	maxDimensionFilters  = 10
	putPastLimit         = 14 * 24 * time.Hour
	putFutureLimit       = 2 * time.Hour
	recentlyActiveWindow = 3 * time.Hour
	// ListMetricsWindow: ListMetrics leaves out metrics that have reported
	// no data in the past two weeks.
	listMetricsWindow     = 14 * 24 * time.Hour
	maxNameLength         = 255
	maxDimensionValueSize = 1024
)

var metricIDPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

var standardUnits = map[string]bool{}

func init() {
	for _, u := range strings.Fields(`Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes
		Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second Megabytes/Second
		Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second Megabits/Second Gigabits/Second
		Terabits/Second Count/Second None`) {
		standardUnits[u] = true
	}
}

func checkUnit(u, path string) {
	if u != "" && !standardUnits[u] {
		panic(invalidParameterValue("The value %s for parameter %s is invalid: not a CloudWatch standard unit.", u, path))
	}
}

// getDimensions reads a list of {Name, Value}; requireValue is false for
// ListMetrics filters.
func getDimensions(m map[string]any, key, path string, requireValue bool) []Dimension {
	list := getList(m, key, path)
	if len(list) == 0 {
		return nil
	}
	dims := make([]Dimension, 0, len(list))
	seen := map[string]bool{}
	for i, e := range list {
		p := fmt.Sprintf("%s.member.%d", path, i+1)
		dm := asMap(e, p)
		d := Dimension{Name: getString(dm, "Name", p+".Name"), Value: getString(dm, "Value", p+".Value")}
		if d.Name == "" {
			panic(missingParameter(p + ".Name"))
		}
		if requireValue && d.Value == "" {
			panic(missingParameter(p + ".Value"))
		}
		if len(d.Name) > maxNameLength || len(d.Value) > maxDimensionValueSize {
			panic(invalidParameterValue("The dimension at %s is too long.", p))
		}
		if seen[d.Name] {
			panic(invalidParameterValue("The dimension name %s at %s is duplicated.", d.Name, p))
		}
		seen[d.Name] = true
		dims = append(dims, d)
	}
	return dims
}

func dimensionsOut(dims []Dimension) []any {
	out := make([]any, len(dims))
	for i, d := range dims {
		out[i] = obj{{"Name", d.Name}, {"Value", d.Value}}
	}
	return out
}

// ---- paging tokens: base64("cw1:<offset>:<fingerprint>") ----

func encodeToken(offset int, fingerprint uint32) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "cw1:%d:%08x", offset, fingerprint))
}

func decodeToken(tok string, fingerprint uint32) int {
	if tok == "" {
		return 0
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	parts := strings.Split(string(raw), ":")
	if err != nil || len(parts) != 3 || parts[0] != "cw1" {
		panic(invalidNextToken("The service couldn't process the NextToken %q: not a token this emulator issued.", tok))
	}
	off, err := strconv.Atoi(parts[1])
	if err != nil || off < 0 || parts[2] != fmt.Sprintf("%08x", fingerprint) {
		panic(invalidNextToken("The NextToken %q belongs to a different request: repeat the request with the same parameters.", tok))
	}
	return off
}

func fingerprint(parts ...string) uint32 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum32()
}

// ---- GetMetricData ----

type dataQuery struct {
	id, label  string
	returnData bool
	q          Query
}

func opGetMetricData(s *Store, in map[string]any) (obj, error) {
	list := getList(in, "MetricDataQueries", "MetricDataQueries")
	switch {
	case list == nil:
		return nil, validationError("1 validation error detected: Value null at 'metricDataQueries' failed to satisfy constraint: Member must not be null")
	case len(list) > maxQueriesPerCall:
		return nil, validationError("1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length less than or equal to %d (got %d queries; split them over several calls)", maxQueriesPerCall, len(list))
	}
	start, ok := getTime(in, "StartTime", "StartTime")
	if !ok {
		return nil, validationError("1 validation error detected: Value null at 'startTime' failed to satisfy constraint: Member must not be null")
	}
	end, ok := getTime(in, "EndTime", "EndTime")
	if !ok {
		return nil, validationError("1 validation error detected: Value null at 'endTime' failed to satisfy constraint: Member must not be null")
	}
	if !end.After(start) {
		return nil, validationError("The parameter StartTime must be less than the parameter EndTime.")
	}
	maxDP := int64(defaultMaxDatapoints)
	if v, ok := getInt(in, "MaxDatapoints", "MaxDatapoints"); ok {
		if v < 1 {
			return nil, invalidParameterValue("The value %d for parameter MaxDatapoints is invalid: must be at least 1.", v)
		}
		maxDP = v
	}
	scanBy := getString(in, "ScanBy", "ScanBy")
	switch scanBy {
	case "", "TimestampDescending", "TimestampAscending":
	default:
		return nil, validationError("1 validation error detected: Value '%s' at 'scanBy' failed to satisfy constraint: Member must satisfy enum value set: [TimestampDescending, TimestampAscending]", scanBy)
	}

	queries := make([]dataQuery, 0, len(list))
	ids := map[string]bool{}
	fpParts := []string{start.String(), end.String(), scanBy, strconv.FormatInt(maxDP, 10)}
	for i, e := range list {
		p := fmt.Sprintf("MetricDataQueries.member.%d", i+1)
		dq := parseDataQuery(asMap(e, p), p, start, end)
		if ids[dq.id] {
			return nil, validationError("The value %s for parameter %s.Id is duplicated: query ids must be unique.", dq.id, p)
		}
		ids[dq.id] = true
		fpParts = append(fpParts, dq.id, dq.q.Stat)
		queries = append(queries, dq)
	}
	fp := fingerprint(fpParts...)
	offset := decodeToken(getString(in, "NextToken", "NextToken"), fp)

	type result struct {
		dq     dataQuery
		points []Point
	}
	results := make([]result, 0, len(queries))
	total := 0
	for _, dq := range queries {
		if !dq.returnData {
			continue
		}
		pts, err := s.Series(dq.q)
		if err != nil {
			return nil, invalidParameterValue("%v", err)
		}
		if scanBy != "TimestampAscending" {
			slices.Reverse(pts)
		}
		results = append(results, result{dq, pts})
		total += len(pts)
	}
	if offset > total {
		return nil, invalidNextToken("The NextToken is past the end of the results.")
	}
	pageEnd := offset + int(min(maxDP, int64(math.MaxInt32)))
	out := make([]any, 0, len(results))
	pos := 0
	for _, r := range results {
		lo := min(max(offset-pos, 0), len(r.points))
		hi := min(max(pageEnd-pos, 0), len(r.points))
		pos += len(r.points)
		ts := make([]time.Time, 0, hi-lo)
		vals := make([]float64, 0, hi-lo)
		for _, p := range r.points[lo:hi] {
			ts = append(ts, p.Timestamp)
			vals = append(vals, p.Value)
		}
		status := "Complete"
		if hi < len(r.points) {
			status = "PartialData"
		}
		out = append(out, obj{
			{"Id", r.dq.id},
			{"Label", r.dq.label},
			{"Timestamps", ts},
			{"Values", vals},
			{"StatusCode", status},
		})
	}
	res := obj{{"MetricDataResults", out}}
	if pageEnd < total {
		res = append(res, kv{"NextToken", encodeToken(pageEnd, fp)})
	}
	res = append(res, kv{"Messages", []any{}})
	return res, nil
}

func parseDataQuery(m map[string]any, p string, start, end time.Time) dataQuery {
	dq := dataQuery{id: getString(m, "Id", p+".Id"), label: getString(m, "Label", p+".Label"), returnData: true}
	if dq.id == "" {
		panic(validationError("1 validation error detected: Value null at '%s.Id' failed to satisfy constraint: Member must not be null", p))
	}
	if len(dq.id) > maxNameLength || !metricIDPattern.MatchString(dq.id) {
		panic(validationError("The value %s for parameter %s.Id is invalid: it must start with a lowercase letter and contain only letters, digits and underscores.", dq.id, p))
	}
	if rd, ok := getBool(m, "ReturnData", p+".ReturnData"); ok {
		dq.returnData = rd
	}
	if expr := getString(m, "Expression", p+".Expression"); expr != "" {
		panic(validationError("%s.Expression: metric math and Metrics Insights expressions are not supported by the apictl CloudWatch emulator; use MetricStat", p))
	}
	ms := getMap(m, "MetricStat", p+".MetricStat")
	if ms == nil {
		panic(validationError("%s: exactly one of MetricStat or Expression must be specified (the emulator supports MetricStat)", p))
	}
	mp := p + ".MetricStat"
	metric := getMap(ms, "Metric", mp+".Metric")
	if metric == nil {
		panic(validationError("1 validation error detected: Value null at '%s.Metric' failed to satisfy constraint: Member must not be null", mp))
	}
	q := Query{
		Namespace:  getString(metric, "Namespace", mp+".Metric.Namespace"),
		MetricName: getString(metric, "MetricName", mp+".Metric.MetricName"),
		Dimensions: getDimensions(metric, "Dimensions", mp+".Metric.Dimensions", true),
		Unit:       getString(ms, "Unit", mp+".Unit"),
		Stat:       getString(ms, "Stat", mp+".Stat"),
		Start:      start,
		End:        end,
	}
	if q.Namespace == "" {
		panic(missingParameter(mp + ".Metric.Namespace"))
	}
	if q.MetricName == "" {
		panic(missingParameter(mp + ".Metric.MetricName"))
	}
	if q.Stat == "" {
		panic(missingParameter(mp + ".Stat"))
	}
	if _, err := parseStat(q.Stat); err != nil {
		panic(invalidParameterValue("The value %s for parameter %s.Stat is invalid: %v.", q.Stat, mp, err))
	}
	checkUnit(q.Unit, mp+".Unit")
	period, ok := getInt(ms, "Period", mp+".Period")
	if !ok {
		panic(missingParameter(mp + ".Period"))
	}
	if period <= 0 || period%60 != 0 {
		panic(invalidParameterValue("The value %d for parameter %s.Period is invalid: %v.", period, mp, errInvalidPeriod))
	}
	q.Period = time.Duration(period) * time.Second
	if dq.label == "" {
		dq.label = q.MetricName
	}
	dq.q = q
	return dq
}

// ---- GetMetricStatistics ----

func opGetMetricStatistics(s *Store, in map[string]any) (obj, error) {
	q := Query{
		Namespace:  getString(in, "Namespace", "Namespace"),
		MetricName: getString(in, "MetricName", "MetricName"),
		Dimensions: getDimensions(in, "Dimensions", "Dimensions", true),
		Unit:       getString(in, "Unit", "Unit"),
	}
	for name, v := range map[string]string{"Namespace": q.Namespace, "MetricName": q.MetricName} {
		if v == "" {
			return nil, missingParameter(name)
		}
	}
	checkUnit(q.Unit, "Unit")
	var ok bool
	if q.Start, ok = getTime(in, "StartTime", "StartTime"); !ok {
		return nil, missingParameter("StartTime")
	}
	if q.End, ok = getTime(in, "EndTime", "EndTime"); !ok {
		return nil, missingParameter("EndTime")
	}
	if !q.End.After(q.Start) {
		return nil, invalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	period, ok := getInt(in, "Period", "Period")
	if !ok {
		return nil, missingParameter("Period")
	}
	if period <= 0 || period%60 != 0 {
		return nil, invalidParameterValue("The value %d for parameter Period is invalid: %v.", period, errInvalidPeriod)
	}
	q.Period = time.Duration(period) * time.Second
	if n := int64(q.End.Sub(q.Start)/q.Period) + 1; n > maxStatisticsPoints {
		return nil, invalidParameterCombination("You have requested up to %d datapoints, which exceeds the limit of %d. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", n, maxStatisticsPoints)
	}
	names := stringList(in, "Statistics")
	ext := stringList(in, "ExtendedStatistics")
	switch {
	case len(names) == 0 && len(ext) == 0:
		return nil, invalidParameterCombination("Must specify either Statistics or ExtendedStatistics.")
	case len(names) > 0 && len(ext) > 0:
		return nil, invalidParameterCombination("Specify either Statistics or ExtendedStatistics, not both.")
	}
	var stats []stat
	for i, n := range names {
		st, err := parseStat(n)
		if err != nil || st.kind == statPercentile {
			return nil, invalidParameterValue("The value %s for parameter Statistics.member.%d is invalid: use Sum, Average, Minimum, Maximum or SampleCount (percentiles go in ExtendedStatistics).", n, i+1)
		}
		stats = append(stats, st)
	}
	var exts []stat
	for i, n := range ext {
		st, err := parseStat(n)
		if err != nil || st.kind != statPercentile {
			return nil, invalidParameterValue("The value %s for parameter ExtendedStatistics.member.%d is invalid: want a percentile such as p99.", n, i+1)
		}
		exts = append(exts, st)
	}
	aggs, err := s.aggregate(q)
	if err != nil {
		return nil, invalidParameterValue("%v", err)
	}
	points := make([]any, 0, len(aggs))
	for _, a := range aggs {
		unit := a.unit
		if q.Unit != "" {
			unit = q.Unit
		}
		if unit == "" {
			unit = "None"
		}
		dp := obj{{"Timestamp", a.start}}
		for i, st := range stats {
			if v, ok := a.value(st); ok {
				dp = append(dp, kv{names[i], v})
			}
		}
		if len(exts) > 0 {
			em := strMap{}
			for i, st := range exts {
				if v, ok := a.value(st); ok {
					em = append(em, kv{ext[i], v})
				}
			}
			if len(em) == 0 {
				continue
			}
			dp = append(dp, kv{"ExtendedStatistics", em})
		}
		dp = append(dp, kv{"Unit", unit})
		points = append(points, dp)
	}
	return obj{{"Label", q.MetricName}, {"Datapoints", points}}, nil
}

func stringList(m map[string]any, key string) []string {
	list := getList(m, key, key)
	out := make([]string, 0, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			panic(validationError("Value at '%s.member.%d' must be a string, got %T", key, i+1, e))
		}
		out = append(out, s)
	}
	return out
}

// ---- ListMetrics ----

func opListMetrics(s *Store, in map[string]any) (obj, error) {
	f := MetricFilter{
		Namespace:  getString(in, "Namespace", "Namespace"),
		MetricName: getString(in, "MetricName", "MetricName"),
		Dimensions: getDimensions(in, "Dimensions", "Dimensions", false),
	}
	if len(f.Dimensions) > maxDimensionFilters {
		return nil, validationError("1 validation error detected: Value at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to %d", maxDimensionFilters)
	}
	switch ra := getString(in, "RecentlyActive", "RecentlyActive"); ra {
	case "":
		// Metrics without data in the past two weeks are not listed
		// (GetMetricData still returns their data).
		f.ActiveSince = s.now().Add(-listMetricsWindow)
	case "PT3H":
		f.ActiveSince = s.now().Add(-recentlyActiveWindow)
	default:
		return nil, validationError("1 validation error detected: Value '%s' at 'recentlyActive' failed to satisfy constraint: Member must satisfy enum value set: [PT3H]", ra)
	}
	fpParts := []string{f.Namespace, f.MetricName}
	for _, d := range f.Dimensions {
		fpParts = append(fpParts, d.Name, d.Value)
	}
	fp := fingerprint(fpParts...)
	offset := decodeToken(getString(in, "NextToken", "NextToken"), fp)
	all := s.ListMetrics(f)
	if offset > len(all) {
		return nil, invalidNextToken("The NextToken is past the end of the results.")
	}
	page := all[offset:min(offset+listMetricsPageSize, len(all))]
	metrics := make([]any, len(page))
	for i, m := range page {
		metrics[i] = obj{{"Namespace", m.Namespace}, {"MetricName", m.MetricName}, {"Dimensions", dimensionsOut(m.Dimensions)}}
	}
	out := obj{{"Metrics", metrics}}
	if offset+len(page) < len(all) {
		out = append(out, kv{"NextToken", encodeToken(offset+len(page), fp)})
	}
	return out, nil
}

// ---- PutMetricData ----

// PutMetricData accepts namespaces starting with "AWS/" (real CloudWatch
// refuses them) so tests can seed API Gateway metrics through the SDK.
func opPutMetricData(s *Store, in map[string]any) (obj, error) {
	ns := getString(in, "Namespace", "Namespace")
	if ns == "" {
		return nil, missingParameter("Namespace")
	}
	if len(ns) > maxNameLength || strings.HasPrefix(ns, ":") {
		return nil, invalidParameterValue("The value %s for parameter Namespace is invalid.", ns)
	}
	list := getList(in, "MetricData", "MetricData")
	if len(list) == 0 {
		return nil, missingParameter("MetricData")
	}
	if len(list) > maxMetricDataPerPut {
		return nil, validationError("1 validation error detected: Value at 'metricData' failed to satisfy constraint: Member must have length less than or equal to %d", maxMetricDataPerPut)
	}
	now := s.now()
	data := make([]Datum, 0, len(list))
	for i, e := range list {
		p := fmt.Sprintf("MetricData.member.%d", i+1)
		data = append(data, parseDatum(asMap(e, p), p, now))
	}
	for _, d := range data {
		s.Put(ns, d)
	}
	return obj{}, nil
}

func parseDatum(m map[string]any, p string, now time.Time) Datum {
	d := Datum{
		MetricName: getString(m, "MetricName", p+".MetricName"),
		Dimensions: getDimensions(m, "Dimensions", p+".Dimensions", true),
		Unit:       getString(m, "Unit", p+".Unit"),
	}
	if d.MetricName == "" {
		panic(missingParameter(p + ".MetricName"))
	}
	if len(d.MetricName) > maxNameLength {
		panic(invalidParameterValue("The value %s for parameter %s.MetricName is too long.", d.MetricName, p))
	}
	if len(d.Dimensions) > maxDimensions {
		panic(invalidParameterValue("The collection %s.Dimensions must not have a size greater than %d.", p, maxDimensions))
	}
	checkUnit(d.Unit, p+".Unit")
	if ts, ok := getTime(m, "Timestamp", p+".Timestamp"); ok {
		if ts.Before(now.Add(-putPastLimit)) || ts.After(now.Add(putFutureLimit)) {
			panic(invalidParameterValue("The parameter %s.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future (got %s).", p, ts.Format(time.RFC3339)))
		}
		d.Timestamp = ts
	}
	checkFinite := func(v float64, path string) {
		if !finite(v) || v != 0 && (math.Abs(v) < 8.515920e-109 || math.Abs(v) > 1.174271e+108) {
			panic(invalidParameterValue("The value %v for parameter %s is invalid.", v, path))
		}
	}
	value, hasValue := getFloat(m, "Value", p+".Value")
	values := getList(m, "Values", p+".Values")
	counts := getList(m, "Counts", p+".Counts")
	sv := getMap(m, "StatisticValues", p+".StatisticValues")
	given := 0
	for _, b := range []bool{hasValue, len(values) > 0, sv != nil} {
		if b {
			given++
		}
	}
	switch {
	case given > 1:
		panic(invalidParameterCombination("The parameters %[1]s.Value, %[1]s.Values and %[1]s.StatisticValues are mutually exclusive and you have specified more than one.", p))
	case given == 0:
		panic(invalidParameterCombination("One of %[1]s.Value, %[1]s.Values or %[1]s.StatisticValues must be specified.", p))
	case hasValue:
		checkFinite(value, p+".Value")
		d.Value = value
	case sv != nil:
		sp := p + ".StatisticValues"
		st := &StatSet{}
		for _, f := range []struct {
			name string
			dst  *float64
		}{{"SampleCount", &st.SampleCount}, {"Sum", &st.Sum}, {"Minimum", &st.Minimum}, {"Maximum", &st.Maximum}} {
			v, ok := getFloat(sv, f.name, sp+"."+f.name)
			if !ok {
				panic(missingParameter(sp + "." + f.name))
			}
			checkFinite(v, sp+"."+f.name)
			*f.dst = v
		}
		if st.SampleCount < 1 || st.Minimum > st.Maximum {
			panic(invalidParameterValue("The values for parameter %s are invalid: SampleCount must be at least 1 and Minimum at most Maximum.", sp))
		}
		d.StatisticValues = st
	default:
		if len(values) > maxValuesPerDatum {
			panic(invalidParameterValue("The collection %s.Values must not have a size greater than %d.", p, maxValuesPerDatum))
		}
		if len(counts) > 0 && len(counts) != len(values) {
			panic(invalidParameterCombination("The parameters %[1]s.Values and %[1]s.Counts must be of the same size.", p))
		}
		d.Values = floatList(values, p+".Values", checkFinite)
		d.Counts = floatList(counts, p+".Counts", func(v float64, path string) {
			if !finite(v) || v < 0 {
				panic(invalidParameterValue("The value %v for parameter %s is invalid.", v, path))
			}
		})
	}
	return d
}

func floatList(list []any, p string, check func(float64, string)) []float64 {
	out := make([]float64, 0, len(list))
	for i, e := range list {
		path := fmt.Sprintf("%s.member.%d", p, i+1)
		v, _ := getFloat(map[string]any{"v": e}, "v", path)
		check(v, path)
		out = append(out, v)
	}
	return out
}
