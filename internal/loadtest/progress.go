package loadtest

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress reports a load test as it runs. On a terminal (tty) it keeps one
// live line updated in place; otherwise it writes a plain line per step and
// one every PlainInterval during long steps. A nil *Progress is silent.
type Progress struct {
	w   io.Writer
	tty bool
	// PlainInterval is the period of the plain (non-tty) lines during a step (default 5s).
	PlainInterval time.Duration
	// NameTarget puts the step's target (the method of a per-method
	// search) in every line.
	NameTarget bool

	mu        sync.Mutex
	live      bool // a live line is on screen (tty)
	lastPlain time.Time
	n         int
	label     string
	phase     Phase
	rate      float64
	budget    time.Duration
}

// NewProgress returns a Progress writing to w, or nil when w is nil.
func NewProgress(w io.Writer, tty bool) *Progress {
	if w == nil {
		return nil
	}
	return &Progress{w: w, tty: tty, PlainInterval: 5 * time.Second}
}

// StepStart announces step n.
func (p *Progress) StepStart(n int, label string, phase Phase, rate float64, d, budgetLeft time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n, p.label, p.phase, p.rate, p.budget = n, label, phase, rate, budgetLeft
	p.lastPlain = time.Now()
	if p.tty {
		p.show(fmt.Sprintf("step %d · %s · %s rps · %s · starting", n, phase, fmtRate(rate), label))
	}
}

// Update shows the live state of the running step.
func (p *Progress) Update(s Snapshot) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	errPct := 0.0
	if s.Completed > 0 {
		errPct = float64(s.Errors) / float64(s.Completed)
	}
	left := max(s.Duration-s.Elapsed, 0)
	name := ""
	if p.NameTarget && p.label != "" {
		name = p.label + " · "
	}
	line := fmt.Sprintf("step %d · %s%s · %s rps · %s/%s · sent %d · p99 %s · errors %s · in flight %d · ETA %s",
		p.n, name, p.phase, fmtRate(p.rate), roundDur(s.Elapsed), roundDur(s.Duration), s.Sent,
		fmtDur(s.WindowP99), fmtPct(errPct), s.InFlight, roundDur(left))
	if p.budget > 0 && p.phase != PhaseFixed {
		line += fmt.Sprintf(" · budget left %s", roundDur(max(p.budget-s.Elapsed, 0)))
	}
	if p.tty {
		p.show(line)
		return
	}
	if time.Since(p.lastPlain) >= p.PlainInterval {
		p.lastPlain = time.Now()
		fmt.Fprintln(p.w, line)
	}
}

// StepEnd prints the step's verdict line.
func (p *Progress) StepEnd(st Step) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	verdict := "PASS"
	if !st.Pass {
		verdict = Verdict(st)
	}
	name := ""
	if p.NameTarget && p.label != "" {
		name = p.label + " "
	}
	fmt.Fprintf(p.w, "step %d %s%-7s %6s rps  %5.1fs  %7d req  achieved %s rps  p99 %s  errors %s  %s\n",
		p.n, name, st.Phase, fmtRate(st.Rate), st.Duration, st.Requests, fmtRate(st.AchievedRate),
		fmtDur(time.Duration(st.Latency.P99*1e6)), fmtPct(1-st.SuccessRatio), verdict)
}

// CoolDown shows the pause between steps (tty only).
func (p *Progress) CoolDown(d time.Duration) {
	if p == nil || !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.show(fmt.Sprintf("cooling down %s", d))
}

// Clear removes the live line.
func (p *Progress) Clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

func (p *Progress) show(line string) {
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	p.live = true
}

func (p *Progress) clear() {
	if p.live {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.live = false
	}
}

func roundDur(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(time.Second).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
