package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// benchRoom measures the live room: chamber bench room.
//
// Publishers join as committee members and send synthetic Opus and ~1.5 Mbps VP8;
// observers join through the public join endpoint and receive. Once everyone is in,
// the bench measures over a window of --duration: the share of the published packets
// that reached the observers, and the server's CPU time per packet it forwarded (its
// CPU time from /proc, or its process_cpu_seconds_total with --server, over its own
// count of forwarded packets, so the clients' load on the same machine does not
// count). Then it measures the limit (see measureRoomLimit) with the same packets and as
// many receivers. Progress goes to stderr; the last line on stdout is a JSON object.
func benchRoom(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("bench room", e)
	publishers := fs.Int("publishers", 1, "committee members sending audio and ~1.5 Mbps video")
	observers := fs.Int("observers", 50, "members of the public watching")
	full := fs.Int("full-observers", 2, "how many observers receive through pion as a browser does (decrypting, NACKing); the rest count packets on their sockets, to spare the machine")
	duration := fs.Duration("duration", 20*time.Second, "the measured window, after everyone has joined")
	serverURL := fs.String("server", "", "URL of a running server to measure (default: start chamber serve --demo on loopback)")
	token := fs.String("token", "", "an admin's API token for --server")
	meeting := fs.Int64("meeting", 1, "the meeting whose room to load, with --server")
	udpHost := fs.String("rtc-udp-host", "", "IP address for media: the child server's and the bench's own peers' (default 127.0.0.1, or any with --server)")
	cpuProfile := fs.String("cpu-profile", "", "have the child server write a CPU profile of the window to this file")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("bench room takes no arguments, got %q", fs.Args())
	case *publishers < 1 || *observers < 1:
		return usagef("--publishers and --observers must be at least 1")
	case *duration < time.Second:
		return usagef("--duration must be at least 1s")
	case *serverURL != "" && *token == "":
		return usagef("--server needs --token, an admin's API token")
	case *serverURL != "" && *cpuProfile != "":
		return usagef("--cpu-profile needs the bench's own child server, not --server")
	}
	host := *udpHost
	if host == "" && *serverURL == "" {
		host = "127.0.0.1"
	}
	b := &roomBench{
		e: e, publishers: *publishers, observers: *observers, full: min(max(*full, 0), *observers),
		duration: *duration, meeting: *meeting, udpHost: host, profile: *cpuProfile,
	}
	var err error
	if *serverURL != "" {
		b.srv = &roomServer{url: *serverURL, token: *token}
	} else {
		b.progress("starting chamber serve")
		if b.srv, err = startRoomServer(ctx, host, *cpuProfile); err != nil {
			return err
		}
		b.meeting = 1 // the demo's
	}
	res, err := b.run(ctx)
	b.srv.stop()
	if err != nil {
		return err
	}
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, string(out))
	return nil
}

// roomResult is the bench's answer, printed as JSON.
type roomResult struct {
	Observers          int     `json:"observers"`
	Publishers         int     `json:"publishers"`
	ObserversJoined    int     `json:"observers_joined"`
	FullObservers      int     `json:"full_observers"`
	DurationS          float64 `json:"duration_s"`
	DeliveryRatio      float64 `json:"delivery_ratio"`
	PacketsExpected    int     `json:"packets_expected"`
	PacketsReceived    int     `json:"packets_received"`
	JoinP50ms          float64 `json:"join_p50_ms"`
	JoinP99ms          float64 `json:"join_p99_ms"`
	JoinMaxms          float64 `json:"join_max_ms"`
	ForwardedPackets   int     `json:"forwarded_packets"`
	ForwardedPerS      float64 `json:"forwarded_per_s"`
	DroppedPackets     int     `json:"server_dropped_packets"`
	SocketDropped      int     `json:"server_socket_dropped_packets"`
	UDPReceiveErrors   int     `json:"udp_receive_errors"`
	Retransmitted      int     `json:"server_retransmitted_packets"`
	ServerCPUs         float64 `json:"server_cpu_s"`
	ServerCores        float64 `json:"server_cpu_cores"`
	BenchCores         float64 `json:"bench_cpu_cores"`
	ServerUsPerPacket  float64 `json:"server_us_per_packet"`
	LimitPackets       int     `json:"limit_packets"`
	LimitUsPerPacket   float64 `json:"limit_us_per_packet"`
	Efficiency         float64 `json:"efficiency"`
	ServerGoroutines   float64 `json:"server_goroutines"`
	ServerHeapInuseMiB float64 `json:"server_heap_inuse_mib"`
}

type roomBench struct {
	e          env
	srv        *roomServer
	publishers int
	observers  int
	full       int
	duration   time.Duration
	meeting    int64
	udpHost    string
	profile    string
}

func (b *roomBench) progress(format string, args ...any) {
	fmt.Fprintf(b.e.stderr, "bench room: "+format+"\n", args...)
}

const (
	roomJoinConcurrency = 16
	roomJoinTimeout     = time.Minute
	roomSettle          = time.Second            // between settle's checks
	roomSettleMax       = 30 * time.Second       // after which the window starts anyway
	roomMaxLag          = 200 * time.Millisecond // of video, for the server to count as keeping up
	roomLimitFor        = 3 * time.Second
)

func (b *roomBench) run(ctx context.Context) (roomResult, error) {
	admin, err := newClient(b.srv.url, b.srv.token)
	if err != nil {
		return roomResult{}, err
	}
	var where roomMeeting
	if err := admin.call(ctx, "GET", fmt.Sprintf("/api/v1/meetings/%d", b.meeting), nil, "", &where); err != nil {
		return roomResult{}, fmt.Errorf("meeting %d: %w", b.meeting, err)
	}

	// Publishers.
	media, stopMedia := context.WithCancel(ctx)
	defer stopMedia()
	var (
		capt roomCapture
		pubs []*roomPublisherPeer
	)
	defer func() {
		for _, p := range pubs {
			p.c.Close()
		}
	}()
	for i := range b.publishers {
		j, err := b.srv.addPublisher(ctx, admin, b.meeting, where, i+1)
		if err != nil {
			return roomResult{}, err
		}
		p, err := startRoomPublisher(ctx, media, j, &capt)
		if err != nil {
			return roomResult{}, fmt.Errorf("publisher %d: %w", i+1, err)
		}
		pubs = append(pubs, p)
	}
	b.progress("%d publishers sending; %d observers joining", len(pubs), b.observers)

	// Observers.
	obs, failed := b.joinObservers(ctx)
	defer closeRoomObservers(obs)
	if len(obs) == 0 {
		return roomResult{}, fmt.Errorf("no observer joined: %w", failed)
	}
	if failed != nil {
		b.progress("%d of %d observers joined; the others: %v", len(obs), b.observers, failed)
	}
	joins := make([]time.Duration, len(obs))
	for i, o := range obs {
		joins[i] = o.joined
	}
	slices.Sort(joins)

	// The window.
	if err := b.settle(ctx, pubs, obs); err != nil {
		return roomResult{}, err
	}
	b.progress("everyone in (join p50 %v, p99 %v); measuring for %v",
		roomPercentile(joins, 0.5).Round(time.Millisecond), roomPercentile(joins, 0.99).Round(time.Millisecond), b.duration)
	windows := make(map[*roomSentTrack]*roomWindow)
	for _, p := range pubs {
		for _, t := range p.tracks {
			windows[t] = &roomWindow{from: t.lastTS.Load()/roomTSBin + 1}
		}
	}
	if b.profile != "" {
		if err := b.srv.profile(true); err != nil {
			return roomResult{}, err
		}
	}
	capt.begin(roomLimitFor)
	m0, err := b.srv.scrape(ctx)
	if err != nil {
		return roomResult{}, err
	}
	cpu0, err := b.srv.cpuSeconds(ctx, m0)
	if err != nil {
		return roomResult{}, err
	}
	t0 := time.Now()
	self0, _ := procCPUSeconds(os.Getpid())
	udp0 := udpReceiveErrors()
	select {
	case <-time.After(b.duration):
	case <-ctx.Done():
		return roomResult{}, ctx.Err()
	}
	m1, err := b.srv.scrape(ctx)
	if err != nil {
		return roomResult{}, err
	}
	cpu1, err := b.srv.cpuSeconds(ctx, m1)
	if err != nil {
		return roomResult{}, err
	}
	elapsed := time.Since(t0)
	self1, _ := procCPUSeconds(os.Getpid())
	udp1 := udpReceiveErrors()
	if b.profile != "" {
		b.srv.profile(false)
	}
	for t, w := range windows {
		w.to = t.lastTS.Load() / roomTSBin
	}
	// Let the last packets of the window arrive, then stop sending: what is later than
	// this is as good as lost to a viewer.
	time.Sleep(500 * time.Millisecond)
	stopMedia()

	res := roomResult{
		Observers: b.observers, Publishers: b.publishers, ObserversJoined: len(obs), FullObservers: b.full,
		DurationS: elapsed.Seconds(),
		JoinP50ms: roomMillis(roomPercentile(joins, 0.5)), JoinP99ms: roomMillis(roomPercentile(joins, 0.99)), JoinMaxms: roomMillis(joins[len(joins)-1]),
		ForwardedPackets: int(m1["chamber_sfu_forwarded_packets_total"] - m0["chamber_sfu_forwarded_packets_total"]),
		DroppedPackets:   int(m1["chamber_sfu_dropped_packets_total"] - m0["chamber_sfu_dropped_packets_total"]),
		SocketDropped:    int(m1["chamber_sfu_socket_dropped_packets_total"] - m0["chamber_sfu_socket_dropped_packets_total"]),
		UDPReceiveErrors: int(udp1 - udp0),
		Retransmitted:    int(m1["chamber_sfu_retransmitted_packets_total"] - m0["chamber_sfu_retransmitted_packets_total"]),
		ServerCPUs:       cpu1 - cpu0,
		ServerGoroutines: m1["go_goroutines"], ServerHeapInuseMiB: m1["go_memstats_heap_inuse_bytes"] / (1 << 20),
	}
	res.ForwardedPerS = float64(res.ForwardedPackets) / elapsed.Seconds()
	res.ServerCores = res.ServerCPUs / elapsed.Seconds()
	res.BenchCores = (self1 - self0) / elapsed.Seconds()
	if res.ForwardedPackets > 0 {
		res.ServerUsPerPacket = res.ServerCPUs * 1e6 / float64(res.ForwardedPackets)
	}

	// Delivery: every observer asked to join was owed every packet of the window.
	for _, p := range pubs {
		for _, t := range p.tracks {
			res.PacketsExpected += t.sent(*windows[t]) * b.observers
		}
	}
	for _, o := range obs {
		for _, rt := range o.tracks() {
			for _, p := range pubs {
				if p.identity != rt.stream {
					continue
				}
				for _, t := range p.tracks {
					if t.kind == rt.kind {
						w := windows[t]
						res.PacketsReceived += o.tally.count(rt.ssrc, w.from, w.to)
					}
				}
			}
		}
	}
	if res.PacketsExpected > 0 {
		res.DeliveryRatio = float64(res.PacketsReceived) / float64(res.PacketsExpected)
	}
	b.progress("delivery %.4f, server %.2f µs per forwarded packet (%.0f packets/s, %.2f cores); measuring the limit",
		res.DeliveryRatio, res.ServerUsPerPacket, res.ForwardedPerS, res.ServerCores)

	lim, err := measureRoomLimit(ctx, capt.list(), b.observers, roomLimitFor, b.udpHost)
	if err != nil {
		return roomResult{}, err
	}
	res.LimitPackets, res.LimitUsPerPacket = lim.packets, lim.usPerPacket
	if res.ServerUsPerPacket > 0 {
		res.Efficiency = res.LimitUsPerPacket / res.ServerUsPerPacket
	}
	b.progress("limit %.2f µs per packet; efficiency %.2f", res.LimitUsPerPacket, res.Efficiency)
	for _, f := range []*float64{&res.DeliveryRatio, &res.ServerUsPerPacket, &res.LimitUsPerPacket, &res.Efficiency,
		&res.ServerCPUs, &res.ServerCores, &res.BenchCores, &res.ForwardedPerS, &res.DurationS, &res.ServerHeapInuseMiB} {
		*f = roomRound(*f, 4)
	}
	return res, nil
}

// settle waits until the server keeps up: observers get the video that is being
// published now, not what queued up while hundreds joined (a server catching up
// would also forward more per second than is published, and flatter its cost).
func (b *roomBench) settle(ctx context.Context, pubs []*roomPublisherPeer, obs []*roomObserver) error {
	deadline := time.Now().Add(roomSettleMax)
	for {
		select {
		case <-time.After(roomSettle):
		case <-ctx.Done():
			return ctx.Err()
		}
		lag := b.videoLag(pubs, obs)
		if lag <= roomMaxLag {
			return nil
		}
		if time.Now().After(deadline) {
			b.progress("the server has not caught up (video %v behind); measuring all the same", lag.Round(time.Millisecond))
			return nil
		}
		b.progress("the server is catching up: observers' video is %v behind", lag.Round(time.Millisecond))
	}
}

// videoLag is how far the video that observers have received lags behind what the
// publishers have sent, at worst.
func (b *roomBench) videoLag(pubs []*roomPublisherPeer, obs []*roomObserver) time.Duration {
	var worst time.Duration
	for _, o := range obs {
		for _, rt := range o.tracks() {
			if rt.kind != webrtc.RTPCodecTypeVideo {
				continue
			}
			got, ok := o.tally.latest(rt.ssrc)
			for _, p := range pubs {
				if p.identity != rt.stream {
					continue
				}
				sent := p.tracks[1].lastTS.Load()
				lag := time.Second // nothing yet
				if ok {
					lag = time.Duration(int32(sent-got)) * time.Second / 90000
				}
				worst = max(worst, lag)
			}
		}
	}
	return worst
}

// joinObservers joins them all, a few at a time, and returns those that received
// video, with what went wrong for the others.
func (b *roomBench) joinObservers(ctx context.Context) ([]*roomObserver, error) {
	joins := newRoomJoins(b.srv.url)
	defer joins.close()
	var (
		mu     sync.Mutex // guards obs, errs
		obs    []*roomObserver
		errs   []error
		next   = make(chan int)
		wg     sync.WaitGroup
		report = max(b.observers/10, 10)
	)
	for range min(roomJoinConcurrency, b.observers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				jctx, cancel := context.WithTimeout(ctx, roomJoinTimeout)
				o, err := joinRoomObserver(jctx, joins, b.srv.url, b.meeting, n, n < b.full, b.udpHost)
				cancel()
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					obs = append(obs, o)
					if len(obs)%report == 0 {
						b.progress("%d observers in", len(obs))
					}
				}
				mu.Unlock()
			}
		}()
	}
	for n := range b.observers {
		select {
		case next <- n:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if len(errs) > 3 {
		errs = append(errs[:3], fmt.Errorf("and %d more", len(errs)-3))
	}
	return obs, errors.Join(errs...)
}

func closeRoomObservers(obs []*roomObserver) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, o := range obs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			o.close()
			<-sem
		}()
	}
	wg.Wait()
}

// roomPercentile returns the nearest-rank percentile of sorted durations.
func roomPercentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func roomMillis(d time.Duration) float64 { return roomRound(float64(d)/float64(time.Millisecond), 1) }

func roomRound(f float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(f*p) / p
}
