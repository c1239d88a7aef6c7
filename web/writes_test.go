package web_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/web"
)

// writeCase is what the refusal test knows about one write route: a request a clerk
// (or admin) could make successfully, and the variants of it that must be refused.
type writeCase struct {
	path string
	// body is a valid body: JSON, or CSV when contentType says so. Empty for none.
	body        string
	contentType string
	// forbidden is the status an outsider (a councillor of another council) gets with
	// the valid body; 0 when any signed-in user may call the route.
	forbidden int
	// invalid is a body that fails validation (422).
	invalid string
	// invalidProblem is the problem type invalid gets, when not validation.
	invalidProblem string
	// invalidPath, when set, is the path to send invalid to.
	invalidPath string
	// conflict, when set, is a request refused because of the state of things (409).
	conflict *request
	// conflictProblem is the problem type conflict gets, when not conflict.
	conflictProblem string
	// missing are paths naming something that does not exist, sent with the valid body
	// by the admin (404).
	missing []string
	// clerk sends the valid request in the control test, instead of the admin.
	clerk bool
	// by, when set, sends the valid request in the control test: a ballot's signer.
	by *client
	// issues marks a route whose success hands out a credential and stores nothing.
	issues bool
	// refuseAs, when set, sends the invalid and conflicting requests instead of the
	// admin: for routes that only one role may call, such as the chair's.
	refuseAs *client
}

func (w *world) writeCases() map[string]writeCase {
	m := w.meeting
	live := w.live
	p := path
	csvInvalid := "title,kind,exempt_paragraph\nFine,,\n,standard,\nSecret,exempt,\n"
	cases := map[string]writeCase{
		"login": {path: "/api/v1/auth/login", body: `{"email":"nobody@example.org","password":"wrong password","mode":"token","token_name":"x"}`,
			invalid: `{"email":"a@example.org","password":"x","mode":"sideways"}`},
		"logout":      {path: "/api/v1/auth/logout"},
		"createToken": {path: "/api/v1/me/tokens", body: `{"name":"laptop"}`, invalid: `{"name":""}`},
		"revokeToken": {path: p("/api/v1/me/tokens/%d", w.clerkTokenID), forbidden: http.StatusNotFound, clerk: true},
		"createSignInLink": {path: p("/api/v1/users/%d/sign-in-links", w.chairID), body: `{"redirect":"/meetings/1"}`, forbidden: http.StatusForbidden,
			invalid: `{"redirect":"https://evil.example/"}`, missing: []string{"/api/v1/users/999999/sign-in-links"}},
		"acceptInvitation": {path: "/api/v1/invitations/" + w.inviteToken + "/accept", body: `{"password":"a good long password"}`,
			invalid: `{"password":"short"}`},
		"createCouncil": {path: "/api/v1/councils", body: `{"name":"East Shire Council"}`, forbidden: http.StatusForbidden, invalid: `{"name":"  "}`,
			conflict: &request{method: "POST", path: "/api/v1/councils", body: []byte(`{"name":"North Shire Council"}`)}},
		"addPerson": {path: p("/api/v1/councils/%d/people", w.council), body: `{"name":"New Person","email":"new@north.example","role":"officer"}`,
			forbidden: http.StatusForbidden, invalid: `{"name":"","email":"not an email","role":"king"}`},
		"reinvite": {path: p("/api/v1/councils/%d/people/%d/reinvite", w.council, w.chairID), forbidden: http.StatusForbidden,
			conflict: &request{method: "POST", path: p("/api/v1/councils/%d/people/%d/reinvite", w.council, w.memberID)},
			missing:  []string{p("/api/v1/councils/%d/people/999999/reinvite", w.council)}},
		"createCommittee": {path: p("/api/v1/councils/%d/committees", w.council), body: `{"name":"Licensing Committee"}`, forbidden: http.StatusForbidden,
			invalid:  `{"name":"Audit","profile":"mars"}`,
			conflict: &request{method: "POST", path: p("/api/v1/councils/%d/committees", w.council), body: []byte(`{"name":"Planning Committee"}`)}},
		"updateCommittee": {path: p("/api/v1/committees/%d", w.committee), body: `{"name":"Planning and Highways"}`, forbidden: http.StatusForbidden,
			invalid: `{"profile":"mars"}`},
		"putMember": {path: p("/api/v1/committees/%d/members/%d", w.committee, w.memberID), body: `{"role":"vice_chair"}`, forbidden: http.StatusForbidden,
			invalid:  `{"role":"king"}`,
			conflict: &request{method: "PUT", path: p("/api/v1/committees/%d/members/%d", w.committee, w.memberID), body: []byte(`{"role":"chair"}`)}},
		"removeMember": {path: p("/api/v1/committees/%d/members/%d", w.committee, w.subID), forbidden: http.StatusForbidden},
		"createMeeting": {path: "/api/v1/meetings", body: p(`{"committee_id":%d,"title":"Another","starts_at":"2026-07-01T18:00:00Z"}`, w.committee),
			forbidden: http.StatusForbidden, invalid: `{"committee_id":0,"title":"","starts_at":"0001-01-01T00:00:00Z"}`},
		"updateMeeting": {path: p("/api/v1/meetings/%d", m), body: `{"title":"Planning Committee (rearranged)"}`, forbidden: http.StatusForbidden,
			invalid: `{"title":""}`},
		"startMeeting": {path: p("/api/v1/meetings/%d/start", m), forbidden: http.StatusForbidden,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/start", live)}},
		"adjournMeeting": {path: p("/api/v1/meetings/%d/adjourn", live), forbidden: http.StatusForbidden,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/adjourn", m)}},
		"resumeMeeting": {path: p("/api/v1/meetings/%d/resume", w.adjourned), forbidden: http.StatusForbidden,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/resume", live)}},
		"closeMeeting": {path: p("/api/v1/meetings/%d/close", live), forbidden: http.StatusForbidden,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/close", m)}},
		"nextItem": {path: p("/api/v1/meetings/%d/next", live), forbidden: http.StatusForbidden,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/next", m)}},
		"previousItem": {path: p("/api/v1/meetings/%d/previous", live), forbidden: http.StatusForbidden,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/previous", w.adjourned)}},
		"setCurrentItem": {path: p("/api/v1/meetings/%d/current", live), body: p(`{"item_id":%d}`, w.liveItem3), forbidden: http.StatusForbidden,
			invalid:  `{"item_id":999999}`,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/current", live), body: []byte(p(`{"item_id":%d}`, w.liveItem2))}},
		"setSession": {path: p("/api/v1/meetings/%d/session", live), body: `{"private":true,"paragraph":3,"reason":"exempt"}`, forbidden: http.StatusForbidden,
			invalid:  `{"private":true,"paragraph":0}`,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/session", live), body: []byte(`{"private":false}`)}},
		"addItem": {path: p("/api/v1/meetings/%d/items", m), body: `{"title":"Urgent item"}`, forbidden: http.StatusForbidden,
			invalid: `{"title":"","kind":"secret"}`},
		"updateItem": {path: p("/api/v1/meetings/%d/items/%d", m, w.standardItem), body: `{"title":"Apologies"}`, forbidden: http.StatusForbidden,
			invalid: `{"kind":"secret"}`, missing: []string{p("/api/v1/meetings/%d/items/999999", m)}},
		"removeItem": {path: p("/api/v1/meetings/%d/items/%d", m, w.standardItem), forbidden: http.StatusForbidden,
			conflict: &request{method: "DELETE", path: p("/api/v1/meetings/%d/items/%d", live, w.liveItem)},
			missing:  []string{p("/api/v1/meetings/%d/items/999999", m), p("/api/v1/meetings/%d/items/%d", m, w.liveItem)}},
		"reorderAgenda": {path: p("/api/v1/meetings/%d/agenda/order", m), body: p(`{"order":[%d,%d,%d]}`, w.exemptItem, w.planningItem, w.standardItem),
			forbidden: http.StatusForbidden, invalid: p(`{"order":[%d]}`, w.standardItem)},
		"importAgenda": {path: p("/api/v1/meetings/%d/agenda/import", m), body: "title\nExtra item\n", contentType: "text/csv", forbidden: http.StatusForbidden,
			invalid:  csvInvalid,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/agenda/import?replace=true", live), body: []byte("title\nOnly item\n"), contentType: "text/csv"}},
		"recordApology": {path: p("/api/v1/meetings/%d/apologies", m), body: p(`{"user_id":%d,"reason":"Unwell"}`, w.chairID), forbidden: http.StatusForbidden,
			invalid:  p(`{"user_id":%d}`, w.outsiderID),
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/apologies", live), body: []byte(p(`{"user_id":%d}`, w.chairID))}},
		"withdrawApology": {path: p("/api/v1/meetings/%d/apologies/%d", m, w.memberID), forbidden: http.StatusForbidden},
		"recordSubstitution": {path: p("/api/v1/meetings/%d/substitutions", m), body: p(`{"substitute_id":%d,"member_id":%d}`, w.subID, w.chairID),
			forbidden: http.StatusForbidden, invalid: p(`{"substitute_id":%d,"member_id":%d}`, w.memberID, w.subID)},
		"removeSubstitution": {path: p("/api/v1/meetings/%d/substitutions/%d", m, w.subID), forbidden: http.StatusForbidden},
		"declareInterest": {path: p("/api/v1/meetings/%d/declarations", m), body: p(`{"user_id":%d,"item_id":%d,"kind":"prejudicial","description":"Owns the land"}`, w.chairID, w.planningItem),
			forbidden: http.StatusForbidden, invalid: p(`{"user_id":%d,"kind":"vague","description":""}`, w.chairID)},
		"proposeMotion": {path: p("/api/v1/meetings/%d/motions", live), body: p(`{"item_id":%d,"text":"That it be noted.","proposer_id":%d}`, w.liveItem, w.chairID),
			forbidden: http.StatusForbidden, invalid: p(`{"item_id":%d,"text":"","proposer_id":%d}`, w.liveItem, w.chairID)},
		"updateMotion": {path: p("/api/v1/meetings/%d/motions/%d", live, w.motion), body: p(`{"seconder_id":%d}`, w.memberID), forbidden: http.StatusForbidden,
			invalid: `{"status":"bogus"}`, missing: []string{p("/api/v1/meetings/%d/motions/999999", live)}},
		"recordArrival": {path: p("/api/v1/meetings/%d/attendance", live), body: p(`{"user_id":%d,"mode":"remote_voting"}`, w.memberID), forbidden: http.StatusForbidden,
			invalid: p(`{"user_id":%d,"mode":"floating"}`, w.memberID)},
		"recordDeparture": {path: p("/api/v1/meetings/%d/attendance/%d/departure", live, w.chairID), forbidden: http.StatusForbidden,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/attendance/%d/departure", live, w.memberID)}},
		"registerSpeaker": {path: p("/api/v1/meetings/%d/speakers", m), body: p(`{"item_id":%d,"name":"Alan Applicant","capacity":"applicant"}`, w.planningItem),
			forbidden: http.StatusForbidden, invalid: p(`{"item_id":%d,"name":"","capacity":"heckler"}`, w.exemptItem)},
		"removeSpeaker": {path: p("/api/v1/meetings/%d/speakers/%d", m, w.speaker), forbidden: http.StatusForbidden,
			missing: []string{p("/api/v1/meetings/%d/speakers/999999", m)}},
		"joinRoom": {path: p("/api/v1/meetings/%d/join", live), issues: true,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/join", w.closed)}},
		"joinConsole": {path: p("/api/v1/meetings/%d/console/join", live), forbidden: http.StatusForbidden, issues: true,
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/console/join", w.closed)}},
		"speakerPass": {path: p("/api/v1/meetings/%d/speakers/%d/pass", m, w.speaker), forbidden: http.StatusForbidden, issues: true,
			missing:  []string{p("/api/v1/meetings/%d/speakers/999999/pass", m)},
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/speakers/%d/pass", w.closed, w.closedSpeaker)}},
		"speakerJoin": {path: "/api/v1/rtc/speaker-join", body: p(`{"pass":%q}`, w.speakerPass()), issues: true},

		// Signed votes.
		"enrolKey": {path: "/api/v1/me/keys", body: jsonBody(map[string]string{"public_key": newPublicKey(), "label": "tablet"}),
			invalid: `{"public_key":"not a key","label":"tablet"}`,
			conflict: &request{method: "POST", path: "/api/v1/me/keys",
				body: []byte(jsonBody(map[string]string{"public_key": voting.EncodePublicKey(w.keys[w.memberID].Public().(ed25519.PublicKey))}))}},
		"approveKey": {path: p("/api/v1/keys/%s/approve", w.pendingKey), forbidden: http.StatusForbidden,
			missing: []string{"/api/v1/keys/00000000000000000000000000000000/approve", "/api/v1/keys/not-a-key/approve"}},
		"revokeKey": {path: p("/api/v1/keys/%s/revoke", w.pendingKey), forbidden: http.StatusForbidden,
			missing: []string{"/api/v1/keys/00000000000000000000000000000000/revoke"}},
		"openPoll": {path: p("/api/v1/meetings/%d/polls", w.quietMeeting), body: `{"question":"That the audit report be noted."}`,
			forbidden: http.StatusForbidden, invalid: `{"method":"sideways"}`, invalidProblem: "invalid-poll",
			conflict: &request{method: "POST", path: p("/api/v1/meetings/%d/polls", w.votingMeeting), body: []byte(`{"question":"A second question"}`)}},
		"closePoll": {path: p("/api/v1/meetings/%d/polls/%d/close", w.votingMeeting, w.openPoll.ID), forbidden: http.StatusForbidden,
			conflict:        &request{method: "POST", path: p("/api/v1/meetings/%d/polls/%d/close", w.tiedMeeting, w.tiedPoll.ID)},
			conflictProblem: "poll-closed",
			missing: []string{p("/api/v1/meetings/%d/polls/999999/close", w.votingMeeting),
				p("/api/v1/meetings/%d/polls/%d/close", w.quietMeeting, w.openPoll.ID)}},
		"castBallot": {path: w.ballotsPath(w.openPoll), body: jsonBody(w.ballot(w.openPoll, w.memberID, "for", nil)),
			forbidden: http.StatusForbidden, by: w.member,
			invalid: jsonBody(badSignature(w.ballot(w.openPoll, w.memberID, "for", nil))), invalidProblem: "bad-signature",
			missing: []string{p("/api/v1/meetings/%d/polls/999999/ballots", w.votingMeeting),
				p("/api/v1/meetings/%d/polls/%d/ballots", w.quietMeeting, w.openPoll.ID)}},
		"castCastingVote": {path: p("/api/v1/meetings/%d/polls/%d/casting-vote", w.tiedMeeting, w.tiedPoll.ID),
			body:      jsonBody(w.ballot(w.tiedPoll, w.chairID, "for", func(b *voting.Ballot) { b.Casting = true })),
			forbidden: http.StatusForbidden, by: w.chair,
			invalid:        jsonBody(badSignature(w.ballot(w.tiedPoll, w.chairID, "for", func(b *voting.Ballot) { b.Casting = true }))),
			invalidProblem: "bad-signature",
			missing:        []string{p("/api/v1/meetings/%d/polls/999999/casting-vote", w.tiedMeeting)}},
		"recordInRoom": {path: p("/api/v1/meetings/%d/polls/%d/in-room", w.votingMeeting, w.openPoll.ID),
			body: jsonBody(web.InRoomRequest{Ballots: []voting.SignedBallot{
				w.ballot(w.openPoll, w.voterID, "against", func(b *voting.Ballot) { b.Recorder = w.clerkID })}}),
			forbidden: http.StatusForbidden, clerk: true, invalid: `{"ballots":[]}`,
			missing: []string{p("/api/v1/meetings/%d/polls/999999/in-room", w.votingMeeting)}},
	}
	maps.Copy(cases, w.minutesWriteCases())
	maps.Copy(cases, w.countWriteCases())
	maps.Copy(cases, w.castingWriteCases())
	return cases
}

// newPublicKey is a fresh Ed25519 public key in base64.
func newPublicKey() string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return voting.EncodePublicKey(pub)
}

// badSignature spoils a signed ballot's signature.
func badSignature(sb voting.SignedBallot) voting.SignedBallot {
	sb.Signature = bytes.Clone(sb.Signature)
	sb.Signature[0] ^= 1
	return sb
}

// TestWriteRoutesRefuse sends malformed, oversized, unauthenticated, unauthorised,
// invalid and conflicting requests to every write route of the route table, checks each
// answer's status and problem type, and checks that nothing was written.
func TestWriteRoutesRefuse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		cases := w.writeCases()
		seen := map[string]bool{}
		for _, rt := range e.srv.Routes() {
			if !rt.Write() {
				continue
			}
			seen[rt.ID] = true
			wc, ok := cases[rt.ID]
			if !ok {
				t.Errorf("write route %s %s (%s) has no refusal cases", rt.Method, rt.Pattern, rt.ID)
				continue
			}
			t.Run(rt.ID, func(t *testing.T) {
				w.env.t = t
				defer func() { w.env.t = e.t }()
				before := e.snapshot()
				for _, c := range refusals(w, rt, wc) {
					resp := c.client.send(c.req)
					var p web.Problem
					if err := checkProblem(resp, c.status, c.problem, &p); err != nil {
						t.Errorf("%s: %v", c.name, err)
						continue
					}
					if c.status == http.StatusMethodNotAllowed && resp.header.Get("Allow") == "" {
						t.Errorf("%s: 405 without Allow", c.name)
					}
					if c.problem == "validation" && len(p.Errors) == 0 {
						t.Errorf("%s: validation problem without errors: %s", c.name, resp.body)
					}
				}
				if d := diffSnapshots(before, e.snapshot()); d != "" {
					t.Errorf("refused requests to %s wrote:\n%s", rt.ID, d)
				}
			})
		}
		for id := range maps.Keys(cases) {
			if !seen[id] {
				t.Errorf("refusal cases for %q, which is not a write route", id)
			}
		}
	})
}

type refusal struct {
	name    string
	client  *client
	req     request
	status  int
	problem string
}

// refusals lists the requests to send to one write route and what each must get.
func refusals(w *world, rt web.Route, wc writeCase) []refusal {
	ct := wc.contentType
	if ct == "" && wc.body != "" {
		ct = "application/json"
	}
	valid := request{method: rt.Method, path: wc.path, body: []byte(wc.body), contentType: ct}
	if wc.body == "" {
		valid.body, valid.contentType = nil, ""
	}
	with := func(f func(*request)) request {
		r := valid
		r.body = bytes.Clone(valid.body)
		f(&r)
		return r
	}
	// admin is allowed everything, so that what is wrong is what the case varies.
	admin := w.admin
	refuser := admin
	if wc.refuseAs != nil {
		refuser = wc.refuseAs
	}
	var out []refusal
	add := func(name string, c *client, r request, status int, problem string) {
		out = append(out, refusal{name: name, client: c, req: r, status: status, problem: problem})
	}

	if rt.Access == web.SignedIn {
		add("no credentials", w.public(), valid, http.StatusUnauthorized, "unauthenticated")
		add("unknown bearer token", w.bearer("chm_not-a-token"), valid, http.StatusUnauthorized, "unauthenticated")
	}
	if wc.forbidden == http.StatusForbidden {
		add("outsider", w.outsider, valid, http.StatusForbidden, "forbidden")
	} else if wc.forbidden == http.StatusNotFound {
		add("outsider", w.outsider, valid, http.StatusNotFound, "not-found")
	}
	segs := strings.Split(wc.path, "/")
	for i, seg := range segs {
		if _, err := strconv.ParseInt(seg, 10, 64); err != nil {
			continue
		}
		bad := slices.Clone(segs)
		bad[i] = "x"
		p := strings.Join(bad, "/")
		add("non-numeric id "+p, admin, with(func(r *request) { r.path = p }), http.StatusNotFound, "not-found")
	}
	for _, name := range []string{"meeting", "committee", "council"} {
		if strings.Contains(rt.Pattern, "{"+name+"}") {
			missing := replaceParam(rt.Pattern, wc.path, name, "999999")
			add("missing "+name, admin, with(func(r *request) { r.path = missing }), http.StatusNotFound, "not-found")
		}
	}
	for _, m := range wc.missing {
		add("missing "+m, admin, with(func(r *request) { r.path = m }), http.StatusNotFound, "not-found")
	}
	if rt.Request == nil {
		add("body where none is taken", admin, with(func(r *request) {
			r.body, r.contentType = []byte(`{"unexpected":true}`), "application/json"
		}), http.StatusBadRequest, "malformed-request")
	} else {
		if ct == "application/json" {
			add("malformed JSON", admin, with(func(r *request) { r.body = []byte(`{"name":`) }), http.StatusBadRequest, "malformed-request")
			add("trailing data", admin, with(func(r *request) { r.body = append(r.body, []byte(` {}`)...) }), http.StatusBadRequest, "malformed-request")
			add("unknown field", admin, with(func(r *request) { r.body = addField(r.body, "no_such_field", 1) }), http.StatusBadRequest, "malformed-request")
			add("wrong type", admin, with(func(r *request) { r.body = wrongType(r.body) }), http.StatusBadRequest, "malformed-request")
			add("empty body", admin, with(func(r *request) { r.body = nil }), http.StatusBadRequest, "malformed-request")
		} else {
			add("JSON that is not JSON", admin, with(func(r *request) {
				r.body, r.contentType = []byte(`{"items":[`), "application/json"
			}), http.StatusBadRequest, "malformed-request")
		}
		add("wrong media type", admin, with(func(r *request) { r.contentType = "text/plain" }), http.StatusUnsupportedMediaType, "unsupported-media-type")
		add("no media type", admin, with(func(r *request) { r.contentType = "" }), http.StatusUnsupportedMediaType, "unsupported-media-type")
		limit := 64 << 10
		if rt.ID == "importAgenda" {
			limit = 5 << 20
		}
		add("oversized", admin, with(func(r *request) { r.body = oversized(r.body, r.contentType, limit) }), http.StatusRequestEntityTooLarge, "too-large")
	}
	if rt.Request == nil || wc.body != "" {
		// A route that takes no body still refuses an oversized one.
		if rt.Request == nil {
			add("oversized", admin, with(func(r *request) {
				r.body, r.contentType = oversized([]byte(`{}`), "application/json", 64<<10), "application/json"
			}), http.StatusRequestEntityTooLarge, "too-large")
		}
	}
	if wc.invalid != "" {
		p := wc.path
		if wc.invalidPath != "" {
			p = wc.invalidPath
		}
		prob := "validation"
		if wc.invalidProblem != "" {
			prob = wc.invalidProblem
		}
		add("invalid", refuser, with(func(r *request) { r.path, r.body = p, []byte(wc.invalid) }), http.StatusUnprocessableEntity, prob)
	}
	if wc.conflict != nil {
		r := *wc.conflict
		if r.body != nil && r.contentType == "" {
			r.contentType = "application/json"
		}
		prob := "conflict"
		if wc.conflictProblem != "" {
			prob = wc.conflictProblem
		}
		add("conflict", refuser, r, http.StatusConflict, prob)
	}
	add("method not allowed", admin, request{method: "TRACE", path: wc.path}, http.StatusMethodNotAllowed, "method-not-allowed")
	if rt.ID == "login" {
		add("wrong password", w.public(), valid, http.StatusUnauthorized, "bad-credentials")
	}
	if rt.ID == "speakerJoin" {
		add("not a pass", w.public(), with(func(r *request) { r.body = []byte(`{"pass":"chm_nope"}`) }), http.StatusUnauthorized, "bad-credentials")
		add("a join token is not a pass", w.public(), with(func(r *request) {
			r.body = []byte(`{"pass":"` + w.observerToken() + `"}`)
		}), http.StatusUnauthorized, "bad-credentials")
	}
	if rt.ID == "acceptInvitation" {
		add("unknown invitation", w.public(), with(func(r *request) { r.path = "/api/v1/invitations/chl_nope/accept" }), http.StatusUnauthorized, "bad-credentials")
	}
	return out
}

// replaceParam puts value in place of the named parameter in a path made from pattern.
func replaceParam(pattern, p, name, value string) string {
	ps := strings.Split(pattern, "/")
	segs := strings.Split(p, "/")
	for i := range ps {
		if ps[i] == "{"+name+"}" && i < len(segs) {
			segs[i] = value
		}
	}
	return strings.Join(segs, "/")
}

func addField(body []byte, name string, v any) []byte {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		panic(err)
	}
	m[name] = v
	b, _ := json.Marshal(m)
	return b
}

// wrongType gives the body's first field (by name) a value no Go field accepts.
func wrongType(body []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		panic(err)
	}
	keys := slices.Sorted(maps.Keys(m))
	m[keys[0]] = []any{[]any{}}
	b, _ := json.Marshal(m)
	return b
}

// oversized pads a body of the given media type past limit bytes.
func oversized(body []byte, contentType string, limit int) []byte {
	pad := strings.Repeat("a", limit+1)
	if contentType == "text/csv" {
		return append(bytes.Clone(body), []byte("\""+pad+"\"\n")...)
	}
	return addField(body, "padding", pad)
}

// TestWriteCasesAreValid is the refusal test's control: each route's valid request,
// sent by the admin (or the clerk) on a fresh world, succeeds and writes. Without it a
// refusal could pass for the wrong reason. It checks the test's own data, so one
// dialect is enough.
func TestWriteCasesAreValid(t *testing.T) {
	probe := newWorld(t, newEnv(t, dbtest.Open(t, migrations.SQLite)))
	cases := probe.writeCases()
	for _, rt := range probe.srv.Routes() {
		if _, ok := cases[rt.ID]; !ok || !rt.Write() {
			continue
		}
		t.Run(rt.ID, func(t *testing.T) {
			w := probe.clone(t)
			e := w.env
			wc := w.writeCases()[rt.ID]
			c := w.admin
			switch {
			case wc.by != nil:
				c = wc.by
			case wc.clerk:
				c = w.clerk
			case rt.Access == web.Open:
				c = w.public()
			}
			ct := wc.contentType
			if ct == "" && wc.body != "" {
				ct = "application/json"
			}
			req := request{method: rt.Method, path: wc.path, contentType: ct}
			if wc.body != "" {
				req.body = []byte(wc.body)
			}
			before := e.snapshot()
			resp := c.send(req)
			if rt.ID == "login" {
				resp.problem(http.StatusUnauthorized, "bad-credentials") // the valid body names no account
				return
			}
			if resp.status != rt.Status {
				t.Fatalf("%s %s: status %d, want %d; body %s", rt.Method, wc.path, resp.status, rt.Status, resp.body)
			}
			switch d := diffSnapshots(before, e.snapshot()); {
			case wc.issues && d != "":
				t.Errorf("%s %s issues a credential but wrote:\n%s", rt.Method, wc.path, d)
			case !wc.issues && d == "":
				t.Errorf("%s %s succeeded but wrote nothing", rt.Method, wc.path)
			}
		})
	}
}
