package backend

import (
	"math"
	"time"
)

// DeepQueueConfig sets a DeepQueue.
type DeepQueueConfig struct {
	// Slots is the number of requests served at once; values below 1 mean 1.
	Slots int
	// Service is how long one request holds a slot.
	Service time.Duration
	// Jitter varies each service time uniformly within ±Jitter·Service (0 ≤ Jitter ≤ 1). Optional.
	Jitter float64
}

// DeepQueue is a backend that never rejects: above its capacity requests
// wait in an unbounded FIFO queue, so the only sign of overload is latency
// that grows for as long as the overload lasts, slowly when the excess is
// small (a database whose connection requests queue in the driver). Its
// capacity is Slots/Service. It is safe for concurrent use.
type DeepQueue struct {
	cfg DeepQueueConfig
	slotted
}

// NewDeepQueue returns a deep-queue backend.
func NewDeepQueue(cfg DeepQueueConfig) *DeepQueue {
	if cfg.Slots < 1 {
		cfg.Slots = 1
	}
	cfg.Service = max(cfg.Service, 0)
	cfg.Jitter = math.Max(0, math.Min(1, cfg.Jitter))
	return &DeepQueue{cfg: cfg, slotted: slotted{newPool(cfg.Slots, -1, cfg.Jitter), cfg.Slots, cfg.Service}}
}

// Config returns the effective configuration (after defaults).
func (q *DeepQueue) Config() DeepQueueConfig { return q.cfg }
