package webhooks_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
)

// pollResult is the data of a poll.result event as the voting service journals it.
func pollResult(meetingID, itemID int64, private, named bool, at time.Time) voting.PollView {
	return voting.PollView{Private: private, Status: voting.PollClosed, Poll: voting.Poll{
		PollOpening: voting.PollOpening{ID: 1, Meeting: meetingID, Item: itemID, Question: "That planning permission be granted",
			Options: []string{voting.OptionFor, voting.OptionAgainst, voting.OptionAbstain}, Method: voting.Majority, Named: named,
			OpenedAt: at.Add(-time.Minute), Eligible: []int64{5, 6, 7}},
		Closing: &voting.PollClosing{Meeting: meetingID, Item: itemID, Poll: 1, ClosedAt: at, Ballots: 3},
		Result: &voting.Result{Counts: []voting.OptionCount{{Option: "for", Count: 2}, {Option: "against", Count: 1}},
			VotesCast: 3, Outcome: voting.OutcomeCarried,
			Votes: []voting.Vote{{Voter: 5, Choice: "for"}, {Voter: 6, Choice: "for"}, {Voter: 7, Choice: "against"}}},
	}}
}

// TestDeliversPublicEventsSigned follows a meeting from its agenda to its minutes, with
// exempt business, through the journal to four receivers: the default subscription,
// every event type, an inactive endpoint and another council's.
func TestDeliversPublicEventsSigned(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		ctx := w.ctx
		svc := w.service()
		var every []string
		for _, e := range webhooks.EventTypes() {
			every = append(every, e.Type)
		}
		defaults, all, inactive, elsewhere := newReceiver(t, w.clock), newReceiver(t, w.clock), newReceiver(t, w.clock), newReceiver(t, w.clock)
		epDefault := w.endpoint(svc, w.clerk, w.council, defaults)
		epAll := w.endpoint(svc, w.admin, w.council, all, every...)
		epInactive := w.endpoint(svc, w.clerk, w.council, inactive, every...)
		off := false
		_, err := svc.UpdateEndpoint(ctx, w.clerk, epInactive.ID, webhooks.EndpointPatch{Active: &off})
		w.must(err)
		w.endpoint(svc, w.outsider, w.other, elsewhere, every...)
		if !slices.Equal(epDefault.EventTypes, []string{"meeting.closed", "meeting.started", "minutes.corrected", "minutes.published", "poll.result"}) {
			t.Errorf("default event types %v", epDefault.EventTypes)
		}

		m := w.meeting("Planning Committee", true)
		planning, err := w.agenda.AddItem(ctx, w.clerk, m.ID, agenda.ItemInput{Title: "Land at Mill Lane", Kind: agenda.Planning,
			Description: "Outline application for 40 homes"})
		w.must(err)
		notes := "Clerk's note: " + secret
		_, err = w.agenda.UpdateItem(ctx, w.clerk, m.ID, planning.ID, agenda.ItemPatch{Notes: &notes})
		w.must(err)
		exempt, err := w.agenda.AddItem(ctx, w.clerk, m.ID, agenda.ItemInput{Title: "Staffing matter", Kind: agenda.Exempt,
			ExemptParagraph: 1, Description: secret})
		w.must(err)
		w.clock.Advance(30 * time.Minute)
		_, err = w.agenda.StartMeeting(ctx, w.clerk, m.ID)
		w.must(err)
		_, err = w.agenda.NextItem(ctx, w.clerk, m.ID)
		w.must(err)
		w.clock.Advance(10 * time.Minute)
		w.journal(m.ID, voting.EventPollResult, false, pollResult(m.ID, planning.ID, false, false, w.clock.Now()))
		_, err = w.agenda.SetSession(ctx, w.clerk, m.ID, true, 1, "to discuss "+secret)
		w.must(err)
		_, err = w.agenda.SetSession(ctx, w.clerk, m.ID, false, 0, "")
		w.must(err)
		_, err = w.agenda.NextItem(ctx, w.clerk, m.ID) // the exempt item: private session
		w.must(err)
		w.journal(m.ID, voting.EventPollResult, true, pollResult(m.ID, exempt.ID, true, true, w.clock.Now()))
		w.clock.Advance(time.Hour)
		_, err = w.agenda.CloseMeeting(ctx, w.clerk, m.ID)
		w.must(err)
		w.clock.Advance(24 * time.Hour)
		w.journal(m.ID, minutes.EvMinutesDrafted, true, minutes.Event{Meeting: m.ID, Version: 1, Status: minutes.Draft})
		w.journal(m.ID, minutes.EvMinutesPublished, false, minutes.Event{Meeting: m.ID, Version: 1, Status: minutes.Published})
		w.journal(m.ID, minutes.EvMinutesCorrected, false, minutes.Event{Meeting: m.ID, Version: 2, Status: minutes.Published,
			Supersedes: 1, Reason: "A typing error", Summary: "Item 1: decision"})

		// What the public may read of the journal is what every-type endpoint must get.
		journal, err := w.agenda.Events(ctx, agenda.Anyone, m.ID, 0, agenda.MaxEventsPage)
		w.must(err)
		byseq := map[int64]agenda.Event{}
		var wantAll, wantDefault []int64
		for _, e := range journal {
			byseq[e.Seq] = e
			if e.Private {
				t.Fatalf("the public journal has private event %d", e.Seq)
			}
			if slices.Contains(every, e.Type) {
				wantAll = append(wantAll, e.Seq)
			}
			if slices.Contains(webhooks.DefaultEventTypes, e.Type) {
				wantDefault = append(wantDefault, e.Seq)
			}
		}
		if len(wantDefault) != 5 {
			t.Fatalf("the journal has %d events of the default types, want 5", len(wantDefault))
		}
		private := w.privateSeqs(m.ID)
		if len(private) < 4 { // item.notes, the exempt item, its poll, the draft minutes
			t.Fatalf("only %d private events in the journal", len(private))
		}

		w.run(svc)
		svc.Kick()
		done := func(epID int64, n int) func() bool {
			return func() bool {
				ds := w.deliveries(svc, epID)
				return len(ds) >= n && !slices.ContainsFunc(ds, func(d webhooks.Delivery) bool { return d.Status != webhooks.Delivered })
			}
		}
		eventually(t, "the default deliveries", done(epDefault.ID, len(wantDefault)))
		eventually(t, "every public event", done(epAll.ID, len(wantAll)))

		for _, c := range []struct {
			name string
			rc   *receiver
			want []int64
		}{{"default types", defaults, wantDefault}, {"every type", all, wantAll}} {
			var got []int64
			for _, r := range c.rc.received() {
				p := r.Payload
				got = append(got, p.Seq)
				e := byseq[p.Seq]
				switch {
				case p.Type != e.Type || p.MeetingID != m.ID || p.CouncilID != w.council.ID || !p.At.Equal(e.At):
					t.Errorf("%s: payload %s does not match journal event %d %s at %s", c.name, r.Body, e.Seq, e.Type, e.At)
				case bytes.Contains(r.Body, []byte(secret)) || bytes.Contains(r.Body, []byte("Heron")):
					t.Errorf("%s: %s carries private text: %s", c.name, p.Type, r.Body)
				case slices.Contains(private, p.Seq):
					t.Errorf("%s: private event %d (%s) delivered", c.name, p.Seq, p.Type)
				case r.Header.Get(webhooks.HeaderTimestamp) != strconv.FormatInt(w.clock.Now().Unix(), 10):
					t.Errorf("%s: timestamp %s, want the clock's %d", c.name, r.Header.Get(webhooks.HeaderTimestamp), w.clock.Now().Unix())
				}
				if p.Type == voting.EventPollResult {
					var v webhooks.VoteResult
					w.must(json.Unmarshal(p.Data, &v))
					if v.Outcome != voting.OutcomeCarried || v.VotesCast != 3 || v.Votes != nil || v.Recorded {
						t.Errorf("%s: vote result %+v; want carried 3 votes, no names (not a recorded vote)", c.name, v)
					}
				}
				if p.Type == agenda.EvItemUpdated && bytes.Contains(p.Data, []byte(`"notes"`)) {
					t.Errorf("%s: item data carries notes: %s", c.name, p.Data)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: received events %v, want %v", c.name, got, c.want)
			}
		}

		for _, d := range w.deliveries(svc, epDefault.ID) {
			dd := w.delivery(svc, epDefault.ID, d.ID)
			if dd.Attempts != 1 || len(dd.Log) != 1 || dd.Log[0].StatusCode != 204 || dd.DeliveredAt == nil || dd.LastError != "" {
				t.Errorf("delivery %s: %+v; want delivered at the first attempt, logged with 204", d.ID, dd)
			}
			var p webhooks.Payload
			w.must(json.Unmarshal(d.Payload, &p))
			if p.ID != d.ID {
				t.Errorf("payload id %s, delivery id %s", p.ID, d.ID)
			}
		}
		// Dispatch has caught up: nothing more for anyone.
		if n, err := svc.Dispatch(ctx); err != nil || n != 0 {
			t.Errorf("Dispatch after catching up = %d, %v; want 0", n, err)
		}
		if got := len(inactive.received()) + len(elsewhere.received()); got != 0 {
			t.Errorf("the inactive endpoint and the other council's received %d requests, want none", got)
		}
		if ds := w.deliveries(svc, epInactive.ID); len(ds) != 0 {
			t.Errorf("the inactive endpoint has %d deliveries, want none", len(ds))
		}
	})
}

// TestUnpublishedMeetingHeldBack: the journal of a meeting the public may not see waits
// until the meeting is published.
func TestUnpublishedMeetingHeldBack(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		svc := w.service()
		rc := newReceiver(t, w.clock)
		ep := w.endpoint(svc, w.clerk, w.council, rc, agenda.EvMeetingStarted, agenda.EvMeetingUpdated)
		m := w.meeting("Extraordinary meeting", false)
		_, err := w.agenda.StartMeeting(w.ctx, w.clerk, m.ID)
		w.must(err)
		if n, err := svc.Dispatch(w.ctx); err != nil || n != 0 {
			t.Fatalf("Dispatch of an unpublished meeting = %d, %v; want 0", n, err)
		}
		yes := true
		_, err = w.agenda.UpdateMeeting(w.ctx, w.clerk, m.ID, agenda.MeetingPatch{Published: &yes})
		w.must(err)
		if n, err := svc.Dispatch(w.ctx); err != nil || n != 2 {
			t.Fatalf("Dispatch once published = %d, %v; want 2 (started, updated)", n, err)
		}
		if n, err := svc.Dispatch(w.ctx); err != nil || n != 0 {
			t.Fatalf("Dispatch again = %d, %v; want 0", n, err)
		}
		var types []string
		for _, d := range w.deliveries(svc, ep.ID) {
			types = append(types, d.Type)
		}
		slices.Sort(types)
		if !slices.Equal(types, []string{agenda.EvMeetingStarted, agenda.EvMeetingUpdated}) {
			t.Errorf("deliveries of types %v", types)
		}
	})
}
