package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	agendasql "github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/agenda/webhooks/sqlstore"
	"github.com/chamber/chamber/migrations"
)

// secret is planted in everything private: it must never reach a receiver.
const secret = "Operation Blue Heron"

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// loopback lets the test's receivers, on 127.0.0.1, be reached.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// world is the agenda on a fresh database with two councils: Cwm Derwen, with its
// admin, clerk, a councillor and a Planning Committee, and Aberhafod with its own clerk.
type world struct {
	t      *testing.T
	ctx    context.Context
	db     *migrations.DB
	clock  *fakeClock
	agenda *agenda.Service
	store  *sqlstore.Store

	council, other                     agenda.Council
	admin, clerk, councillor, outsider agenda.Actor
	committee                          agenda.Committee
}

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func newWorld(t *testing.T, db *migrations.DB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, ctx: ctx, db: db, clock: &fakeClock{now: time.Date(2026, 5, 6, 17, 0, 0, 0, time.UTC)}, store: sqlstore.New(db)}
	w.agenda = agenda.NewService(agendasql.New(db), agenda.Options{Now: w.clock.Now,
		Password: agenda.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	actor := func(id int64) agenda.Actor {
		a, err := w.agenda.Actor(ctx, id)
		w.must(err)
		return a
	}
	u, err := w.agenda.CreateAdmin(ctx, "admin@cwmderwen.example", "Ada Admin", "correct horse battery")
	w.must(err)
	w.admin = actor(u.ID)
	w.council, err = w.agenda.CreateCouncil(ctx, w.admin, agenda.CouncilInput{Name: "Cwm Derwen County Borough Council"})
	w.must(err)
	w.other, err = w.agenda.CreateCouncil(ctx, w.admin, agenda.CouncilInput{Name: "Aberhafod Town Council"})
	w.must(err)
	add := func(c agenda.Council, name, email string, role agenda.CouncilRole) int64 {
		p, err := w.agenda.AddPerson(ctx, w.admin, c.ID, agenda.PersonInput{Name: name, Email: email, Role: role})
		w.must(err)
		return p.UserID
	}
	w.clerk = actor(add(w.council, "Rhian Pritchard", "rhian@cwmderwen.example", agenda.RoleClerk))
	w.councillor = actor(add(w.council, "Eleri Morgan", "eleri@cwmderwen.example", agenda.RoleCouncillor))
	w.outsider = actor(add(w.other, "Iwan Jones", "iwan@aberhafod.example", agenda.RoleClerk))
	w.committee, err = w.agenda.CreateCommittee(ctx, w.clerk, w.council.ID, agenda.CommitteeInput{Name: "Planning Committee", Profile: "wales"})
	w.must(err)
	return w
}

// service returns a webhooks Service on the world's database, on its clock, that may
// reach loopback receivers and polls often; change adjusts its options.
func (w *world) service(change ...func(*webhooks.Options)) *webhooks.Service {
	opts := webhooks.Options{Now: w.clock.Now, AllowNetworks: loopback, PollInterval: 50 * time.Millisecond,
		Timeout: 5 * time.Second, Lease: time.Minute, Retention: -1}
	for _, c := range change {
		c(&opts)
	}
	return webhooks.NewService(w.store, opts)
}

// run runs svc until the returned function is called, which waits for Run to return.
func (w *world) run(svc *webhooks.Service) (stop func()) {
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				w.t.Errorf("Run: %v", err)
			}
		})
	}
	w.t.Cleanup(stop)
	return stop
}

// meeting schedules a meeting of the committee.
func (w *world) meeting(title string, published bool) agenda.Meeting {
	w.t.Helper()
	m, err := w.agenda.CreateMeeting(w.ctx, w.clerk, agenda.MeetingInput{CommitteeID: w.committee.ID, Title: title,
		StartsAt: time.Date(2026, 5, 6, 17, 30, 0, 0, time.UTC), Location: "Council Chamber", Published: published})
	w.must(err)
	return m
}

// journal appends an event to a meeting's journal as the voting and minutes stores do,
// and returns its sequence number.
func (w *world) journal(meetingID int64, typ string, private bool, data any) int64 {
	w.t.Helper()
	b, err := json.Marshal(data)
	w.must(err)
	tx, err := w.db.BeginTxx(w.ctx, nil)
	w.must(err)
	defer tx.Rollback()
	var seq int64
	w.must(tx.GetContext(w.ctx, &seq, tx.Rebind(`UPDATE meetings SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq`), meetingID))
	_, err = tx.ExecContext(w.ctx, tx.Rebind(`INSERT INTO events (meeting_id, seq, type, at, actor_id, private, data) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		meetingID, seq, typ, w.clock.Now().UTC(), w.clerk.UserID, private, string(b))
	w.must(err)
	w.must(tx.Commit())
	return seq
}

// privateSeqs returns the sequence numbers of a meeting's private events.
func (w *world) privateSeqs(meetingID int64) []int64 {
	w.t.Helper()
	var seqs []int64
	w.must(w.db.SelectContext(w.ctx, &seqs, w.db.Rebind(`SELECT seq FROM events WHERE meeting_id = ? AND private ORDER BY seq`), meetingID))
	return seqs
}

// received is one request a receiver took.
type received struct {
	Header  http.Header
	Body    []byte
	Payload webhooks.Payload
}

// receiver is a webhook receiver on 127.0.0.1 that checks every request's signature
// against its secrets, at the world's clock, and keeps what it receives.
type receiver struct {
	t     *testing.T
	srv   *httptest.Server
	clock *fakeClock

	mu      sync.Mutex // guards the fields below
	secrets []string
	got     []received
	bad     []string
	// respond, if set, answers the n-th request (after it has been recorded) with a
	// status, headers (set on h) and a body; otherwise the answer is 204.
	respond func(n int, r received, h http.Header) (int, string)
}

func newReceiver(t *testing.T, clock *fakeClock) *receiver {
	rc := &receiver{t: t, clock: clock}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) URL() string { return rc.srv.URL + "/hooks/chamber" }

func (rc *receiver) setSecrets(s ...string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secrets = s
}

func (rc *receiver) setRespond(f func(n int, r received, h http.Header) (int, string)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.respond = f
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := received{Header: r.Header.Clone(), Body: body}
	rc.mu.Lock()
	problem := ""
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		problem = r.Method + " " + r.Header.Get("Content-Type")
	}
	ok := false
	var errs []error
	for _, s := range rc.secrets {
		err := webhooks.VerifyRequest(r, body, s, rc.clock.Now(), 0)
		ok = ok || err == nil
		errs = append(errs, err)
	}
	if !ok {
		problem = "signature: " + errors.Join(errs...).Error()
	}
	if err := json.Unmarshal(body, &rec.Payload); err != nil {
		problem = "body: " + err.Error()
	}
	if id, typ := r.Header.Get(webhooks.HeaderDelivery), r.Header.Get(webhooks.HeaderEvent); id != rec.Payload.ID || typ != rec.Payload.Type {
		problem = "headers " + id + " " + typ + " do not match the payload"
	}
	if problem != "" {
		rc.bad = append(rc.bad, problem)
		rc.mu.Unlock()
		http.Error(w, problem, http.StatusUnauthorized)
		return
	}
	rc.got = append(rc.got, rec)
	n, respond := len(rc.got), rc.respond
	rc.mu.Unlock()
	status, answer := http.StatusNoContent, ""
	if respond != nil {
		status, answer = respond(n, rec, w.Header())
	}
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

// received returns what the receiver has taken so far, checking that every request
// was well signed.
func (rc *receiver) received() []received {
	rc.t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) > 0 {
		rc.t.Fatalf("receiver refused requests: %v", rc.bad)
	}
	return slices.Clone(rc.got)
}

// distinct returns the deliveries received, each once, by id.
func (rc *receiver) distinct() map[string]received {
	out := map[string]received{}
	for _, r := range rc.received() {
		out[r.Payload.ID] = r
	}
	return out
}

// eventually waits up to twenty seconds for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// endpoint creates an endpoint for rc and tells rc its secret.
func (w *world) endpoint(svc *webhooks.Service, actor agenda.Actor, council agenda.Council, rc *receiver, types ...string) webhooks.Endpoint {
	w.t.Helper()
	e, err := svc.CreateEndpoint(w.ctx, actor, council.ID, webhooks.EndpointInput{URL: rc.URL(), EventTypes: types})
	w.must(err)
	rc.setSecrets(e.Secret)
	return e.Endpoint
}

// deliveries lists every delivery of an endpoint, as its clerk sees them.
func (w *world) deliveries(svc *webhooks.Service, endpointID int64) []webhooks.Delivery {
	w.t.Helper()
	page, err := svc.ListDeliveries(w.ctx, w.clerk, endpointID, webhooks.DeliveryQuery{Limit: agenda.MaxPageSize})
	w.must(err)
	return page.Items
}

// delivery returns one delivery with its log.
func (w *world) delivery(svc *webhooks.Service, endpointID int64, id string) webhooks.DeliveryDetail {
	w.t.Helper()
	d, err := svc.GetDelivery(w.ctx, w.clerk, endpointID, id)
	w.must(err)
	return d
}
