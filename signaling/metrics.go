package signaling

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hub's Prometheus collectors.
type metrics struct {
	forwardedPackets prometheus.Counter // RTP packets written to subscribers
	forwardedBytes   prometheus.Counter // their payload bytes
	retransmitted    prometheus.Counter // packets resent on a subscriber's NACK
	droppedPackets   prometheus.Counter // packets that could not be written to a subscriber
	receivedPackets  prometheus.Counter // RTP packets read from publishers
	droppedClients   prometheus.Counter // connections closed because their send queue was full
	rooms            prometheus.Gauge
	participants     prometheus.Gauge
	publishedTracks  prometheus.Gauge
	rejected         *prometheus.CounterVec // client messages answered with an error, by code
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		forwardedPackets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chamber_sfu_forwarded_packets_total",
			Help: "RTP packets written to subscribers.",
		}),
		forwardedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chamber_sfu_forwarded_bytes_total",
			Help: "RTP payload bytes written to subscribers.",
		}),
		retransmitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chamber_sfu_retransmitted_packets_total",
			Help: "RTP packets resent to subscribers that reported them lost.",
		}),
		droppedPackets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chamber_sfu_dropped_packets_total",
			Help: "RTP packets that could not be written to a subscriber.",
		}),
		receivedPackets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chamber_sfu_received_packets_total",
			Help: "RTP packets read from publishers.",
		}),
		droppedClients: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chamber_rtc_dropped_slow_clients_total",
			Help: "Signalling connections closed because their send queue was full.",
		}),
		rooms: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chamber_rtc_rooms",
			Help: "Rooms open on this node.",
		}),
		participants: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chamber_rtc_participants",
			Help: "Participants in rooms on this node, including those waiting to resume.",
		}),
		publishedTracks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chamber_sfu_published_tracks",
			Help: "Tracks being received from publishers.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chamber_rtc_errors_total",
			Help: "Error messages sent to clients, by code.",
		}, []string{"code"}),
	}
	for _, c := range []prometheus.Collector{
		m.forwardedPackets, m.forwardedBytes, m.retransmitted, m.droppedPackets,
		m.receivedPackets, m.droppedClients, m.rooms, m.participants, m.publishedTracks,
		m.rejected,
	} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				return nil, fmt.Errorf("register metrics: %w (one hub per registry)", err)
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
