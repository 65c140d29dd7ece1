package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the controller's Prometheus metrics: how long a pass takes
// and how many services had work in it.
type metrics struct {
	duration prometheus.Histogram
	rounds   prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "berth_controller_pass_duration_seconds",
			Help:    "Duration of a service controller pass (reconciling every active service once, committing its rounds, starts and outcomes).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		rounds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "berth_controller_pass_rounds",
			Help:    "Services with work (a changed deployment or tasks to start) per service controller pass.",
			Buckets: []float64{0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000},
		}),
	}
}

func (m *metrics) observe(d time.Duration, rounds int) {
	m.duration.Observe(d.Seconds())
	m.rounds.Observe(float64(rounds))
}
