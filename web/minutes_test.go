package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

// setUpMinutes drafts the closed meeting's minutes, and holds two earlier meetings of
// the planning committee whose minutes are approved, and published.
func (w *world) setUpMinutes() {
	w.t.Helper()
	if w.minutes == nil {
		return
	}
	var items []agenda.Item
	w.clerk.get(path("/api/v1/meetings/%d/items", w.closed)).want(http.StatusOK).into(&items)
	w.closedItem = items[0].ID
	w.clerk.do("POST", path("/api/v1/meetings/%d/minutes/draft", w.closed), nil).want(http.StatusOK)
	w.approvedMeeting, _ = w.meetingWithMinutes("2026-04-01T18:00:00Z", false)
	w.publishedMeeting, w.publishedItem = w.meetingWithMinutes("2026-04-15T18:00:00Z", true)
}

// meetingWithMinutes holds a published meeting of the planning committee with one
// item, drafts its minutes and has the chair approve them at the adjourned meeting;
// then publishes them if asked.
func (w *world) meetingWithMinutes(startsAt string, publish bool) (meeting, item int64) {
	w.t.Helper()
	meeting = w.clerk.create("/api/v1/meetings", map[string]any{"committee_id": w.committee, "title": "Planning Committee",
		"starts_at": startsAt, "published": true})
	item = w.clerk.create(path("/api/v1/meetings/%d/items", meeting), map[string]any{"title": "Minutes of the last meeting"})
	w.chair.do("POST", path("/api/v1/meetings/%d/start", meeting), nil).want(http.StatusOK)
	w.chair.do("POST", path("/api/v1/meetings/%d/next", meeting), nil).want(http.StatusOK)
	w.chair.do("POST", path("/api/v1/meetings/%d/close", meeting), nil).want(http.StatusOK)
	w.clerk.do("POST", path("/api/v1/meetings/%d/minutes/draft", meeting), nil).want(http.StatusOK)
	w.chair.do("POST", path("/api/v1/meetings/%d/minutes/approve", meeting), map[string]any{"at_meeting": w.adjourned}).want(http.StatusOK)
	if publish {
		w.clerk.do("POST", path("/api/v1/meetings/%d/minutes/publish", meeting), nil).want(http.StatusOK)
	}
	return meeting, item
}

// setUpWebhooks gives the council two webhooks, lets the dispatcher make their
// deliveries from the meetings' journals, and leaves the second inactive. Every
// delivery has failed, as deactivating a webhook fails its pending deliveries.
func (w *world) setUpWebhooks() {
	w.t.Helper()
	if w.hooks == nil {
		return
	}
	var es webhooks.EndpointSecret
	w.clerk.do("POST", path("/api/v1/councils/%d/webhooks", w.council), map[string]any{"url": "https://hooks.north.example/chamber"}).
		want(http.StatusCreated).into(&es)
	w.hook = es.ID
	w.clerk.do("POST", path("/api/v1/councils/%d/webhooks", w.council), map[string]any{"url": "https://old.north.example/hook"}).
		want(http.StatusCreated).into(&es)
	w.idleHook = es.ID
	if n, err := w.hooks.Dispatch(context.Background()); err != nil || n == 0 {
		w.t.Fatalf("dispatch: %d deliveries, %v", n, err)
	}
	for _, h := range []struct {
		id       int64
		delivery *string
		active   bool
	}{{w.hook, &w.delivery, true}, {w.idleHook, &w.idleDelivery, false}} {
		var page agenda.Page[webhooks.Delivery]
		w.clerk.get(path("/api/v1/webhooks/%d/deliveries", h.id)).want(http.StatusOK).into(&page)
		if len(page.Items) == 0 {
			w.t.Fatalf("webhook %d has no deliveries", h.id)
		}
		*h.delivery = page.Items[0].ID
		w.clerk.do("PATCH", path("/api/v1/webhooks/%d", h.id), map[string]any{"active": false}).want(http.StatusOK)
		if h.active {
			w.clerk.do("PATCH", path("/api/v1/webhooks/%d", h.id), map[string]any{"active": true}).want(http.StatusOK)
		}
	}
}

// minutesWriteCases are the refusal cases of the minutes' and webhooks' write routes.
func (w *world) minutesWriteCases() map[string]writeCase {
	p := path
	mins := func(m int64, rest string) string { return p("/api/v1/meetings/%d/minutes%s", m, rest) }
	edit := `{"notes":"The committee heard from the applicant."}`
	correction := p(`{"reason":"A typing error.","items":[{"item_id":%d,"notes":"Corrected minute."}]}`, w.publishedItem)
	hook := p("/api/v1/webhooks/%d", w.hook)
	return map[string]writeCase{
		"draftMinutes": {path: mins(w.closed, "/draft"), forbidden: http.StatusForbidden,
			conflict: &request{method: "POST", path: mins(w.live, "/draft")}},
		"editMinutesItem": {path: mins(w.closed, p("/items/%d", w.closedItem)), body: edit, forbidden: http.StatusForbidden,
			invalid: `{}`, invalidProblem: "invalid-minutes",
			conflict: &request{method: "PATCH", path: mins(w.approvedMeeting, p("/items/%d", w.closedItem)), body: []byte(edit)}},
		"approveMinutes": {path: mins(w.closed, "/approve"), body: p(`{"at_meeting":%d}`, w.adjourned), forbidden: http.StatusForbidden,
			by: w.chair, refuseAs: w.chair,
			invalid: p(`{"at_meeting":%d}`, w.closed), invalidProblem: "invalid-minutes",
			conflict: &request{method: "POST", path: mins(w.closed, "/approve"), body: []byte(p(`{"at_meeting":%d}`, w.meeting))}},
		"publishMinutes": {path: mins(w.approvedMeeting, "/publish"), forbidden: http.StatusForbidden,
			conflict: &request{method: "POST", path: mins(w.closed, "/publish")}},
		"correctMinutes": {path: mins(w.publishedMeeting, "/corrections"), body: correction, forbidden: http.StatusForbidden,
			invalid: p(`{"reason":" ","items":[{"item_id":%d,"notes":"Corrected minute."}]}`, w.publishedItem), invalidProblem: "invalid-minutes",
			conflict: &request{method: "POST", path: mins(w.approvedMeeting, "/corrections"), body: []byte(correction)}},

		"createWebhook": {path: p("/api/v1/councils/%d/webhooks", w.council), body: `{"url":"https://hooks.example.org/new"}`,
			forbidden: http.StatusForbidden, invalid: `{"url":"http://hooks.example.org/"}`, invalidProblem: "invalid-webhook"},
		"updateWebhook": {path: hook, body: `{"description":"Open data feed"}`, forbidden: http.StatusForbidden,
			invalid: `{"event_types":["no.such.event"]}`, invalidProblem: "invalid-webhook", missing: []string{"/api/v1/webhooks/999999"}},
		"deleteWebhook": {path: hook, forbidden: http.StatusForbidden, missing: []string{"/api/v1/webhooks/999999"}},
		"rotateWebhookSecret": {path: hook + "/rotate-secret", body: `{"grace_seconds":3600}`, forbidden: http.StatusForbidden,
			invalid: `{"grace_seconds":-1}`, missing: []string{"/api/v1/webhooks/999999/rotate-secret"}},
		"redeliverWebhook": {path: p("%s/deliveries/%s/redeliver", hook, w.delivery), forbidden: http.StatusForbidden,
			missing: []string{p("/api/v1/webhooks/999999/deliveries/%s/redeliver", w.delivery),
				p("%s/deliveries/dlv_00000000000000000000000000/redeliver", hook),
				p("%s/deliveries/not-a-delivery/redeliver", hook),
				p("/api/v1/webhooks/%d/deliveries/%s/redeliver", w.idleHook, w.delivery)},
			conflict: &request{method: "POST", path: p("/api/v1/webhooks/%d/deliveries/%s/redeliver", w.idleHook, w.idleDelivery)}},
	}
}

// TestMinutesOverHTTP follows minutes through their life over HTTP: the clerk drafts
// and edits them, the chair approves them at a later meeting, the clerk publishes and
// corrects them; each step is refused to those it is not for and in the wrong state;
// the public reads only what is published.
func TestMinutesOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		mins := func(rest string) string { return path("/api/v1/meetings/%d/minutes%s", w.closed, rest) }

		// A draft: the committee and staff read it, the public does not.
		var mi minutes.Minutes
		w.member.get(mins("")).want(http.StatusOK).into(&mi)
		if mi.Status != minutes.Draft || mi.Version != 1 || mi.View != minutes.FullView {
			t.Errorf("the member reads %s version %d in the %s view", mi.Status, mi.Version, mi.View)
		}
		w.public().get(mins("")).problem(http.StatusNotFound, "not-found")
		w.public().get(mins(".pdf")).problem(http.StatusNotFound, "not-found")
		var hs []minutes.Header
		w.public().get(mins("/versions")).want(http.StatusOK).into(&hs)
		if len(hs) != 0 {
			t.Errorf("the public sees %d versions of draft minutes", len(hs))
		}
		w.public().do("POST", mins("/draft"), nil).problem(http.StatusUnauthorized, "unauthenticated")
		w.member.do("POST", mins("/publish"), nil).problem(http.StatusForbidden, "forbidden")
		w.member.do("PATCH", mins(path("/items/%d", w.closedItem)), map[string]any{"notes": "x"}).problem(http.StatusForbidden, "forbidden")
		w.clerk.do("POST", mins("/publish"), nil).problem(http.StatusConflict, "conflict")
		w.clerk.do("POST", mins("/approve"), map[string]any{"at_meeting": w.adjourned}).problem(http.StatusForbidden, "forbidden")
		w.clerk.do("PATCH", mins("/items/999999"), map[string]any{"notes": "x"}).problem(http.StatusUnprocessableEntity, "invalid-minutes")
		w.clerk.get(mins("?version=0")).problem(http.StatusUnprocessableEntity, "validation")
		w.clerk.get(mins("?version=7")).problem(http.StatusNotFound, "not-found")

		// The clerk edits; a redraft keeps the edit.
		w.clerk.do("PATCH", mins(path("/items/%d", w.closedItem)), map[string]any{"notes": "The applicant spoke.", "decision": "Approved."}).
			want(http.StatusOK).into(&mi)
		w.clerk.do("POST", mins("/draft"), nil).want(http.StatusOK).into(&mi)
		if it := mi.Item(w.closedItem); it == nil || it.Notes != "The applicant spoke." || it.Decision != "Approved." {
			t.Errorf("after the redraft, the item is %+v", it)
		}

		// The chair approves at the adjourned meeting; the minutes are frozen.
		w.chair.do("POST", mins("/approve"), map[string]any{"at_meeting": w.meeting}).problem(http.StatusConflict, "conflict")
		w.chair.do("POST", mins("/approve"), map[string]any{"at_meeting": 0}).problem(http.StatusUnprocessableEntity, "validation")
		w.chair.do("POST", mins("/approve"), map[string]any{"at_meeting": w.adjourned}).want(http.StatusOK).into(&mi)
		if mi.Status != minutes.Approved || mi.Approval == nil || mi.Approval.Meeting.ID != w.adjourned {
			t.Errorf("approved: %s %+v", mi.Status, mi.Approval)
		}
		w.clerk.do("PATCH", mins(path("/items/%d", w.closedItem)), map[string]any{"notes": "x"}).problem(http.StatusConflict, "conflict")
		w.clerk.do("POST", mins("/draft"), nil).problem(http.StatusConflict, "conflict")
		w.clerk.do("POST", mins("/corrections"), map[string]any{"reason": "x", "items": []any{map[string]any{"item_id": w.closedItem, "notes": "y"}}}).
			problem(http.StatusConflict, "conflict")

		// Published: the public reads them, in the public view.
		w.clerk.do("POST", mins("/publish"), nil).want(http.StatusOK).into(&mi)
		w.clerk.do("POST", mins("/publish"), nil).problem(http.StatusConflict, "conflict")
		w.public().get(mins("")).want(http.StatusOK).into(&mi)
		if mi.Status != minutes.Published || mi.View != minutes.PublicView {
			t.Errorf("the public reads %s minutes in the %s view", mi.Status, mi.View)
		}

		// A correction is a new version; the old one stays.
		w.clerk.do("POST", mins("/corrections"), map[string]any{"reason": "", "items": []any{map[string]any{"item_id": w.closedItem, "notes": "y"}}}).
			problem(http.StatusUnprocessableEntity, "invalid-minutes")
		w.clerk.do("POST", mins("/corrections"), map[string]any{"reason": "The applicant's name was wrong.",
			"items": []any{map[string]any{"item_id": w.closedItem, "notes": "Mrs Applicant spoke."}}}).want(http.StatusCreated).into(&mi)
		if mi.Version != 2 || mi.Correction == nil || mi.Correction.Supersedes != 1 {
			t.Errorf("correction: version %d %+v", mi.Version, mi.Correction)
		}
		w.public().get(mins("/versions")).want(http.StatusOK).into(&hs)
		if len(hs) != 2 || hs[1].Correction == nil || hs[1].Correction.Reason != "The applicant's name was wrong." {
			t.Errorf("the public sees versions %+v", hs)
		}
		w.public().get(mins("?version=1")).want(http.StatusOK).into(&mi)
		if it := mi.Item(w.closedItem); mi.Version != 1 || it == nil || it.Notes != "The applicant spoke." {
			t.Errorf("version 1 reads %d %+v", mi.Version, it)
		}
		w.public().get(mins("")).want(http.StatusOK).into(&mi)
		if it := mi.Item(w.closedItem); mi.Version != 2 || it == nil || it.Notes != "Mrs Applicant spoke." {
			t.Errorf("the latest version reads %d %+v", mi.Version, it)
		}

		// The minutes page and the meeting page link them.
		page := w.public().get(path("/meetings/%d/minutes", w.closed)).want(http.StatusOK)
		for _, want := range []string{"Mrs Applicant spoke.", `href="/meetings/` + itoa(w.closed) + `/minutes?version=1"`,
			"The applicant&#39;s name was wrong.", "minutes.pdf?version=2", `<html lang="en-GB">`} {
			if !strings.Contains(string(page.body), want) {
				t.Errorf("the minutes page lacks %q", want)
			}
		}
		if strings.Count(string(page.body), "<main") != 1 || strings.Count(string(page.body), "<h1") != 1 {
			t.Errorf("the minutes page has %d main elements and %d h1", strings.Count(string(page.body), "<main"), strings.Count(string(page.body), "<h1"))
		}
		old := w.public().get(path("/meetings/%d/minutes?version=1", w.closed)).want(http.StatusOK)
		if !strings.Contains(string(old.body), "The applicant spoke.") {
			t.Errorf("the page of version 1 lacks its minute")
		}
		mp := w.public().get(path("/meetings/%d", w.closed)).want(http.StatusOK)
		if !strings.Contains(string(mp.body), path(`href="/meetings/%d/minutes"`, w.closed)) {
			t.Errorf("the meeting page does not link the minutes:\n%s", mp.body)
		}
	})
}

// TestMinutesExports: every export has its media type and a file name, holds what the
// minutes say, and the public gets only published minutes.
func TestMinutesExports(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	formats := []struct {
		ext, contentType string
		check            func([]byte) error
	}{
		{".html", "text/html; charset=utf-8", nil},
		{".md", "text/markdown; charset=utf-8", nil},
		{".pdf", "application/pdf", func(b []byte) error {
			if !bytes.HasPrefix(b, []byte("%PDF-")) {
				return fmt.Errorf("not a PDF: %.20q", b)
			}
			return nil
		}},
		{".csv", "text/csv; charset=utf-8", func(b []byte) error {
			_, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			return err
		}},
		{".popolo.json", "application/json", func(b []byte) error { return jsonValid(b) }},
		{".record.json", "application/json", func(b []byte) error { return jsonValid(b) }},
	}
	for _, f := range formats {
		p := path("/api/v1/meetings/%d/minutes%s", w.publishedMeeting, f.ext)
		if f.ext == ".record.json" {
			// The meeting held no vote, so there is no record to export.
			w.public().get(p).problem(http.StatusNotFound, "not-found")
			continue
		}
		r := w.public().get(p).want(http.StatusOK)
		if ct := r.header.Get("Content-Type"); ct != f.contentType {
			t.Errorf("%s: Content-Type %q, want %q", p, ct, f.contentType)
		}
		cd := r.header.Get("Content-Disposition")
		if want := path(`filename="minutes-2026-04-15-meeting-%d-v1%s"`, w.publishedMeeting, f.ext); !strings.Contains(cd, want) {
			t.Errorf("%s: Content-Disposition %q, want %s", p, cd, want)
		}
		if f.check != nil {
			if err := f.check(r.body); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
		if f.ext == ".html" || f.ext == ".md" {
			if !strings.Contains(string(r.body), "Minutes of the last meeting") {
				t.Errorf("%s lacks the item", p)
			}
		}
		w.public().get(p+"?version=2").problem(http.StatusNotFound, "not-found")
		w.public().get(p+"?version=x").problem(http.StatusUnprocessableEntity, "validation")
		w.public().get(path("/api/v1/meetings/%d/minutes%s", w.approvedMeeting, f.ext)).problem(http.StatusNotFound, "not-found")
		w.member.get(path("/api/v1/meetings/%d/minutes%s", w.approvedMeeting, f.ext)).want(http.StatusOK)
		if cc := w.member.get(path("/api/v1/meetings/%d/minutes%s", w.approvedMeeting, f.ext)).header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s: the full view is cached: %q", f.ext, cc)
		}
	}
	// The HTML export runs no script.
	r := w.public().get(path("/api/v1/meetings/%d/minutes.html", w.publishedMeeting))
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("HTML export CSP %q", csp)
	}
}

// TestMeetingsCalendar: the iCalendar feed parses, lists the council's published
// meetings and no others, and is the same for a clerk.
func TestMeetingsCalendar(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	hidden := w.clerk.create("/api/v1/meetings", map[string]any{"committee_id": w.committee, "title": "Unpublished meeting",
		"starts_at": "2026-07-01T18:00:00Z"})
	p := path("/api/v1/councils/%d/meetings.ics", w.council)
	r := w.public().get(p).want(http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	events := parseICal(t, r.body)
	uids := map[string]bool{}
	for _, ev := range events {
		for _, prop := range []string{"UID", "DTSTAMP", "DTSTART", "SUMMARY"} {
			if ev[prop] == "" {
				t.Errorf("event %v lacks %s", ev, prop)
			}
		}
		uids[ev["UID"]] = true
		if strings.Contains(ev["SUMMARY"], "Unpublished") {
			t.Errorf("the feed lists an unpublished meeting")
		}
	}
	for _, id := range []int64{w.meeting, w.live, w.closed, w.publishedMeeting} {
		if !uids[path("meeting-%d@chamber.test", id)] {
			t.Errorf("the feed lacks meeting %d; it has %v", id, uids)
		}
	}
	if uids[path("meeting-%d@chamber.test", hidden)] {
		t.Errorf("the feed has the unpublished meeting")
	}
	if c := w.clerk.get(p).want(http.StatusOK); !bytes.Equal(c.body, r.body) {
		t.Errorf("the clerk's feed differs from the public's")
	}
	w.public().get("/api/v1/councils/999999/meetings.ics").problem(http.StatusNotFound, "not-found")
}

// parseICal checks the calendar's syntax (CRLF line ends, lines of at most 75 octets,
// BEGIN and END balanced) and returns its events' properties, unfolded.
func parseICal(t *testing.T, b []byte) []map[string]string {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Fatalf("the calendar does not end with CRLF")
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.Index(data, []byte("\r\n")); i >= 0 {
			return i + 2, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return 0, nil, fmt.Errorf("a line without CRLF: %q", data)
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		l := sc.Text()
		if len(l) > 75 {
			t.Errorf("line longer than 75 octets: %q", l)
		}
		if strings.HasPrefix(l, " ") && len(lines) > 0 {
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var stack []string
	var events []map[string]string
	var cur map[string]string
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("not a content line: %q", l)
		}
		name, _, _ = strings.Cut(name, ";")
		switch name {
		case "BEGIN":
			stack = append(stack, value)
			if value == "VEVENT" {
				cur = map[string]string{}
			}
		case "END":
			if len(stack) == 0 || stack[len(stack)-1] != value {
				t.Fatalf("END:%s does not close %v", value, stack)
			}
			stack = stack[:len(stack)-1]
			if value == "VEVENT" {
				events = append(events, cur)
				cur = nil
			}
		default:
			if cur != nil {
				cur[name] = value
			}
		}
	}
	if len(stack) != 0 || len(lines) == 0 || lines[0] != "BEGIN:VCALENDAR" {
		t.Fatalf("unbalanced calendar: %v", stack)
	}
	return events
}

// TestWebhooksOverHTTP: clerks manage their council's webhooks; the secret is shown
// once; others are refused; deliveries are listed a page at a time.
func TestWebhooksOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		var types []webhooks.EventType
		w.public().get("/api/v1/webhook-event-types").want(http.StatusOK).into(&types)
		if len(types) < 10 {
			t.Errorf("%d event types", len(types))
		}

		var es webhooks.EndpointSecret
		w.clerk.do("POST", path("/api/v1/councils/%d/webhooks", w.council), map[string]any{"url": "https://data.north.example/in",
			"description": "Open data", "event_types": []string{"meeting.started"}}).want(http.StatusCreated).into(&es)
		if !strings.HasPrefix(es.Secret, webhooks.SecretPrefix) || es.URL != "https://data.north.example/in" {
			t.Errorf("created %+v", es)
		}
		var list []json.RawMessage
		w.clerk.get(path("/api/v1/councils/%d/webhooks", w.council)).want(http.StatusOK).into(&list)
		if len(list) != 3 {
			t.Errorf("%d webhooks, want 3", len(list))
		}
		got := w.clerk.get(path("/api/v1/webhooks/%d", es.ID)).want(http.StatusOK)
		if strings.Contains(string(got.body), es.Secret) {
			t.Errorf("GET shows the secret")
		}
		w.public().get(path("/api/v1/councils/%d/webhooks", w.council)).problem(http.StatusUnauthorized, "unauthenticated")
		w.member.get(path("/api/v1/councils/%d/webhooks", w.council)).problem(http.StatusForbidden, "forbidden")
		w.outsider.get(path("/api/v1/webhooks/%d", es.ID)).problem(http.StatusForbidden, "forbidden")
		w.clerk.get("/api/v1/councils/999999/webhooks").problem(http.StatusNotFound, "not-found")
		w.clerk.get("/api/v1/webhooks/999999").problem(http.StatusNotFound, "not-found")

		var rotated webhooks.EndpointSecret
		w.clerk.do("POST", path("/api/v1/webhooks/%d/rotate-secret", es.ID), map[string]any{}).want(http.StatusOK).into(&rotated)
		if rotated.Secret == es.Secret || rotated.PreviousSecretExpires == nil {
			t.Errorf("rotated: %+v", rotated)
		}
		rotated = webhooks.EndpointSecret{}
		w.clerk.do("POST", path("/api/v1/webhooks/%d/rotate-secret", es.ID), map[string]any{"grace_seconds": 0}).want(http.StatusOK).into(&rotated)
		if rotated.PreviousSecretExpires != nil {
			t.Errorf("rotated with no grace: %+v", rotated)
		}
		w.clerk.do("POST", path("/api/v1/webhooks/%d/rotate-secret", es.ID), map[string]any{"grace_seconds": 8 * 86400}).
			problem(http.StatusUnprocessableEntity, "validation")

		// Deliveries, a page at a time.
		var page agenda.Page[webhooks.Delivery]
		w.clerk.get(path("/api/v1/webhooks/%d/deliveries?limit=1", w.hook)).want(http.StatusOK).into(&page)
		if len(page.Items) != 1 || page.Next == "" {
			t.Fatalf("first page: %d deliveries, next %q", len(page.Items), page.Next)
		}
		first := page.Items[0].ID
		w.clerk.get(path("/api/v1/webhooks/%d/deliveries?limit=1&cursor=%s", w.hook, page.Next)).want(http.StatusOK).into(&page)
		if len(page.Items) != 1 || page.Items[0].ID == first {
			t.Errorf("second page: %+v", page.Items)
		}
		w.clerk.get(path("/api/v1/webhooks/%d/deliveries?status=failed", w.hook)).want(http.StatusOK).into(&page)
		for _, d := range page.Items {
			if d.Status != webhooks.Failed {
				t.Errorf("status=failed lists a %s delivery", d.Status)
			}
		}
		for _, bad := range []string{"limit=0", "limit=201", "status=lost", "cursor=nonsense"} {
			w.clerk.get(path("/api/v1/webhooks/%d/deliveries?%s", w.hook, bad)).problem(http.StatusUnprocessableEntity, "validation")
		}
		var dd webhooks.DeliveryDetail
		w.clerk.get(path("/api/v1/webhooks/%d/deliveries/%s", w.hook, w.delivery)).want(http.StatusOK).into(&dd)
		if dd.ID != w.delivery || dd.Log == nil {
			t.Errorf("delivery %+v", dd)
		}
		w.clerk.get(path("/api/v1/webhooks/%d/deliveries/%s", w.idleHook, w.delivery)).problem(http.StatusNotFound, "not-found")
		var d webhooks.Delivery
		w.clerk.do("POST", path("/api/v1/webhooks/%d/deliveries/%s/redeliver", w.hook, w.delivery), nil).want(http.StatusAccepted).into(&d)
		if d.Status != webhooks.Pending || d.ID != w.delivery {
			t.Errorf("redelivered %+v", d)
		}
		w.clerk.do("POST", path("/api/v1/webhooks/%d/deliveries/%s/redeliver", w.idleHook, w.idleDelivery), nil).problem(http.StatusConflict, "conflict")

		w.clerk.do("DELETE", path("/api/v1/webhooks/%d", es.ID), nil).want(http.StatusNoContent)
		w.clerk.get(path("/api/v1/webhooks/%d", es.ID)).problem(http.StatusNotFound, "not-found")
		e.checkLogs(es.Secret, rotated.Secret)
	})
}

func jsonValid(b []byte) error {
	if !json.Valid(b) {
		return fmt.Errorf("not JSON: %.40q", b)
	}
	return nil
}

// TestPublicPages: the meetings list and the meeting page read without signing in
// and without script: landmarks, the live section the page's script takes over, the
// live status of each meeting, the current item, papers, decisions and votes.
func TestPublicPages(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	w.clerk.do("PATCH", path("/api/v1/meetings/%d/items/%d", w.live, w.liveItem), map[string]any{"decision": "The urgent business was noted."}).
		want(http.StatusOK)
	common := []string{`<html lang="en-GB">`, `<a class="skip" href="#main">`, `<main id="main"`, `<nav aria-label="Site">`, `<h1>`}

	list := w.public().get("/meetings").want(http.StatusOK)
	for _, want := range append(common, "Today and to come", "Past meetings", ">Extraordinary meeting</a>", ">Last month&#39;s meeting</a>",
		"In progress", "Adjourned", "Closed", "Scheduled") {
		if !strings.Contains(string(list.body), want) {
			t.Errorf("the meetings page lacks %q", want)
		}
	}
	// Past meetings come latest first.
	if i, j := strings.Index(string(list.body), "Adjourned meeting"), strings.Index(string(list.body), "Last month&#39;s meeting"); i < 0 || j < 0 || i > j {
		t.Errorf("past meetings are not latest first")
	}
	w.public().get("/meetings?before=nonsense").want(http.StatusUnprocessableEntity)

	for _, c := range []struct {
		meeting int64
		status  string
	}{{w.meeting, "Scheduled"}, {w.live, "In progress"}, {w.adjourned, "Adjourned"}, {w.closed, "Closed"}} {
		r := w.public().get(path("/meetings/%d", c.meeting)).want(http.StatusOK)
		body := string(r.body)
		for _, want := range append(common,
			path(`<section id="live" class="live" data-meeting-id="%d" aria-labelledby="live-heading">`, c.meeting),
			`<script type="module" src="/static/js/watch.js"></script>`,
			`aria-live="polite"><strong>`+c.status+"</strong>",
			path(`href="/api/v1/councils/%d/meetings.ics"`, w.council)) {
			if !strings.Contains(body, want) {
				t.Errorf("meeting %d: the page lacks %q", c.meeting, want)
			}
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("meeting page CSP %q", csp)
		}
	}
	live := string(w.public().get(path("/meetings/%d", w.live)).body)
	for _, want := range []string{path(`<li id="item-%d" aria-current="true" class="current">`, w.liveItem2), "Now: item",
		"Motion</strong> (proposed): That the urgent business be noted.", "The urgent business was noted."} {
		if !strings.Contains(live, want) {
			t.Errorf("the live meeting's page lacks %q:\n%s", want, live)
		}
	}
	planning := string(w.public().get(path("/meetings/%d", w.meeting)).body)
	for _, want := range []string{`<a href="https://example.org/report.pdf">Report</a>`, "Sale of the depot", "paragraph 3 of Part 1 of Schedule 12A"} {
		if !strings.Contains(planning, want) {
			t.Errorf("the meeting page lacks %q", want)
		}
	}
	if strings.Contains(planning, "Terms of the sale") {
		t.Errorf("the public meeting page shows exempt detail")
	}
	votes := string(w.public().get(path("/meetings/%d", w.tiedMeeting)).body)
	if !strings.Contains(votes, "Tied: awaiting the casting vote") {
		t.Errorf("the meeting page lacks the tied vote:\n%s", votes)
	}
	w.public().get("/meetings/999999").want(http.StatusNotFound)
	css := string(w.public().get("/static/chamber.css").want(http.StatusOK).body)
	if !strings.Contains(css, "@media (max-width: 40rem)") {
		t.Errorf("the style sheet has no rules for narrow screens")
	}
}
