// Package web is Chamber's HTTP server: the REST API over the agenda, signed votes,
// minutes and their exports, and councils' webhooks (under /api/v1, JSON, with RFC 9457
// problem details for errors and an OpenAPI 3.1 description generated from the route
// table), authentication by session cookie or bearer token, health, readiness and
// Prometheus metrics, and the server-rendered pages: the public meetings, meeting and
// minutes pages, which need neither sign-in nor JavaScript, and the pages that sign-in
// and invitation links land on.
//
// Every route is declared once, in the table that Routes returns; the mux, the metrics
// labels and the OpenAPI document are all built from it.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/voting"
)

// Config is what the server needs from the process that runs it.
type Config struct {
	Agenda *agenda.Service
	// Voting, when not nil, serves signed votes: keys, polls, ballots, the log and the
	// record.
	Voting *voting.Service
	// Minutes, when not nil, serves the minutes (drafting, approval, publication,
	// corrections), their exports, the public minutes page and the councils' iCalendar
	// feeds.
	Minutes *minutes.Service
	// Webhooks, when not nil, serves the management of councils' webhook endpoints and
	// their delivery logs.
	Webhooks *webhooks.Service
	// Ready are the readiness checks /readyz runs (database, Redis).
	Ready []Check
	// RTC, when not nil, is mounted at GET /api/v1/rtc (the signalling WebSocket).
	RTC http.Handler
	// RoomTokens signs the tokens that admit people to a meeting's live room; with it,
	// the join endpoints are served.
	RoomTokens *signaling.Tokens
	// PublicURL is the address people reach the server at, such as
	// "http://localhost:8080": links (invitations, problem types) are made from it and
	// its origin is trusted for browser writes.
	PublicURL string
	Logger    *slog.Logger
	// Registry receives the HTTP metrics; /metrics serves it. Nil means a private one.
	Registry *prometheus.Registry
	Now      func() time.Time
}

// Check is one readiness check.
type Check struct {
	Name  string
	Check func(context.Context) error
}

// readyTimeout bounds each readiness check.
const readyTimeout = 2 * time.Second

// Server serves Chamber over HTTP. Build it with New.
type Server struct {
	svc     *agenda.Service
	votes   *voting.Service
	minutes *minutes.Service
	hooks   *webhooks.Service
	ready   []Check
	rtc     http.Handler
	public  string // PublicURL without a trailing slash
	log     *slog.Logger
	now     func() time.Time
	reg     *prometheus.Registry
	prom    http.Handler // serves reg
	metrics *metrics
	held    *heldCreds // credentials as last read (credentials.go)
	logins  *ipLimiter
	joins   *ipLimiter // observers joining live rooms
	tokens  *signaling.Tokens
	pages   map[string]*template.Template
	routes  []Route
	openapi []byte
	// registered lists every pattern given to the mux with what kind of entry it is,
	// so that tests can compare the mux with the route table and the OpenAPI document.
	registered []registration
	mux        *http.ServeMux
	handler    http.Handler
}

type registration struct {
	Pattern  string
	Fallback bool // a 404 or 405 catch-all, not a route
}

// New builds a server. It fails when the configuration is incomplete.
func New(cfg Config) (*Server, error) {
	if cfg.Agenda == nil {
		return nil, errors.New("web: Config.Agenda is required")
	}
	public := strings.TrimRight(cfg.PublicURL, "/")
	var origin string
	if public != "" {
		u, err := url.Parse(public)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("web: public URL %q is not an http(s) URL", cfg.PublicURL)
		}
		origin = u.Scheme + "://" + u.Host
	}
	s := &Server{
		svc:     cfg.Agenda,
		votes:   cfg.Voting,
		minutes: cfg.Minutes,
		hooks:   cfg.Webhooks,
		ready:   cfg.Ready,
		rtc:     cfg.RTC,
		tokens:  cfg.RoomTokens,
		public:  public,
		log:     cfg.Logger,
		now:     cfg.Now,
		reg:     cfg.Registry,
		held:    newHeldCreds(),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	var err error
	if s.metrics, err = newMetrics(s.reg); err != nil {
		return nil, err
	}
	s.prom = promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.logins = newIPLimiter(loginEvery, loginBurst, s.now)
	s.joins = newIPLimiter(joinEvery, joinBurst, s.now)
	s.routes = s.table()
	if s.openapi, err = s.openAPIDocument(); err != nil {
		return nil, fmt.Errorf("web: build OpenAPI document: %w", err)
	}

	s.mux = http.NewServeMux()
	if err := s.register(s.mux); err != nil {
		return nil, err
	}
	cop := http.NewCrossOriginProtection()
	if origin != "" {
		if err := cop.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("web: trust %s: %w", origin, err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, r, &httpError{kind: probCrossOrigin,
			detail: "The request came from another site; browsers may only write from " + s.originOr("this site") + "."})
	}))
	s.handler = s.outer(cop.Handler(s.mux))
	return s, nil
}

func (s *Server) originOr(fallback string) string {
	if s.public == "" {
		return fallback
	}
	return s.public
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes returns the route table: every route the server answers, in order.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// register puts every route on the mux, then the catch-alls: 405 (with Allow) for a
// known path asked with another method, and 404 for anything else.
func (s *Server) register(mux *http.ServeMux) error {
	var err error
	handle := func(pattern string, h http.Handler, fallback bool) {
		defer func() {
			if p := recover(); p != nil && err == nil {
				err = fmt.Errorf("web: register %q: %v", pattern, p)
			}
		}()
		mux.Handle(pattern, h)
		s.registered = append(s.registered, registration{Pattern: pattern, Fallback: fallback})
	}
	allow := map[string][]string{}
	var paths []string
	for i := range s.routes {
		rt := &s.routes[i]
		handle(rt.Method+" "+rt.Pattern, s.instrument(rt.Pattern, s.serveRoute(rt)), false)
		if _, ok := allow[rt.Pattern]; !ok {
			paths = append(paths, rt.Pattern)
		}
		allow[rt.Pattern] = append(allow[rt.Pattern], rt.Method)
		if rt.Method == http.MethodGet {
			allow[rt.Pattern] = append(allow[rt.Pattern], http.MethodHead)
		}
	}
	for _, p := range paths {
		methods := allow[p]
		handle(p, s.instrument(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			s.problem(w, r, &httpError{kind: probMethod,
				detail: fmt.Sprintf("%s is not allowed here; allowed: %s.", r.Method, strings.Join(methods, ", "))})
		})), true)
	}
	handle("/api/", s.instrument("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, r, &httpError{kind: probNotFound, detail: "There is no such endpoint; see /api/v1/openapi.json."})
	})), true)
	handle("/", s.instrument("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.pageError(w, r, &httpError{kind: probNotFound, detail: "There is no page at this address."})
	})), true)
	return err
}

// reqInfo travels in a request's context from the outer middleware to the handlers and
// back, so that the access log can name the route and the user.
type reqInfo struct {
	id     string
	route  *Route
	userID int64
}

type ctxKey struct{}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// outer gives each request an id, sets headers every response carries, recovers from
// panics and writes the access log. Paths are logged only for routes whose path holds
// no secret; query strings never.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{id: newRequestID()}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
		h := w.Header()
		h.Set("X-Request-Id", ri.id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "request_id", ri.id, "panic", p)
				if !sw.wrote {
					s.problem(sw, r, &httpError{kind: probInternal})
				}
			}
			s.accessLog(r, ri, sw.code(), time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}

func (s *Server) accessLog(r *http.Request, ri *reqInfo, code int, d time.Duration) {
	level := slog.LevelInfo
	attrs := []slog.Attr{
		slog.String("request_id", ri.id),
		slog.String("method", r.Method),
		slog.Int("status", code),
		slog.Duration("duration", d),
	}
	if ri.route != nil {
		attrs = append(attrs, slog.String("route", ri.route.Pattern))
		if !ri.route.secretPath {
			attrs = append(attrs, slog.String("path", r.URL.Path))
		}
		if ri.route.quiet {
			level = slog.LevelDebug
		}
	} else {
		attrs = append(attrs, slog.String("route", "unmatched"))
	}
	if ri.userID != 0 {
		attrs = append(attrs, slog.Int64("user", ri.userID))
	}
	if code >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(r.Context(), level, "http request", attrs...)
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
