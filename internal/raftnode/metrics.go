package raftnode

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's Prometheus metrics: how long a command takes from
// its proposal until it is committed and applied (an fsync of the log and
// the state machine's apply, with the wait for a batch), and how far the
// log and the state have come.
type metrics struct {
	apply prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{apply: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "berth_raft_apply_duration_seconds",
		Help:    "Time from proposing a command until raft committed and applied it (successful applies only).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})}
}

// indexes is what the index gauges read.
type indexes interface {
	AppliedIndex() uint64
	LastIndex() uint64
}

func (m *metrics) register(reg prometheus.Registerer, n indexes) error {
	return errors.Join(
		reg.Register(m.apply),
		reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "berth_raft_applied_index",
			Help: "Index of the last raft log entry applied to the state.",
		}, func() float64 { return float64(n.AppliedIndex()) })),
		reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "berth_raft_last_log_index",
			Help: "Index of the last entry in the raft log, committed or not.",
		}, func() float64 { return float64(n.LastIndex()) })),
	)
}
