package function

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricSet is the function's Prometheus metrics, on a registry of its own.
type metricSet struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	answered *prometheus.CounterVec
	probs    prometheus.Histogram
	champion prometheus.Gauge
	flushes  *prometheus.CounterVec
	shadow   prometheus.Histogram
	dropped  prometheus.Counter
	// byRoute holds each route and status's series once used, so that a
	// request does not hash its labels again (routeStatus -> routeSeries).
	byRoute sync.Map
	// byVersion holds the answered-predictions counter of each model
	// version served (int -> prometheus.Counter).
	byVersion sync.Map
}

type routeStatus struct {
	route  string
	status int
}

type routeSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

func newMetrics() *metricSet {
	m := &metricSet{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "claimrisk_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "claimrisk_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
		}, []string{"route"}),
		answered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "claimrisk_predictions_total", Help: "Answered predictions (records) by model version.",
		}, []string{"model_version"}),
		probs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "claimrisk_predicted_probability", Help: "Distribution of predicted claim probabilities.",
			Buckets: []float64{0.02, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5},
		}),
		champion: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "claimrisk_champion_version", Help: "The model version being served.",
		}),
		flushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "claimrisk_payload_log_writes_total", Help: "Payload-log object writes by log and outcome.",
		}, []string{"log", "outcome"}),
	}
	m.shadow = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "claimrisk_shadow_scoring_seconds", Help: "Time a predict request spends scoring the challenger in shadow and logging its answers.",
		Buckets: []float64{0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005},
	})
	m.dropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "claimrisk_shadow_rows_dropped_total", Help: "Shadow answers not logged because the shadow log was full; the requests were answered all the same.",
	})
	m.reg.MustRegister(m.requests, m.latency, m.answered, m.probs, m.champion, m.flushes, m.shadow, m.dropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metricSet) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

func (m *metricSet) request(route string, status int, d time.Duration) {
	key := routeStatus{route, status}
	s, ok := m.byRoute.Load(key)
	if !ok {
		s, _ = m.byRoute.LoadOrStore(key, routeSeries{
			count:   m.requests.WithLabelValues(route, strconv.Itoa(status)),
			latency: m.latency.WithLabelValues(route),
		})
	}
	rs := s.(routeSeries)
	rs.count.Inc()
	rs.latency.Observe(d.Seconds())
}

func (m *metricSet) predictions(version, n int) {
	c, ok := m.byVersion.Load(version)
	if !ok {
		c, _ = m.byVersion.LoadOrStore(version, m.answered.WithLabelValues(strconv.Itoa(version)))
	}
	c.(prometheus.Counter).Add(float64(n))
}

func (m *metricSet) probability(p float64) { m.probs.Observe(p) }

func (m *metricSet) model(version int) { m.champion.Set(float64(version)) }

func (m *metricSet) flushed(log string) func(int, error) {
	return func(_ int, err error) {
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		m.flushes.WithLabelValues(log, outcome).Inc()
	}
}

func (m *metricSet) pending(f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "claimrisk_payload_log_pending_rows", Help: "Rows buffered for the payload and feedback logs, not yet written.",
	}, f))
}
