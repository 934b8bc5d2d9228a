package loadtest

import (
	"container/heap"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// seqOrder passes results to a sink in the order of their numbers (Seq)
// within each step, whatever order they complete in: a step's workers
// finish requests out of order, and --results should list them as they
// were sent (the engine numbers a hit and takes its target under one lock).
// A step's numbers run from 0 without gaps, so the buffer holds only the
// results that overtook an earlier one still in flight.
type seqOrder struct {
	sink    func(*vegeta.Result) error
	attack  string
	next    uint64
	pending resultHeap
}

func newSeqOrder(sink func(*vegeta.Result) error) *seqOrder {
	return &seqOrder{sink: sink}
}

// add takes one result and passes on every result now in order.
func (o *seqOrder) add(r *vegeta.Result) error {
	if r.Attack != o.attack {
		// A new step: whatever is left of the last one goes first.
		if err := o.flush(); err != nil {
			return err
		}
		o.attack, o.next = r.Attack, 0
	}
	heap.Push(&o.pending, r)
	for len(o.pending) > 0 && o.pending[0].Seq <= o.next {
		r := heap.Pop(&o.pending).(*vegeta.Result)
		o.next = r.Seq + 1
		if err := o.sink(r); err != nil {
			return err
		}
	}
	return nil
}

// flush passes on every buffered result in order.
func (o *seqOrder) flush() error {
	for len(o.pending) > 0 {
		r := heap.Pop(&o.pending).(*vegeta.Result)
		o.next = r.Seq + 1
		if err := o.sink(r); err != nil {
			return err
		}
	}
	return nil
}

type resultHeap []*vegeta.Result

func (h resultHeap) Len() int           { return len(h) }
func (h resultHeap) Less(i, j int) bool { return h[i].Seq < h[j].Seq }
func (h resultHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *resultHeap) Push(x any)        { *h = append(*h, x.(*vegeta.Result)) }
func (h *resultHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return r
}
