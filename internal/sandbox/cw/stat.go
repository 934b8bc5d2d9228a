package cw

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

type statKind int

const (
	statSum statKind = iota
	statAverage
	statMinimum
	statMaximum
	statSampleCount
	statPercentile
)

type stat struct {
	kind statKind
	p    float64 // percentile, 0..100
}

var errInvalidPeriod = errors.New("period must be a positive multiple of 60 seconds (the emulator stores one-minute resolution)")

// parseStat parses a CloudWatch statistic: Sum, Average, Minimum, Maximum,
// SampleCount, or an extended percentile statistic pNN[.NN] (p0 to p100).
func parseStat(s string) (stat, error) {
	switch s {
	case "Sum":
		return stat{kind: statSum}, nil
	case "Average":
		return stat{kind: statAverage}, nil
	case "Minimum":
		return stat{kind: statMinimum}, nil
	case "Maximum":
		return stat{kind: statMaximum}, nil
	case "SampleCount":
		return stat{kind: statSampleCount}, nil
	}
	if rest, ok := strings.CutPrefix(s, "p"); ok && rest != "" && !strings.ContainsAny(rest, "+-eExX_") {
		if whole, frac, _ := strings.Cut(rest, "."); len(whole) <= 3 && len(frac) <= 10 {
			if p, err := strconv.ParseFloat(rest, 64); err == nil && p >= 0 && p <= 100 {
				return stat{kind: statPercentile, p: p}, nil
			}
		}
	}
	return stat{}, fmt.Errorf("unsupported statistic %q: use Sum, Average, Minimum, Maximum, SampleCount or a percentile such as p50, p99, p99.9", s)
}
