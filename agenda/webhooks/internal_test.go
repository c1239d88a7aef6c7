package webhooks

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/voting"
)

func TestPublicAddresses(t *testing.T) {
	for _, c := range []struct {
		addr string
		want bool
	}{
		{"93.184.216.34", true},
		{"2606:2800:220:1:248:1893:25c8:1946", true},
		{"127.0.0.1", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fd00:ec2::254", false},   // cloud metadata over IPv6
		{"fe80::1", false},
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"64:ff9b::a00:1", false},
		{"2002:a00:1::", false},
		{"198.18.0.1", false},
	} {
		if got := public(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("public(%s) = %v, want %v", c.addr, got, c.want)
		}
	}
	p := addressPolicy{allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	if !p.permits(netip.MustParseAddr("127.0.0.1")) || p.permits(netip.MustParseAddr("10.0.0.1")) {
		t.Errorf("a policy allowing 127.0.0.0/8 should permit 127.0.0.1 and nothing else private")
	}
}

func TestCheckURL(t *testing.T) {
	var p addressPolicy
	for _, c := range []struct {
		url  string
		want string // "" for invalid
	}{
		{"https://hooks.example.org/chamber", "https://hooks.example.org/chamber"},
		{"  https://hooks.example.org:8443/x?k=v  ", "https://hooks.example.org:8443/x?k=v"},
		{"http://localhost:8080/hook", "http://localhost:8080/hook"},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9000/"},
		{"http://[::1]:9000/", "http://[::1]:9000/"},
		{"http://hooks.example.org/", ""},
		{"http://10.0.0.5/", ""},
		{"https://169.254.169.254/latest/meta-data", ""},
		{"https://10.0.0.5/", ""},
		{"https://[fd00::1]/", ""},
		{"ftp://hooks.example.org/", ""},
		{"hooks.example.org/chamber", ""},
		{"https://user:pass@hooks.example.org/", ""},
		{"https://hooks.example.org/#frag", ""},
		{"https:///path", ""},
		{"https://hooks.example.org:99999/", ""},
		{"", ""},
		{"https://hooks.example.org/" + strings.Repeat("a", MaxURLLength), ""},
	} {
		got, err := p.checkURL(c.url)
		switch {
		case c.want == "" && !errors.Is(err, ErrInvalid):
			t.Errorf("checkURL(%q) = %q, %v; want ErrInvalid", c.url, got, err)
		case c.want != "" && (err != nil || got != c.want):
			t.Errorf("checkURL(%q) = %q, %v; want %q", c.url, got, err, c.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	s := NewService(nil, Options{})
	total := time.Duration(0)
	for attempt := 1; attempt < s.opts.MaxAttempts; attempt++ {
		nominal := min(time.Minute<<(attempt-1), 8*time.Hour)
		got := s.backoff(attempt, 0)
		if got < nominal*8/10 || got > nominal*12/10 {
			t.Errorf("backoff after attempt %d = %s, want %s ± 20%%", attempt, got, nominal)
		}
		total += nominal
	}
	if total < 20*time.Hour || total > 28*time.Hour {
		t.Errorf("the default schedule spans %s, want about 24 h", total)
	}
	if got := s.backoff(1, time.Hour); got != time.Hour {
		t.Errorf("Retry-After of an hour after the first attempt: backoff %s, want 1h", got)
	}
	if got := s.backoff(1, 100*time.Hour); got != 8*time.Hour {
		t.Errorf("Retry-After beyond BackoffMax: backoff %s, want 8h", got)
	}
	now := time.Date(2026, 5, 6, 9, 0, 0, 0, time.UTC)
	if got := retryAfter("120", now); got != 2*time.Minute {
		t.Errorf("Retry-After: 120 = %s", got)
	}
	if got := retryAfter(now.Add(time.Hour).Format(http.TimeFormat), now); got != time.Hour {
		t.Errorf("Retry-After as a date = %s", got)
	}
	if got := retryAfter("soon", now); got != 0 {
		t.Errorf("Retry-After: soon = %s", got)
	}
}

func TestDeliveryIDs(t *testing.T) {
	at := time.Date(2026, 5, 6, 9, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 50 {
		id, err := newDeliveryID(at.Add(time.Duration(i)*time.Millisecond), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 30 || !strings.HasPrefix(id, "dlv_") || strings.Trim(id[4:], crockford) != "" {
			t.Fatalf("delivery id %q: want dlv_ and 26 base-32 digits", id)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids made in time order do not sort: %v", ids)
	}
	s1, _ := newSecret(rand.Reader)
	s2, _ := newSecret(rand.Reader)
	if !strings.HasPrefix(s1, SecretPrefix) || len(s1) != len(SecretPrefix)+43 || s1 == s2 {
		t.Errorf("secrets %q, %q: want whsec_ and 43 characters, different each time", s1, s2)
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPublicData(t *testing.T) {
	at := time.Date(2026, 5, 6, 17, 30, 0, 0, time.UTC)
	const secret = "Operation Blue Heron"
	poll := func(private, named bool) voting.PollView {
		return voting.PollView{Private: private, Status: voting.PollClosed, Poll: voting.Poll{
			PollOpening: voting.PollOpening{ID: 4, Meeting: 7, Item: 9, Question: "Approve?", Options: []string{"for", "against"},
				Method: voting.Majority, Named: named, OpenedAt: at, Eligible: []int64{11, 12}},
			Closing: &voting.PollClosing{Meeting: 7, Item: 9, Poll: 4, ClosedAt: at.Add(time.Minute)},
			Result: &voting.Result{Counts: []voting.OptionCount{{Option: "for", Count: 1}, {Option: "against", Count: 1}},
				VotesCast: 2, Outcome: voting.OutcomeCarried, CastingVote: "for",
				Votes: []voting.Vote{{Voter: 11, Choice: "for"}, {Voter: 12, Choice: "against"}}},
		}}
	}
	item := agenda.Item{ID: 9, MeetingID: 7, Number: "5", Title: "Land at Mill Lane", Description: "Outline application",
		Kind: agenda.Planning, Notes: secret, Decision: "Approved", Papers: []agenda.Paper{{Title: "Report", URL: "https://x/r.pdf"}}}
	exempt := item
	exempt.Kind, exempt.Description = agenda.Exempt, secret
	for _, c := range []struct {
		name    string
		event   agenda.Event
		want    string // a fragment the data must contain; "" when withheld
		wantNot []string
	}{
		{name: "meeting", event: agenda.Event{Type: agenda.EvMeetingStarted, Data: mustJSON(t, agenda.Meeting{ID: 7, CouncilID: 1,
			Title: "Planning Committee", Status: agenda.InProgress, Published: true, LastSeq: 3})},
			want: `"title":"Planning Committee"`, wantNot: []string{"last_seq", "published"}},
		{name: "private event", event: agenda.Event{Type: agenda.EvMeetingStarted, Private: true, Data: mustJSON(t, agenda.Meeting{ID: 7})}},
		{name: "item without notes", event: agenda.Event{Type: agenda.EvItemUpdated, Data: mustJSON(t, item)},
			want: `"decision":"Approved"`, wantNot: []string{secret, "notes"}},
		{name: "exempt item as reference only", event: agenda.Event{Type: agenda.EvItemAdded, Data: mustJSON(t, exempt)},
			want: `"title":"Land at Mill Lane"`, wantNot: []string{secret, "description", "decision"}},
		{name: "session without reason", event: agenda.Event{Type: agenda.EvSessionPrivate,
			Data: mustJSON(t, agenda.SessionChange{Session: agenda.PrivateSession, Paragraph: 3, Reason: secret, ItemID: 9})},
			want: `"paragraph":3`, wantNot: []string{secret, "reason"}},
		{name: "vote without names", event: agenda.Event{Type: voting.EventPollResult, Data: mustJSON(t, poll(false, false))},
			want: `"outcome":"carried"`, wantNot: []string{`"votes":`, "eligible", "challenge", `"user_id"`}},
		{name: "recorded vote with names", event: agenda.Event{Type: voting.EventPollResult, Data: mustJSON(t, poll(false, true))},
			want: `"votes":[{"user_id":11,"choice":"for"},{"user_id":12,"choice":"against"}]`},
		{name: "vote on exempt business", event: agenda.Event{Type: voting.EventPollResult, Data: mustJSON(t, poll(true, true))}},
		{name: "minutes", event: agenda.Event{Type: minutes.EvMinutesCorrected, Data: mustJSON(t, minutes.Event{Meeting: 7, Version: 2,
			Status: minutes.Published, Supersedes: 1, Reason: "Typo", Summary: "Item 5: decision", Items: []int64{9}})},
			want: `"summary":"Item 5: decision"`, wantNot: []string{`"items"`}},
		{name: "clerk's notes", event: agenda.Event{Type: agenda.EvItemNotes, Data: mustJSON(t, map[string]any{"item_id": 9, "notes": secret})}},
		{name: "minutes draft", event: agenda.Event{Type: minutes.EvMinutesDrafted, Data: mustJSON(t, minutes.Event{Meeting: 7, Version: 1})}},
		{name: "attendance", event: agenda.Event{Type: agenda.EvAttendanceArrived, Data: mustJSON(t, agenda.Attendance{UserID: 3})}},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, ok, err := publicData(c.event)
			if err != nil {
				t.Fatal(err)
			}
			if c.want == "" {
				if ok {
					t.Errorf("delivered %s; want it withheld", data)
				}
				return
			}
			if !ok {
				t.Fatalf("withheld; want it delivered")
			}
			if !bytes.Contains(data, []byte(c.want)) {
				t.Errorf("data %s: want it to contain %s", data, c.want)
			}
			for _, s := range c.wantNot {
				if bytes.Contains(data, []byte(s)) {
					t.Errorf("data %s: contains %s", data, s)
				}
			}
		})
	}
	if _, _, err := publicData(agenda.Event{Type: agenda.EvMeetingClosed, Data: json.RawMessage(`[1,2]`)}); err == nil {
		t.Errorf("unreadable data: want an error")
	}
}

func TestCatalogue(t *testing.T) {
	types := EventTypes()
	for _, d := range DefaultEventTypes {
		i := slices.IndexFunc(types, func(e EventType) bool { return e.Type == d })
		if i < 0 || !types[i].Default {
			t.Errorf("default type %s is not in the catalogue as a default", d)
		}
	}
	for _, e := range types {
		if e.Default && !slices.Contains(DefaultEventTypes, e.Type) {
			t.Errorf("%s is marked default but is not in DefaultEventTypes", e.Type)
		}
	}
}
