package signaling

import (
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// media holds what every peer connection of a hub shares: the WebRTC API (codecs,
// interceptors, settings) and the one UDP socket all peers use.
type media struct {
	api *webrtc.API
	udp *batchConn
	mux ice.UDPMux
}

// Codecs the SFU forwards. Payload types follow the browsers' usual numbering.
var (
	videoFeedback = []webrtc.RTCPFeedback{
		{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"},
		{Type: webrtc.TypeRTCPFBTransportCC},
	}
	codecs = []struct {
		params webrtc.RTPCodecParameters
		kind   webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
				SDPFmtpLine:  "minptime=10;useinbandfec=1",
				RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
			},
			PayloadType: 111,
		}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback,
			},
			PayloadType: 96,
		}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFeedback,
				SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
			},
			PayloadType: 102,
		}, webrtc.RTPCodecTypeVideo},
	}
)

// newMedia opens the UDP socket and builds the WebRTC API.
func newMedia(cfg *Config, log *slog.Logger) (*media, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.params, c.kind); err != nil {
			return nil, fmt.Errorf("register codec %s: %w", c.params.MimeType, err)
		}
	}
	if err := m.RegisterHeaderExtension(
		webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio,
	); err != nil {
		return nil, fmt.Errorf("register audio level extension: %w", err)
	}

	// Interceptors: NACKs and receiver reports towards publishers, sender reports towards
	// subscribers, transport-wide congestion feedback so browsers can pace what they
	// send. Retransmission to subscribers is the forwarder's own (one buffer per track,
	// not one per subscriber), and keyframe requests are forwarded by hand. Those that
	// serve what a peer publishes start only when it publishes (see receiveOnly).
	lf := pionLoggerFactory{log}
	reg := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor(nack.WithGeneratorLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("nack generator: %w", err)
	}
	reg.Add(receiveOnly{gen})
	recvReports, err := report.NewReceiverInterceptor(report.WithReceiverLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("receiver reports: %w", err)
	}
	reg.Add(receiveOnly{recvReports})
	sendReports, err := report.NewSenderInterceptor(report.WithSenderLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("sender reports: %w", err)
	}
	reg.Add(sendReports)
	if err := m.RegisterHeaderExtension(
		webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, webrtc.RTPCodecTypeVideo,
	); err != nil {
		return nil, fmt.Errorf("register transport-cc: %w", err)
	}
	if err := m.RegisterHeaderExtension(
		webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, webrtc.RTPCodecTypeAudio,
	); err != nil {
		return nil, fmt.Errorf("register transport-cc: %w", err)
	}
	tw, err := twcc.NewSenderInterceptor(twcc.WithLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("twcc: %w", err)
	}
	reg.Add(receiveOnly{tw})

	ip := net.IPv4zero
	if cfg.UDPHost != "" {
		if ip = net.ParseIP(cfg.UDPHost); ip == nil {
			return nil, fmt.Errorf("rtc udp host %q is not an IP address", cfg.UDPHost)
		}
	}
	if cfg.PublicIP != "" && net.ParseIP(cfg.PublicIP) == nil {
		return nil, fmt.Errorf("rtc public ip %q is not an IP address", cfg.PublicIP)
	}
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: cfg.UDPPort})
	if err != nil {
		return nil, fmt.Errorf("listen rtc udp port %d: %w", cfg.UDPPort, err)
	}
	// Media for every peer comes through this one socket: give the kernel room.
	udp.SetReadBuffer(4 << 20)
	udp.SetWriteBuffer(4 << 20)
	bc := newBatchConn(udp, runtime.GOMAXPROCS(0))
	mux := webrtc.NewICEUDPMux(lf.NewLogger("udpmux"), bc)

	s := webrtc.SettingEngine{LoggerFactory: lf}
	s.SetICEUDPMux(mux)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetSRTPProtectionProfiles(
		dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	if ip.IsLoopback() {
		s.SetIncludeLoopbackCandidate(true)
	}
	if cfg.PublicIP != "" {
		if err := s.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        []string{cfg.PublicIP},
			AsCandidateType: webrtc.ICECandidateTypeHost,
		}); err != nil {
			mux.Close()
			return nil, fmt.Errorf("rtc public ip: %w", err)
		}
	}

	api := webrtc.NewAPI(
		webrtc.WithMediaEngine(m),
		webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(s),
	)
	return &media{api: api, udp: bc, mux: mux}, nil
}

func (m *media) close() error {
	return m.mux.Close()
}

// receiveOnly makes interceptors that act only on what a peer sends the server (NACKs,
// receiver reports, congestion feedback) and that otherwise start, per peer
// connection, a goroutine waking several times a second, wait for the peer's first
// published stream before they start. Most peers (the public) never publish, and a
// room's hundreds of idle tickers would cost more than the media they watch.
type receiveOnly struct{ interceptor.Factory }

func (f receiveOnly) NewInterceptor(id string) (interceptor.Interceptor, error) {
	i, err := f.Factory.NewInterceptor(id)
	if err != nil {
		return nil, err
	}
	return &lazyRTCPWriter{Interceptor: i}, nil
}

// lazyRTCPWriter binds its interceptor's RTCP writer, which starts the interceptor's
// goroutine, when the first remote stream is bound. The interceptors it wraps return
// the writer they are given unchanged.
type lazyRTCPWriter struct {
	interceptor.Interceptor
	mu     sync.Mutex // guards writer, bound
	writer interceptor.RTCPWriter
	bound  bool
}

func (l *lazyRTCPWriter) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writer = w
	return w
}

func (l *lazyRTCPWriter) BindRemoteStream(info *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	l.mu.Lock()
	if !l.bound && l.writer != nil {
		l.bound = true
		l.Interceptor.BindRTCPWriter(l.writer)
	}
	l.mu.Unlock()
	return l.Interceptor.BindRemoteStream(info, r)
}

// pionLoggerFactory sends pion's errors to slog at warning level and its warnings at
// debug level; pion's own debug and trace output is dropped.
type pionLoggerFactory struct{ log *slog.Logger }

func (f pionLoggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) Trace(string)          {}
func (l pionLogger) Tracef(string, ...any) {}
func (l pionLogger) Debug(string)          {}
func (l pionLogger) Debugf(string, ...any) {}
func (l pionLogger) Info(string)           {}
func (l pionLogger) Infof(string, ...any)  {}
func (l pionLogger) Warn(msg string)       { l.log.Debug(msg) }
func (l pionLogger) Warnf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...))
}
func (l pionLogger) Error(msg string) { l.log.Warn(msg) }
func (l pionLogger) Errorf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...))
}
