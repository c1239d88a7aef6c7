package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	minutessql "github.com/chamber/chamber/agenda/minutes/sqlstore"
	"github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/agenda/webhooks"
	webhookssql "github.com/chamber/chamber/agenda/webhooks/sqlstore"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/bridge"
	"github.com/chamber/chamber/signaling/redisbus"
	"github.com/chamber/chamber/voting"
	votingsql "github.com/chamber/chamber/voting/sqlstore"
	"github.com/chamber/chamber/web"
)

// dbFlags are the flags that say which database to use.
type dbFlags struct {
	dataDir     *string
	databaseURL *string
}

func addDBFlags(fs *flag.FlagSet) dbFlags {
	return dbFlags{
		dataDir:     fs.String("data-dir", "./chamber-data", "directory for the embedded SQLite database and other files"),
		databaseURL: fs.String("database-url", "", "PostgreSQL URL (postgres://…); empty uses SQLite in --data-dir"),
	}
}

func (f dbFlags) config(logger *slog.Logger) migrations.Config {
	return migrations.Config{URL: *f.databaseURL, DataDir: *f.dataDir, Logger: logger}
}

// serveConfig is everything `chamber serve` is told.
type serveConfig struct {
	addr      string
	db        migrations.Config
	redisURL  string
	publicURL string
	nodeID    string // this node among those sharing Redis; empty: made up at start
	demo      bool
	logger    *slog.Logger
	rtc       rtcConfig
	// shutdownTimeout bounds how long open requests get to finish.
	shutdownTimeout time.Duration
	// webhookNetworks are non-public networks webhooks may be delivered to.
	webhookNetworks []netip.Prefix
	// listener, when set, is used instead of listening on addr (for a server run
	// inside another command, such as a rehearsal).
	listener net.Listener
	// ready, when set, is told the public URL once the server is serving.
	ready func(publicURL string)
	// now, random and logSeed, when set, replace the domains' clock, the votes'
	// randomness and the vote log's key: a rehearsal with a fixed clock gives the same
	// record on every run.
	now     func() time.Time
	random  io.Reader
	logSeed []byte
}

func runServe(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("serve", e)
	addr := fs.String("addr", ":8080", "address to listen on")
	db := addDBFlags(fs)
	redisURL := fs.String("redis-url", "", "Redis URL (redis://…) to join several nodes; empty uses an in-process bus")
	publicURL := fs.String("public-url", "", "URL people use to reach this server (default http://localhost:PORT)")
	nodeID := fs.String("node-id", "", "this node's id, unique among the nodes sharing --redis-url (default: the host name and a random suffix)")
	demo := fs.Bool("demo", false, "seed a demo council, committee and meeting (once) and print sign-in links")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	webhookNets := fs.String("webhook-allow-networks", "", "comma-separated non-public networks (CIDR) webhooks may be delivered to, such as 127.0.0.0/8 for a receiver on this machine")
	rtc := addRTCFlags(fs)
	if err := parse(fs, e, args); err != nil {
		return err
	}
	rc, err := rtc.config()
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments, got %q", fs.Args())
	}
	nets, err := parseNetworks(*webhookNets)
	if err != nil {
		return err
	}
	logger, err := newLogger(*logFormat, e.stderr)
	if err != nil {
		return err
	}
	cfg := serveConfig{
		addr: *addr, db: db.config(logger), redisURL: *redisURL, publicURL: *publicURL, nodeID: *nodeID,
		demo: *demo, logger: logger, shutdownTimeout: 10 * time.Second, rtc: rc, webhookNetworks: nets,
	}
	return serve(ctx, cfg, e.stdout)
}

func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, usagef("--log-format must be text or json, not %q", format)
}

// serve runs the server until ctx is cancelled, then shuts down in order: stop accepting
// and finish requests, close the rooms, then close Redis and the database.
func serve(ctx context.Context, cfg serveConfig, stdout io.Writer) error {
	log := cfg.logger
	ln := cfg.listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.addr); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.addr, err)
		}
	}
	defer ln.Close()
	publicURL, err := resolvePublicURL(cfg.publicURL, ln.Addr())
	if err != nil {
		return err
	}

	db, err := migrations.Open(ctx, cfg.db)
	if err != nil {
		return err
	}
	defer db.Close()
	where := cfg.db.DataDir
	if db.Dialect == migrations.Postgres {
		where = migrations.Redact(cfg.db.URL)
	}
	log.Info("database ready", "dialect", db.Dialect, "at", where)

	// The bus carries meeting events to the live rooms: in process, or through Redis to
	// every node.
	checks := []web.Check{{Name: "database", Check: db.Ping}}
	var bus signaling.Bus = signaling.NewLocalBus()
	var rooms signaling.RoomDirectory = signaling.NewLocalDirectory(nil)
	if cfg.redisURL != "" {
		rdb, err := openRedis(ctx, cfg.redisURL)
		if err != nil {
			return err
		}
		defer rdb.Close()
		checks = append(checks, web.Check{Name: "redis", Check: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }})
		bus = redisbus.New(rdb, redisbus.DefaultChannel, log)
		rooms = redisbus.NewDirectory(rdb, redisbus.DefaultRoomPrefix)
		log.Info("redis ready", "at", migrations.Redact(cfg.redisURL))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Webhooks deliver from a durable outbox that every node works through.
	hooks := webhooks.NewService(webhookssql.New(db), webhooks.Options{Logger: log, AllowNetworks: cfg.webhookNetworks, Now: cfg.now})
	stopDrafts, cancelDrafts := context.WithCancel(context.WithoutCancel(ctx))
	pub := &afterCommit{room: bridge.Publisher{Bus: bus, Log: log}, hooks: hooks, log: log, stop: stopDrafts}
	defer func() {
		cancelDrafts()
		pub.wait()
	}()
	votes := votingsql.New(db)
	svc := agenda.NewService(sqlstore.New(db), agenda.Options{Logger: log, Publisher: pub, Polls: votes, Now: cfg.now})
	logSeed := cfg.logSeed
	if logSeed == nil {
		if logSeed, err = db.Secret(ctx, "vote-log-key", ed25519.SeedSize); err != nil {
			return err
		}
	}
	logKey, err := voting.NewLogKey(ed25519.NewKeyFromSeed(logSeed))
	if err != nil {
		return err
	}
	ballots := voting.NewService(votes, svc, voting.Options{Publisher: pub, Logger: log, LogKey: logKey, Now: cfg.now, Random: cfg.random,
		Origin: publicURL, MotionDecider: svc})
	pub.minutes = minutes.NewService(minutessql.New(db), svc, ballots, minutes.Options{Publisher: pub, Logger: log, Now: cfg.now})

	roomKey, err := db.Secret(ctx, "room-token-key", 32)
	if err != nil {
		return err
	}
	tokens := signaling.NewTokens(roomKey, nil)
	// Each meeting's room is hosted by one node, which clients are sent to.
	node, err := thisNode(cfg.nodeID, publicURL)
	if err != nil {
		return err
	}
	hub, err := signaling.NewHub(signaling.Config{
		Tokens:         tokens,
		UDPPort:        cfg.rtc.udpPort,
		UDPHost:        cfg.rtc.udpHost,
		PublicIP:       cfg.rtc.publicIP,
		ICEServers:     cfg.rtc.iceServers,
		AllowedOrigins: []string{publicURL},
		Presence:       bridge.Presence{Agenda: svc, Log: log},
		Journal:        bridge.Journal{Agenda: svc},
		Ballots:        bridge.Ballots{People: svc, Votes: ballots},
		Bus:            bus,
		Node:           node,
		Directory:      rooms,
		Logger:         log,
		Registerer:     reg,
	})
	if err != nil {
		return fmt.Errorf("live rooms: %w", err)
	}
	log.Info("live rooms ready", "udp", hub.UDPAddr().String(), "node", node.ID)

	w, err := web.New(web.Config{
		Agenda:     svc,
		Voting:     ballots,
		Minutes:    pub.minutes,
		Webhooks:   hooks,
		Ready:      checks,
		RTC:        hub,
		RoomTokens: tokens,
		PublicURL:  publicURL,
		Logger:     log,
		Registry:   reg,
	})
	if err != nil {
		hub.Shutdown(context.Background())
		return err
	}
	// Polls close at their closing time, whichever node is up.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	ran := make(chan error, 1)
	go func() { ran <- ballots.Run(runCtx) }()
	delivered := make(chan error, 1)
	go func() { delivered <- hooks.Run(runCtx) }()
	defer func() {
		stopRun()
		if err := <-ran; err != nil {
			log.Error("closing polls at their time", "err", err)
		}
		if err := <-delivered; err != nil {
			log.Error("delivering webhooks", "err", err)
		}
	}()

	if cfg.demo {
		links, err := seedDemo(ctx, svc, publicURL, time.Now)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		for _, l := range links {
			fmt.Fprintf(stdout, "%s: %s\n", l.role, l.url)
		}
	}

	srv := &http.Server{
		Handler:           w.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("chamber listening", "addr", ln.Addr().String(), "url", publicURL)
	fmt.Fprintf(stdout, "chamber listening on %s\n", publicURL)
	if cfg.ready != nil {
		cfg.ready(publicURL)
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still open at shutdown", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	// The WebSockets were hijacked, so Shutdown did not wait for them: close the rooms.
	if err := hub.Shutdown(sctx); err != nil {
		log.Warn("live rooms still open at shutdown", "err", err)
	}
	log.Info("stopped")
	return nil
}

// resolvePublicURL checks --public-url, or makes one from the listening address.
func resolvePublicURL(raw string, addr net.Addr) (string, error) {
	if raw == "" {
		host, port, _ := net.SplitHostPort(addr.String())
		ip := net.ParseIP(host)
		if ip == nil || ip.IsUnspecified() || ip.IsLoopback() {
			host = "localhost"
		}
		return "http://" + net.JoinHostPort(host, port), nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", usagef("--public-url must be an http(s) URL such as https://meetings.example.gov.uk, not %q", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func openRedis(ctx context.Context, raw string) (*redis.Client, error) {
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, usagef("--redis-url: %v", err)
	}
	rdb := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("connect to redis at %s: %w", migrations.Redact(raw), err)
	}
	return rdb, nil
}

// parseNetworks reads a comma-separated list of CIDR prefixes.
func parseNetworks(raw string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(raw, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, usagef("--webhook-allow-networks: %q is not a network such as 127.0.0.0/8", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
