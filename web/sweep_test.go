package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chamber/chamber/agenda/minutes/minutestest"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/web"
)

// planted is written into every part of an exempt item: it must never reach the public.
// It is one word, so that no export can break it across lines.
const planted = "BlueHeron7731"

// exemptMeeting is a meeting of the finance committee whose exempt item holds the
// planted phrase in its description, papers, notes, decision, a declaration, a motion
// and a recorded vote; closed, with minutes drafted, approved at a later meeting,
// published and corrected.
type exemptMeeting struct {
	id, item, exempt, motion int64
	poll                     voting.PollView
}

func (w *world) holdExemptMeeting() exemptMeeting {
	w.t.Helper()
	var x exemptMeeting
	x.id = w.clerk.create("/api/v1/meetings", map[string]any{"committee_id": w.finance, "title": "Finance Committee (property)",
		"starts_at": "2026-05-15T09:30:00Z", "location": "Committee Room 2", "published": true})
	items := path("/api/v1/meetings/%d/items", x.id)
	x.item = w.clerk.create(items, map[string]any{"number": "1", "title": "Budget monitoring", "description": "The first quarter's figures."})
	x.exempt = w.clerk.create(items, map[string]any{"number": "2", "title": "Disposal of the old depot", "kind": "exempt", "exempt_paragraph": 3,
		"description": "Sale of the depot to " + planted + " Ltd.",
		"papers":      []map[string]string{{"title": "Valuation for " + planted, "url": "https://papers.north.example/" + planted + ".pdf"}}})
	w.chair.do("POST", path("/api/v1/meetings/%d/start", x.id), nil).want(http.StatusOK)
	w.chair.do("POST", path("/api/v1/meetings/%d/next", x.id), nil).want(http.StatusOK)
	for _, u := range []int64{w.chairID, w.memberID, w.voterID} {
		w.clerk.do("POST", path("/api/v1/meetings/%d/attendance", x.id), map[string]any{"user_id": u, "mode": "in_room"}).want(http.StatusCreated)
	}
	w.clerk.do("POST", path("/api/v1/meetings/%d/declarations", x.id), map[string]any{"user_id": w.voterID, "item_id": x.exempt,
		"kind": "personal", "description": "Knows the director of " + planted}).want(http.StatusCreated)
	w.chair.do("POST", path("/api/v1/meetings/%d/next", x.id), nil).want(http.StatusOK) // into private session
	x.motion = w.chair.create(path("/api/v1/meetings/%d/motions", x.id), map[string]any{"item_id": x.exempt,
		"text": "That the depot be sold to " + planted + " Ltd.", "proposer_id": w.chairID})
	w.chair.do("POST", path("/api/v1/meetings/%d/polls", x.id), map[string]any{"item_id": x.exempt, "motion_id": x.motion,
		"question": "That the sale to " + planted + " be approved.", "recorded": true}).want(http.StatusCreated).into(&x.poll)
	for id, choice := range map[int64]string{w.chairID: "for", w.memberID: "for", w.voterID: "against"} {
		c := map[int64]*client{w.chairID: w.chair, w.memberID: w.member, w.voterID: w.voter}[id]
		c.do("POST", w.ballotsPath(x.poll), w.ballot(x.poll, id, choice, nil)).want(http.StatusCreated)
	}
	w.chair.do("POST", path("/api/v1/meetings/%d/polls/%d/close", x.id, x.poll.ID), nil).want(http.StatusOK)
	w.clerk.do("PATCH", path("/api/v1/meetings/%d/items/%d", x.id, x.exempt), map[string]any{
		"notes": "Members discussed the offer from " + planted + ".", "decision": "Sold to " + planted + " Ltd."}).want(http.StatusOK)
	w.chair.do("POST", path("/api/v1/meetings/%d/close", x.id), nil).want(http.StatusOK)

	mins := path("/api/v1/meetings/%d/minutes", x.id)
	w.clerk.do("POST", mins+"/draft", nil).want(http.StatusOK)
	w.clerk.do("PATCH", path("%s/items/%d", mins, x.item), map[string]any{"decision": "The figures were noted."}).want(http.StatusOK)
	w.chair.do("POST", mins+"/approve", map[string]any{"at_meeting": w.votingMeeting}).want(http.StatusOK)
	w.clerk.do("POST", mins+"/publish", nil).want(http.StatusOK)
	w.clerk.do("POST", mins+"/corrections", map[string]any{"reason": "The minute of item 2 was incomplete.",
		"items": []map[string]any{{"item_id": x.exempt, "notes": "Members discussed the offers from " + planted + " and others."}}}).
		want(http.StatusCreated)
	return x
}

// TestPublicNeverSeesExemptBusiness holds a meeting whose exempt item is full of a
// planted phrase, then reads, as the public, every route of the route table that the
// public may read (with the meeting's, the item's and the poll's ids), every version
// of every export, and the pages: the phrase is never there. A member reads it, so
// that the test can fail.
func TestPublicNeverSeesExemptBusiness(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		x := w.holdExemptMeeting()

		ids := map[string]string{
			"meeting": itoa(x.id), "item": itoa(x.exempt), "poll": itoa(x.poll.ID), "motion": itoa(x.motion),
			"council": itoa(w.council), "committee": itoa(w.finance), "user": itoa(w.voterID), "speaker": "1",
			"webhook": itoa(w.hook), "delivery": w.delivery, "key": "00000000000000000000000000000000",
			"token": "chl_nothing", "name": "not-found", "file": "chamber.css",
		}
		param := regexp.MustCompile(`\{([a-z_]+)(?:\.\.\.)?\}`)
		var paths []string
		for _, rt := range e.srv.Routes() {
			if rt.Method != http.MethodGet || rt.Access == web.SignedIn {
				continue
			}
			p := param.ReplaceAllStringFunc(strings.ReplaceAll(rt.Pattern, "{$}", ""), func(m string) string {
				v, ok := ids[param.FindStringSubmatch(m)[1]]
				if !ok {
					t.Errorf("route %s: no id for %s", rt.Pattern, m)
				}
				return v
			})
			if p == "" {
				p = "/"
			}
			paths = append(paths, p)
			for _, q := range rt.Query {
				switch q.Name {
				case "version":
					paths = append(paths, p+"?version=1", p+"?version=2")
				case "after":
					paths = append(paths, p+"?after=0")
				}
			}
		}
		paths = append(paths, "/api/v1/meetings?limit=200", path("/api/v1/meetings/%d/polls/%d/progress", x.id, x.poll.ID),
			path("/api/v1/meetings/%d/items", x.id), path("/api/v1/meetings/%d/log/inclusion?index=1", x.id))

		ok := map[string]bool{}
		for _, p := range paths {
			r := w.public().get(p)
			if r.header.Get("Content-Type") == "application/pdf" && r.status == http.StatusOK {
				r.body = append(r.body, minutestest.PDFText(t, r.body)...)
			}
			if strings.Contains(string(r.body), planted) {
				t.Errorf("the public reads the planted phrase at %s (%d):\n%s", p, r.status, r.body)
			}
			for k, vs := range r.header {
				if strings.Contains(strings.Join(vs, " "), planted) {
					t.Errorf("the public reads the planted phrase in the %s header of %s", k, p)
				}
			}
			if r.status == http.StatusOK {
				ok[p] = true
			}
		}
		// The sweep read what it meant to: the exempt item's title is public.
		for _, p := range []string{
			path("/api/v1/meetings/%d/minutes", x.id), path("/api/v1/meetings/%d/minutes?version=1", x.id),
			path("/api/v1/meetings/%d/minutes.html?version=2", x.id), path("/api/v1/meetings/%d/minutes.pdf?version=1", x.id),
			path("/api/v1/meetings/%d/minutes.md", x.id), path("/api/v1/meetings/%d/minutes.csv", x.id),
			path("/api/v1/meetings/%d/minutes.popolo.json", x.id), path("/api/v1/meetings/%d/minutes.record.json", x.id),
			path("/api/v1/meetings/%d/minutes/versions", x.id), path("/meetings/%d", x.id), path("/meetings/%d/minutes", x.id),
			path("/meetings/%d/minutes?version=1", x.id), path("/api/v1/meetings/%d/record", x.id), "/meetings",
			path("/api/v1/councils/%d/meetings.ics", w.council),
		} {
			if !ok[p] {
				t.Errorf("the public could not read %s", p)
			}
		}
		for _, p := range []string{path("/meetings/%d", x.id), path("/meetings/%d/minutes", x.id), path("/api/v1/meetings/%d/minutes.md", x.id)} {
			if b := w.public().get(p).body; !strings.Contains(string(b), "Disposal of the old depot") || !strings.Contains(string(b), "Schedule 12A") {
				t.Errorf("%s does not show the exempt item's title and the resolution to exclude the public", p)
			}
		}
		if text := minutestest.PDFText(t, w.public().get(path("/api/v1/meetings/%d/minutes.pdf", x.id)).want(http.StatusOK).body); !strings.Contains(text, "Disposal of the old depot") {
			t.Errorf("the public PDF's text lacks the exempt item's title:\n%s", text)
		}

		// A member of the committee reads the exempt business.
		for _, p := range []string{path("/api/v1/meetings/%d/minutes", x.id), path("/api/v1/meetings/%d/minutes.pdf", x.id),
			path("/api/v1/meetings/%d/minutes.html?version=1", x.id), path("/api/v1/meetings/%d/minutes.csv", x.id)} {
			r := w.member.get(p).want(http.StatusOK)
			if strings.HasSuffix(p, ".pdf") {
				r.body = []byte(minutestest.PDFText(t, r.body))
			}
			if !strings.Contains(string(r.body), planted) {
				t.Errorf("the member does not read the planted phrase at %s", p)
			}
		}
	})
}
