package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/web/node"
)

// dbFlags are the flags that say which database to use.
type dbFlags struct {
	dataDir     *string
	databaseURL *string
	idleClose   *time.Duration
}

func addDBFlags(fs *flag.FlagSet) dbFlags {
	return dbFlags{
		dataDir:     fs.String("data-dir", "./chamber-data", "directory for the embedded SQLite database and other files"),
		databaseURL: fs.String("database-url", "", "PostgreSQL URL (postgres://…); empty uses SQLite in --data-dir"),
		idleClose: fs.Duration("database-idle-close", 0, "close a PostgreSQL connection idle this long (0: keep them, up to 32, "+
			"so that the next vote does not wait for them to open again; set it where many nodes share the database's connections)"),
	}
}

func (f dbFlags) config(logger *slog.Logger) migrations.Config {
	return migrations.Config{URL: *f.databaseURL, DataDir: *f.dataDir, IdleClose: *f.idleClose, Logger: logger}
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
	// allowedOrigins are origins besides the public URL's whose pages may open the
	// live rooms.
	allowedOrigins []string
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
	origins := fs.String("allow-origins", "", "comma-separated origins (https://host[:port]) besides --public-url whose pages may open the live rooms, such as the other nodes' public URLs or the address of a load balancer in front of them")
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
	allowed, err := parseOrigins(*origins)
	if err != nil {
		return err
	}
	logger, err := newLogger(*logFormat, e.stderr)
	if err != nil {
		return err
	}
	if e.getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	cfg := serveConfig{
		addr: *addr, db: db.config(logger), redisURL: *redisURL, publicURL: *publicURL, nodeID: *nodeID,
		demo: *demo, logger: logger, shutdownTimeout: 10 * time.Second, rtc: rc, webhookNetworks: nets,
		allowedOrigins: allowed,
	}
	return serve(ctx, cfg, e.stdout)
}

// serveGCPercent is the server's GOGC unless the environment sets one. What a node
// keeps in memory is small next to what a burst of ballots or a crowd joining a room
// allocates in passing, so letting the heap grow to four times what is live before
// collecting costs little memory and saves a share of the CPU that everyone voting at
// once needs (measured with chamber bench votes).
const serveGCPercent = 300

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
// and finish requests, stop the background work, close the rooms, then close Redis and
// the database.
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
	if cfg.redisURL != "" {
		if _, err := redis.ParseURL(cfg.redisURL); err != nil {
			return usagef("--redis-url: %v", err)
		}
	}
	// Each meeting's room is hosted by one node, which clients are sent to.
	self, err := thisNode(cfg.nodeID, publicURL)
	if err != nil {
		return err
	}

	n, err := node.Open(ctx, node.Config{
		PublicURL: publicURL,
		Database:  cfg.db,
		RedisURL:  cfg.redisURL,
		NodeID:    self.ID,
		RTC: node.RTC{
			UDPPort:    cfg.rtc.udpPort,
			UDPHost:    cfg.rtc.udpHost,
			PublicIP:   cfg.rtc.publicIP,
			ICEServers: cfg.rtc.iceServers,
		},
		AllowedOrigins:  cfg.allowedOrigins,
		WebhookNetworks: cfg.webhookNetworks,
		Logger:          log,
		Now:             cfg.now,
		Random:          cfg.random,
		LogSeed:         cfg.logSeed,
	})
	if err != nil {
		return err
	}
	// On the way out early, the node still stops and closes Redis and the database.
	stopped := false
	defer func() {
		if !stopped {
			sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
			defer cancel()
			n.Shutdown(sctx)
		}
	}()
	// Polls close at their closing time, whichever node is up; webhooks are delivered.
	go n.Run(context.WithoutCancel(ctx))

	if cfg.demo {
		links, err := seedDemo(ctx, n.Agenda, publicURL, time.Now)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		for _, l := range links {
			fmt.Fprintf(stdout, "%s: %s\n", l.role, l.url)
		}
	}

	srv := &http.Server{
		Handler:           n.Handler(),
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
	// The WebSockets were hijacked, so Shutdown did not wait for them: the node closes
	// the rooms.
	stopped = true
	if err := n.Shutdown(sctx); err != nil {
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

// parseOrigins reads a comma-separated list of web origins: a scheme, http or https,
// and a host with its port if any, nothing more.
func parseOrigins(raw string) ([]string, error) {
	var out []string
	for f := range strings.SplitSeq(raw, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		u, err := url.Parse(f)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, usagef("--allow-origins: %q is not an origin such as https://meetings.example.gov.uk", f)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
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
