package loadtest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apictl/apictl/internal/report"
)

// Shard is one of Count load generators that together send one load test:
// each sends 1/Count of every step's rate. Index is 0-based (Kubernetes'
// JOB_COMPLETION_INDEX is), 0 ≤ Index < Count. The zero Shard is "not
// sharded" (one generator sends everything).
type Shard struct {
	Index, Count int
}

// ErrBadShard is wrapped by ParseShard's errors.
var ErrBadShard = errors.New("bad shard")

// ParseShard parses "I/N": shard I (0-based) of N.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	idx, err1 := strconv.Atoi(i)
	cnt, err2 := strconv.Atoi(n)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("%w %q: want I/N, e.g. 0/3 (I counts from 0)", ErrBadShard, s)
	case cnt < 1:
		return Shard{}, fmt.Errorf("%w %q: the count N must be at least 1", ErrBadShard, s)
	case idx < 0 || idx >= cnt:
		return Shard{}, fmt.Errorf("%w %q: the index counts from 0, so it must be 0 to %d", ErrBadShard, s, cnt-1)
	}
	return Shard{Index: idx, Count: cnt}, nil
}

// Sharded reports whether the load is split at all.
func (s Shard) Sharded() bool { return s.Count > 0 }

func (s Shard) count() int { return max(s.Count, 1) }

// String is "I/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.count()) }

// Rate is this shard's part of a total rate.
func (s Shard) Rate(total float64) float64 { return total / float64(s.count()) }

// Attack is this shard's part of the generator settings that bound the
// whole run's concurrency: the initial and maximum workers and the
// connection cap are totals, each shard taking 1/N of them, rounded up.
// The idle connection pool (Connections) is per generator and stays.
func (s Shard) Attack(o AttackOptions) AttackOptions {
	n := uint64(s.count())
	split := func(v uint64) uint64 {
		if v == 0 {
			return 0
		}
		return (v + n - 1) / n
	}
	o.Workers = split(o.Workers)
	o.MaxWorkers = split(o.MaxWorkers)
	if o.MaxConnections > 0 {
		o.MaxConnections = int(split(uint64(o.MaxConnections)))
	}
	return o
}

// ShardInfo records in a result which shard sent it.
type ShardInfo struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// MergeInfo records in a merged result what it was merged from.
type MergeInfo struct {
	// Shards is how many shards sent the load.
	Shards int `json:"shards"`
	// Sources are the results files or objects read, in order.
	Sources []string `json:"sources"`
	// Requests is the number of results read.
	Requests int `json:"requests"`
	// LateByS is each shard's largest lateness against the schedule in
	// seconds (index: the shard), when it had a --start-at.
	LateByS []float64 `json:"late_by_s,omitempty"`
}

// ParseStartAt parses --start-at: an RFC 3339 time such as
// 2026-12-02T15:04:05Z.
func ParseStartAt(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("start time %q is not RFC 3339: want e.g. 2026-12-02T15:04:05Z", s)
	}
	return t, nil
}

// planPairs are what a distributed, scheduled or merged run records, for
// the summary of the human view.
func (c *Capacity) planPairs() []report.Pair {
	var pairs []report.Pair
	if c.Shard != nil {
		pairs = append(pairs, report.Pair{Key: "Shard", Value: fmt.Sprintf("%d of %d (0-based): 1/%d of each rate", c.Shard.Index, c.Shard.Count, c.Shard.Count)})
	}
	if c.Merged != nil {
		pairs = append(pairs, report.Pair{Key: "Merged", Value: fmt.Sprintf("%d shards, %d results", c.Merged.Shards, c.Merged.Requests)})
	}
	if c.Ramp != nil {
		pairs = append(pairs, report.Pair{Key: "Ramp", Value: fmt.Sprintf("%s to %s rps in %d steps (linear), %ss each, %ss apart",
			fmtRate(c.Ramp.Start), fmtRate(c.Ramp.Stop), c.Ramp.Steps, fmtFloat(c.Ramp.StepDurationS), fmtFloat(c.Ramp.CoolDownS))})
	}
	if c.StartAt != "" {
		v := c.StartAt
		if c.LateByS > 0 {
			v += fmt.Sprintf(" (started %ss late)", fmtFloat(c.LateByS))
		}
		pairs = append(pairs, report.Pair{Key: "Start at", Value: v})
	}
	return pairs
}
