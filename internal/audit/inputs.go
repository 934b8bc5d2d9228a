package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Loadtest is the part of `apictl loadtest -o json` the audit reads
// (see the capacity contract): decoded here rather than by importing the
// loadtest package, whose internals may change.
type Loadtest struct {
	API            string  `json:"api"`
	Stage          string  `json:"stage"`
	Mode           string  `json:"mode"`
	Pass           bool    `json:"pass"`
	Interrupted    bool    `json:"interrupted"`
	SustainableRPS float64 `json:"sustainable_rps"`
	SharedBackend  bool    `json:"shared_backend"`
	LimitedBy      string  `json:"limited_by"`
	Methods        []struct {
		Name           string  `json:"name"`
		Method         string  `json:"method"`
		Path           string  `json:"path"`
		Pass           bool    `json:"pass"`
		SustainableRPS float64 `json:"sustainable_rps"`
		LimitedBy      string  `json:"limited_by"`
	} `json:"methods"`
}

// methodKey is "VERB /path" of a load-tested method.
func (l *Loadtest) methodKey(i int) string {
	m := l.Methods[i]
	if m.Method != "" && m.Path != "" {
		return strings.ToUpper(m.Method) + " " + m.Path
	}
	return m.Name
}

// DecodeLoadtest reads and checks a load-test result: it must come from a
// search that found a passing rate, not be interrupted, and be about the
// audited API and stage (by name or id).
func DecodeLoadtest(r io.Reader, snap *Snapshot) (*Loadtest, error) {
	var lt Loadtest
	if err := json.NewDecoder(r).Decode(&lt); err != nil {
		return nil, fmt.Errorf("decode loadtest result: %w", err)
	}
	switch {
	case lt.Mode != "search":
		return nil, errors.New("loadtest result is a fixed-rate run, not a --find-max search: it has no sustainable rate")
	case lt.Interrupted:
		return nil, errors.New("loadtest result was interrupted: its sustainable rate is not reliable")
	case !lt.Pass || lt.SustainableRPS <= 0:
		return nil, errors.New("loadtest result found no passing rate")
	case lt.API != "" && lt.API != snap.Name && lt.API != snap.APIID:
		return nil, fmt.Errorf("loadtest result is for api %q, not %s (%s)", lt.API, snap.Name, snap.APIID)
	case lt.Stage != "" && lt.Stage != snap.Stage:
		return nil, fmt.Errorf("loadtest result is for stage %q, not %q", lt.Stage, snap.Stage)
	}
	return &lt, nil
}

// Measure is the part of `apictl measure -o json` the audit reads.
type Measure struct {
	API    string `json:"api"`
	APIID  string `json:"api_id"`
	Stage  string `json:"stage"`
	Totals struct {
		AvgRPS  float64 `json:"avg_rps"`
		PeakRPS float64 `json:"peak_rps"`
	} `json:"totals"`
	Methods []struct {
		Resource string  `json:"resource"`
		Method   string  `json:"method"`
		Route    string  `json:"route"`
		AvgRPS   float64 `json:"avg_rps"`
		PeakRPS  float64 `json:"peak_rps"`
	} `json:"methods"`
}

// DecodeMeasure reads a measure result and checks it is about the audited
// API and stage.
func DecodeMeasure(r io.Reader, snap *Snapshot) (*Measure, error) {
	var m Measure
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("decode measure result: %w", err)
	}
	if m.APIID != "" && m.APIID != snap.APIID || m.APIID == "" && m.API != "" && m.API != snap.Name {
		return nil, fmt.Errorf("measure result is for api %q, not %s (%s)", m.API, snap.Name, snap.APIID)
	}
	if m.Stage != "" && m.Stage != snap.Stage {
		return nil, fmt.Errorf("measure result is for stage %q, not %q", m.Stage, snap.Stage)
	}
	return &m, nil
}

// peak returns the measured average and peak of one method ("VERB /path").
func (m *Measure) peak(key string) (avg, peak float64, ok bool) {
	for _, x := range m.Methods {
		k := strings.ToUpper(x.Method) + " " + x.Resource
		if x.Route != "" {
			k = x.Route
		}
		if k == key {
			return x.AvgRPS, x.PeakRPS, true
		}
	}
	return 0, 0, false
}
