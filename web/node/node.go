// Package node assembles one Chamber node: the database and the bus, the agenda,
// votes, minutes and webhooks services, the live rooms and the HTTP server over them,
// wired the one way `chamber serve` runs them. Tests that need a whole server build it
// here too, so that what they test is what runs.
package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
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

// Config is what a node is told. PublicURL and a database (DB or Database) are
// required; the zero value of everything else is what `chamber serve` uses by default.
type Config struct {
	// PublicURL is the address people reach the node at, such as
	// "https://meetings.example.gov.uk": links, the vote log's origin and the
	// signalling URL given to other nodes are made from it, and its origin may open
	// the live rooms' WebSocket.
	PublicURL string

	// DB, when not nil, is the node's database, open and migrated; the node leaves it
	// open. Otherwise the node opens Database, migrates it, and closes it at shutdown.
	DB       *migrations.DB
	Database migrations.Config

	// Redis, when not nil, joins this node to the others sharing it (room routing,
	// events, presence); the node leaves it open. Otherwise RedisURL, when set, is
	// connected to and closed at shutdown. Neither: an in-process bus, one node alone.
	Redis    redis.UniversalClient
	RedisURL string

	// NodeID names this node among those sharing Redis; empty: NewID.
	NodeID string

	// RTC are the live rooms' media settings.
	RTC RTC
	// AllowedOrigins are origins besides PublicURL's whose pages may open the live
	// rooms' WebSocket.
	AllowedOrigins []string

	// WebhookNetworks are non-public networks webhooks may be delivered to.
	WebhookNetworks []netip.Prefix

	Logger *slog.Logger // nil: discard
	// Registry receives the node's metrics, served on /metrics; nil: a new one with
	// the Go and process collectors.
	Registry *prometheus.Registry

	// Now, Random and LogSeed, when set, replace the domains' clock, the votes'
	// randomness and the seed of the vote log's key (otherwise kept in the database):
	// a node with a fixed clock gives the same record on every run.
	Now     func() time.Time
	Random  io.Reader
	LogSeed []byte
	// Password sets the cost of password hashing; zero is the default, tests lower it.
	Password agenda.PasswordParams
}

// RTC are the live rooms' media settings: every peer connection uses one UDP socket
// on UDPPort (0 picks a free port) at UDPHost (empty: all interfaces); PublicIP, when
// set, is advertised in place of the local address (NAT 1:1); ICEServers are given to
// clients.
type RTC struct {
	UDPPort    int
	UDPHost    string
	PublicIP   string
	ICEServers []webrtc.ICEServer
}

// Node is one assembled Chamber node. Serve Handler over HTTP, call Run for the
// background work, and Shutdown at the end.
type Node struct {
	PublicURL string
	// Self names this node to the others and to clients.
	Self signaling.Node
	DB   *migrations.DB

	Agenda   *agenda.Service
	Votes    *voting.Service
	Minutes  *minutes.Service
	Webhooks *webhooks.Service
	Hub      *signaling.Hub
	Tokens   *signaling.Tokens

	log     *slog.Logger
	handler http.Handler
	pub     *afterCommit
	owned   []func() error // closed at shutdown, last first

	stopRun context.Context // cancelled at shutdown: Run returns
	cancel  context.CancelFunc

	mu       sync.Mutex // guards stopping, and running.Add against running.Wait
	stopping bool
	running  sync.WaitGroup // calls of Run
	once     sync.Once      // closes owned
	closeErr error
}

// ErrClosed is returned by Run once the node has been shut down.
var ErrClosed = errors.New("node is shut down")

// Open assembles a node: it opens what cfg asks it to (database, Redis), builds the
// services and the live rooms, and returns a node ready to serve. On error, whatever
// it opened is closed again.
func Open(ctx context.Context, cfg Config) (_ *Node, err error) {
	if cfg.PublicURL == "" {
		return nil, errors.New("open node: no public URL")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Node{PublicURL: cfg.PublicURL, log: log}
	n.stopRun, n.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			n.cancel()
			n.closeOwned()
		}
	}()

	db := cfg.DB
	if db == nil {
		dbc := cfg.Database
		if dbc.Logger == nil {
			dbc.Logger = log
		}
		if db, err = migrations.Open(ctx, dbc); err != nil {
			return nil, err
		}
		n.owned = append(n.owned, db.Close)
		where := dbc.DataDir
		switch {
		case db.Dialect == migrations.Postgres:
			where = migrations.Redact(dbc.URL)
		case dbc.SQLitePath != "":
			where = dbc.SQLitePath
		}
		log.Info("database ready", "dialect", db.Dialect, "at", where)
	}
	n.DB = db

	// The bus carries meeting events to the live rooms: in process, or through Redis to
	// every node.
	checks := []web.Check{{Name: "database", Check: db.Ping}}
	var bus signaling.Bus = signaling.NewLocalBus()
	var rooms signaling.RoomDirectory = signaling.NewLocalDirectory(nil)
	rdb := cfg.Redis
	if rdb == nil && cfg.RedisURL != "" {
		c, err := openRedis(ctx, cfg.RedisURL)
		if err != nil {
			return nil, err
		}
		n.owned = append(n.owned, c.Close)
		rdb = c
		log.Info("redis ready", "at", migrations.Redact(cfg.RedisURL))
	}
	if rdb != nil {
		checks = append(checks, web.Check{Name: "redis", Check: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }})
		bus = redisbus.New(rdb, redisbus.DefaultChannel, log)
		rooms = redisbus.NewDirectory(rdb, redisbus.DefaultRoomPrefix)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}

	// Webhooks deliver from a durable outbox that every node works through.
	n.Webhooks = webhooks.NewService(webhookssql.New(db), webhooks.Options{Logger: log, AllowNetworks: cfg.WebhookNetworks, Now: cfg.Now})
	n.pub = newAfterCommit(bridge.Publisher{Bus: bus, Log: log}, n.Webhooks, log)
	polls := votingsql.New(db)
	n.Agenda = agenda.NewService(sqlstore.New(db), agenda.Options{Logger: log, Publisher: n.pub, Polls: polls, Now: cfg.Now,
		Password: cfg.Password})
	logSeed := cfg.LogSeed
	if logSeed == nil {
		if logSeed, err = db.Secret(ctx, "vote-log-key", ed25519.SeedSize); err != nil {
			return nil, err
		}
	}
	logKey, err := voting.NewLogKey(ed25519.NewKeyFromSeed(logSeed))
	if err != nil {
		return nil, err
	}
	n.Votes = voting.NewService(polls, n.Agenda, voting.Options{Publisher: n.pub, Logger: log, LogKey: logKey, Now: cfg.Now,
		Random: cfg.Random, Origin: cfg.PublicURL, MotionDecider: n.Agenda})
	n.Minutes = minutes.NewService(minutessql.New(db), n.Agenda, n.Votes, minutes.Options{Publisher: n.pub, Logger: log, Now: cfg.Now})
	n.pub.minutes = n.Minutes

	roomKey, err := db.Secret(ctx, "room-token-key", 32)
	if err != nil {
		return nil, err
	}
	n.Tokens = signaling.NewTokens(roomKey, nil)
	// Each meeting's room is hosted by one node, which clients are sent to.
	id := cfg.NodeID
	if id == "" {
		id = NewID()
	}
	n.Self = signaling.Node{ID: id, URL: web.SignallingURL(cfg.PublicURL)}
	if err := n.Self.Validate(); err != nil {
		return nil, fmt.Errorf("open node: %w", err)
	}
	n.Hub, err = signaling.NewHub(signaling.Config{
		Tokens:         n.Tokens,
		UDPPort:        cfg.RTC.UDPPort,
		UDPHost:        cfg.RTC.UDPHost,
		PublicIP:       cfg.RTC.PublicIP,
		ICEServers:     cfg.RTC.ICEServers,
		AllowedOrigins: append([]string{cfg.PublicURL}, cfg.AllowedOrigins...),
		Presence:       bridge.Presence{Agenda: n.Agenda, Log: log},
		Journal:        bridge.Journal{Agenda: n.Agenda},
		Ballots:        bridge.Ballots{People: n.Agenda, Votes: n.Votes},
		Bus:            bus,
		Node:           n.Self,
		Directory:      rooms,
		Logger:         log,
		Registerer:     reg,
	})
	if err != nil {
		return nil, fmt.Errorf("live rooms: %w", err)
	}
	log.Info("live rooms ready", "udp", n.Hub.UDPAddr().String(), "node", n.Self.ID)

	w, err := web.New(web.Config{
		Agenda:     n.Agenda,
		Voting:     n.Votes,
		Minutes:    n.Minutes,
		Webhooks:   n.Webhooks,
		Ready:      checks,
		RTC:        n.Hub,
		RoomTokens: n.Tokens,
		PublicURL:  cfg.PublicURL,
		Logger:     log,
		Registry:   reg,
	})
	if err != nil {
		n.Hub.Shutdown(context.Background())
		return nil, err
	}
	n.handler = w.Handler()
	return n, nil
}

// Handler serves the node's HTTP API, the signalling WebSocket and the web UI.
func (n *Node) Handler() http.Handler { return n.handler }

// Run does the node's background work until ctx ends or the node shuts down: polls
// close at their closing time and webhooks are delivered, whichever node is up. It
// logs what goes wrong and returns it once both have stopped.
func (n *Node) Run(ctx context.Context) error {
	n.mu.Lock()
	if n.stopping {
		n.mu.Unlock()
		return ErrClosed
	}
	n.running.Add(1)
	n.mu.Unlock()
	defer n.running.Done()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(n.stopRun, cancel)()
	var pollErr, hookErr error
	var wg sync.WaitGroup
	wg.Go(func() { pollErr = n.Votes.Run(ctx) })
	wg.Go(func() { hookErr = n.Webhooks.Run(ctx) })
	wg.Wait()
	if pollErr != nil {
		n.log.Error("closing polls at their time", "err", pollErr)
		pollErr = fmt.Errorf("close polls at their time: %w", pollErr)
	}
	if hookErr != nil {
		n.log.Error("delivering webhooks", "err", hookErr)
		hookErr = fmt.Errorf("deliver webhooks: %w", hookErr)
	}
	return errors.Join(pollErr, hookErr)
}

// Shutdown stops the node in order: the background work, then the minutes being
// drafted, then the live rooms (whose WebSockets an http.Server's Shutdown does not
// wait for), then it closes the Redis client and the database it opened. Stop the
// HTTP server first. If ctx ends before the rooms have closed, Shutdown says so, and
// closes Redis and the database all the same; calling it again waits for the rooms
// once more.
func (n *Node) Shutdown(ctx context.Context) error {
	n.mu.Lock()
	n.stopping = true
	n.mu.Unlock()
	n.cancel()
	n.running.Wait()
	n.pub.close()
	err := n.Hub.Shutdown(ctx)
	return errors.Join(err, n.closeOwned())
}

// Close shuts the node down with no deadline.
func (n *Node) Close() error { return n.Shutdown(context.Background()) }

// closeOwned closes what the node opened, last first, once.
func (n *Node) closeOwned() error {
	n.once.Do(func() {
		var errs []error
		for _, c := range slices.Backward(n.owned) {
			errs = append(errs, c())
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// NewID names a node that was given no id: its host name and a random suffix.
func NewID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "chamber"
	}
	var b [4]byte
	rand.Read(b[:])
	return strings.Join(strings.Fields(host), "-") + "-" + hex.EncodeToString(b[:])
}

// openRedis connects to the Redis server at raw and checks that it answers.
func openRedis(ctx context.Context, raw string) (*redis.Client, error) {
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
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
