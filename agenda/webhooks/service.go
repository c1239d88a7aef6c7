package webhooks

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// Limits on what clerks configure.
const (
	// MaxEndpoints is the most endpoints one council may have.
	MaxEndpoints = 20
	// MaxDescription is the longest description of an endpoint, in bytes.
	MaxDescription = 500
	// MaxGrace is the longest a rotated secret may go on signing requests.
	MaxGrace = 7 * 24 * time.Hour
	// DefaultGrace is how long a rotated secret goes on signing requests by default.
	DefaultGrace = 24 * time.Hour
	// MaxLoggedResponse is how much of a response's body the delivery log keeps.
	MaxLoggedResponse = 2048
)

// Options configures a Service. Zero values get the defaults given.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Random makes secrets, delivery ids and jitter; crypto/rand by default.
	Random io.Reader
	// AllowNetworks lets deliveries go to these non-public networks (loopback for
	// tests and development, say). Nothing else that is not public is ever dialled.
	AllowNetworks []netip.Prefix
	// Timeout bounds one attempt, from dialling to the end of the response (10 s).
	Timeout time.Duration
	// MaxResponseBytes is the most of a response's body read before the connection is
	// dropped (64 KiB).
	MaxResponseBytes int64
	// MaxAttempts is how many attempts a delivery gets before it fails (12).
	MaxAttempts int
	// BackoffBase is the wait after the first failed attempt, doubled after each
	// further one (1 min), up to BackoffMax (8 h); each wait is varied by ±20%. The
	// defaults spread 12 attempts over about 24 hours.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Lease is how long a worker holds a delivery it has claimed; a delivery whose
	// worker died is due again when its lease runs out (2 min). It must be well over
	// Timeout.
	Lease time.Duration
	// PollInterval is how often Run looks for new journal events and due deliveries
	// when not kicked (2 s).
	PollInterval time.Duration
	// Concurrency is how many deliveries one Run sends at once (4).
	Concurrency int
	// Retention is how long delivered and failed deliveries stay in the log (30 days);
	// negative keeps them for ever.
	Retention time.Duration
	// UserAgent is sent with every request (Chamber-Webhooks/1).
	UserAgent string
}

// Service manages a council's webhook endpoints and, in Run, delivers their webhooks.
type Service struct {
	store  Store
	log    *slog.Logger
	now    func() time.Time
	random io.Reader
	policy addressPolicy
	client *http.Client
	opts   Options

	kick chan struct{} // wakes the dispatcher
	wake chan struct{} // wakes the worker
}

// NewService returns a Service over store.
func NewService(store Store, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.Timeout, 10*time.Second)
	def(&opts.BackoffBase, time.Minute)
	def(&opts.BackoffMax, 8*time.Hour)
	def(&opts.Lease, 2*time.Minute)
	def(&opts.PollInterval, 2*time.Second)
	if opts.Retention == 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 64 << 10
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 12
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "Chamber-Webhooks/1"
	}
	p := addressPolicy{allow: slices.Clone(opts.AllowNetworks)}
	return &Service{store: store, log: opts.Logger, now: opts.Now, random: opts.Random, policy: p,
		client: p.client(opts.Timeout), opts: opts, kick: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
}

// clock returns the current time in UTC to the microsecond, as both databases keep it.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

var (
	_ agenda.Publisher = (*Service)(nil)
	_ voting.Publisher = (*Service)(nil)
)

// Kick wakes the dispatcher of every Run of this Service: a journal has new events.
// It never blocks.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Publish kicks the dispatcher, so that the Service may be one of the agenda's (and the
// minutes') publishers.
func (s *Service) Publish(context.Context, ...agenda.Event) { s.Kick() }

// PublishVote kicks the dispatcher for a poll's journal events, so that the Service may
// be one of the voting service's publishers.
func (s *Service) PublishVote(_ context.Context, e voting.VoteEvent) {
	if e.Seq > 0 {
		s.Kick()
	}
}

func (s *Service) wakeWorker() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// EndpointInput creates an endpoint.
type EndpointInput struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
	// EventTypes are the types to receive; none means DefaultEventTypes.
	EventTypes []string `json:"event_types,omitempty"`
	// Active defaults to true.
	Active *bool `json:"active,omitempty"`
}

// EndpointPatch changes an endpoint; nil fields stay as they are.
type EndpointPatch struct {
	URL         *string   `json:"url,omitempty"`
	Description *string   `json:"description,omitempty"`
	EventTypes  *[]string `json:"event_types,omitempty"`
	Active      *bool     `json:"active,omitempty"`
}

// check normalises and checks the fields an endpoint's clerk sets.
func (s *Service) check(e *Endpoint) error {
	u, err := s.policy.checkURL(e.URL)
	if err != nil {
		return err
	}
	e.URL = u
	e.Description = strings.TrimSpace(e.Description)
	if !utf8.ValidString(e.Description) || utf8.RuneCountInString(e.Description) > MaxDescription {
		return invalid("description must be UTF-8 of at most %d characters", MaxDescription)
	}
	if len(e.EventTypes) == 0 {
		return invalid("event_types must name at least one event type")
	}
	types := make([]string, 0, len(e.EventTypes))
	for _, t := range e.EventTypes {
		t = strings.TrimSpace(t)
		if !knownType(t) {
			return invalid("event_types: %q is not an event type webhooks deliver", t)
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	slices.Sort(types)
	e.EventTypes = types
	return nil
}

// CreateEndpoint adds an endpoint to a council and makes its signing secret, which the
// answer carries and nothing later shows. Clerks of the council and admins only.
func (s *Service) CreateEndpoint(ctx context.Context, actor agenda.Actor, councilID int64, in EndpointInput) (EndpointSecret, error) {
	if !actor.IsClerk(councilID) {
		return EndpointSecret{}, forbid(actor, "create a webhook: only the council's clerks")
	}
	now := s.clock()
	e := Endpoint{CouncilID: councilID, URL: in.URL, Description: in.Description, EventTypes: slices.Clone(in.EventTypes),
		Active: in.Active == nil || *in.Active, CreatedBy: actor.UserID, CreatedAt: now, UpdatedAt: now}
	if len(e.EventTypes) == 0 {
		e.EventTypes = slices.Clone(DefaultEventTypes)
	}
	if err := s.check(&e); err != nil {
		return EndpointSecret{}, err
	}
	secret, err := newSecret(s.random)
	if err != nil {
		return EndpointSecret{}, err
	}
	e.Keys = SigningKeys{Current: secret}
	err = s.store.Update(ctx, func(tx Tx) error {
		all, err := tx.ListEndpoints(ctx, councilID)
		if err != nil {
			return err
		}
		if len(all) >= MaxEndpoints {
			return conflict("council %d has %d webhooks, the most allowed", councilID, MaxEndpoints)
		}
		return tx.CreateEndpoint(ctx, &e)
	})
	if err != nil {
		return EndpointSecret{}, err
	}
	s.log.Info("webhook created", "council", councilID, "webhook", e.ID, "by", actor)
	return EndpointSecret{Endpoint: e, Secret: secret}, nil
}

// ListEndpoints lists a council's endpoints. Clerks of the council and admins only.
func (s *Service) ListEndpoints(ctx context.Context, actor agenda.Actor, councilID int64) ([]Endpoint, error) {
	if !actor.IsClerk(councilID) {
		return nil, forbid(actor, "list webhooks: only the council's clerks")
	}
	var out []Endpoint
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.ListEndpoints(ctx, councilID)
		return err
	})
	if out == nil {
		out = []Endpoint{}
	}
	return out, err
}

// endpoint loads an endpoint the actor may manage.
func endpoint(ctx context.Context, tx Tx, actor agenda.Actor, id int64) (Endpoint, error) {
	if actor.Anonymous() {
		return Endpoint{}, forbid(actor, "webhooks")
	}
	e, err := tx.GetEndpoint(ctx, id)
	if err != nil {
		return Endpoint{}, err
	}
	if !actor.IsClerk(e.CouncilID) {
		return Endpoint{}, forbid(actor, "webhooks: only the council's clerks")
	}
	return e, nil
}

// GetEndpoint returns an endpoint. Clerks of its council and admins only.
func (s *Service) GetEndpoint(ctx context.Context, actor agenda.Actor, id int64) (Endpoint, error) {
	var e Endpoint
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		e, err = endpoint(ctx, tx, actor, id)
		return err
	})
	return e, err
}

// UpdateEndpoint changes an endpoint's URL, description, event types or active flag.
// Deactivating it fails its pending deliveries (each may be redelivered later). Clerks
// of its council and admins only.
func (s *Service) UpdateEndpoint(ctx context.Context, actor agenda.Actor, id int64, p EndpointPatch) (Endpoint, error) {
	var e Endpoint
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		if e, err = endpoint(ctx, tx, actor, id); err != nil {
			return err
		}
		wasActive := e.Active
		if p.URL != nil {
			e.URL = *p.URL
		}
		if p.Description != nil {
			e.Description = *p.Description
		}
		if p.EventTypes != nil {
			e.EventTypes = slices.Clone(*p.EventTypes)
		}
		if p.Active != nil {
			e.Active = *p.Active
		}
		if err := s.check(&e); err != nil {
			return err
		}
		e.UpdatedAt = s.clock()
		if err := tx.UpdateEndpoint(ctx, e); err != nil {
			return err
		}
		if wasActive && !e.Active {
			return tx.CancelPending(ctx, e.ID, e.UpdatedAt, "cancelled: the webhook was deactivated")
		}
		return nil
	})
	if err != nil {
		return Endpoint{}, err
	}
	s.log.Info("webhook updated", "webhook", id, "active", e.Active, "by", actor)
	return e, nil
}

// DeleteEndpoint deletes an endpoint with its deliveries and their log. Clerks of its
// council and admins only.
func (s *Service) DeleteEndpoint(ctx context.Context, actor agenda.Actor, id int64) error {
	err := s.store.Update(ctx, func(tx Tx) error {
		if _, err := endpoint(ctx, tx, actor, id); err != nil {
			return err
		}
		return tx.DeleteEndpoint(ctx, id)
	})
	if err != nil {
		return err
	}
	s.log.Info("webhook deleted", "webhook", id, "by", actor)
	return nil
}

// RotateSecret gives an endpoint a new signing secret, which the answer carries and
// nothing later shows. For grace (at most MaxGrace; 0 revokes it at once) the old secret
// also signs requests, so that the receiver can move to the new one without refusing
// deliveries. Clerks of its council and admins only.
func (s *Service) RotateSecret(ctx context.Context, actor agenda.Actor, id int64, grace time.Duration) (EndpointSecret, error) {
	if grace < 0 || grace > MaxGrace {
		return EndpointSecret{}, invalid("grace must be between 0 and %s", MaxGrace)
	}
	secret, err := newSecret(s.random)
	if err != nil {
		return EndpointSecret{}, err
	}
	var e Endpoint
	err = s.store.Update(ctx, func(tx Tx) error {
		var err error
		if e, err = endpoint(ctx, tx, actor, id); err != nil {
			return err
		}
		now := s.clock()
		old := e.Keys.Current
		e.Keys, e.PreviousSecretExpires, e.UpdatedAt = SigningKeys{Current: secret}, nil, now
		if grace > 0 {
			until := now.Add(grace)
			e.Keys.Previous, e.PreviousSecretExpires = old, &until
		}
		return tx.UpdateEndpoint(ctx, e)
	})
	if err != nil {
		return EndpointSecret{}, err
	}
	s.log.Info("webhook secret rotated", "webhook", id, "grace", grace, "by", actor)
	return EndpointSecret{Endpoint: e, Secret: secret}, nil
}

// ListDeliveries lists an endpoint's deliveries, newest first, a page at a time.
// Clerks of its council and admins only.
func (s *Service) ListDeliveries(ctx context.Context, actor agenda.Actor, endpointID int64, q DeliveryQuery) (agenda.Page[Delivery], error) {
	f := DeliveryFilter{EndpointID: endpointID, Status: q.Status, After: q.Cursor, Limit: q.Limit}
	switch {
	case f.Status != "" && !f.Status.Valid():
		return agenda.Page[Delivery]{}, invalid("status must be pending, delivered or failed")
	case f.Limit == 0:
		f.Limit = agenda.DefaultPageSize
	case f.Limit < 0 || f.Limit > agenda.MaxPageSize:
		return agenda.Page[Delivery]{}, invalid("limit must be between 1 and %d", agenda.MaxPageSize)
	}
	if f.After != "" && (!strings.HasPrefix(f.After, "dlv_") || len(f.After) != 30) {
		return agenda.Page[Delivery]{}, invalid("cursor is not a cursor this server gave")
	}
	page := agenda.Page[Delivery]{Items: []Delivery{}}
	err := s.store.View(ctx, func(tx Tx) error {
		if _, err := endpoint(ctx, tx, actor, endpointID); err != nil {
			return err
		}
		f.Limit++ // one more, to know whether there is a next page
		ds, err := tx.ListDeliveries(ctx, f)
		if err != nil {
			return err
		}
		if len(ds) == f.Limit {
			ds = ds[:f.Limit-1]
			page.Next = ds[len(ds)-1].ID
		}
		page.Items = append(page.Items, ds...)
		return nil
	})
	return page, err
}

// delivery loads a delivery of an endpoint the actor may manage.
func delivery(ctx context.Context, tx Tx, actor agenda.Actor, endpointID int64, id string) (Endpoint, Delivery, error) {
	e, err := endpoint(ctx, tx, actor, endpointID)
	if err != nil {
		return Endpoint{}, Delivery{}, err
	}
	d, err := tx.GetDelivery(ctx, id)
	if err != nil {
		return Endpoint{}, Delivery{}, err
	}
	if d.EndpointID != endpointID {
		return Endpoint{}, Delivery{}, fmt.Errorf("delivery %s of webhook %d: %w", id, endpointID, ErrNotFound)
	}
	return e, d, nil
}

// GetDelivery returns a delivery with its log. Clerks of its council and admins only.
func (s *Service) GetDelivery(ctx context.Context, actor agenda.Actor, endpointID int64, id string) (DeliveryDetail, error) {
	var out DeliveryDetail
	err := s.store.View(ctx, func(tx Tx) error {
		_, d, err := delivery(ctx, tx, actor, endpointID, id)
		if err != nil {
			return err
		}
		out.Delivery = d
		out.Log, err = tx.Attempts(ctx, id)
		return err
	})
	if out.Log == nil {
		out.Log = []Attempt{}
	}
	return out, err
}

// Redeliver sends a delivery again, now, whatever became of it: it is pending again
// with a fresh count of attempts, keeps its id and payload, and its log goes on. The
// endpoint must be active, and the delivery not being sent at this moment. Clerks of
// its council and admins only.
func (s *Service) Redeliver(ctx context.Context, actor agenda.Actor, endpointID int64, id string) (Delivery, error) {
	var d Delivery
	err := s.store.Update(ctx, func(tx Tx) error {
		e, got, err := delivery(ctx, tx, actor, endpointID, id)
		if err != nil {
			return err
		}
		d = got
		now := s.clock()
		if !e.Active {
			return conflict("webhook %d is not active", endpointID)
		}
		if d.Status == Pending && d.LockedUntil != nil && d.LockedUntil.After(now) {
			return conflict("delivery %s is being sent", id)
		}
		d.Status, d.Attempts, d.NextAttemptAt, d.DeliveredAt = Pending, 0, &now, nil
		_, err = tx.SettleDelivery(ctx, d, "")
		return err
	})
	if err != nil {
		return Delivery{}, err
	}
	s.log.Info("webhook redelivery", "webhook", endpointID, "delivery", id, "by", actor)
	s.wakeWorker()
	return d, nil
}
