package agenda_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
)

func testAttendanceModesFollowTheProfile(t *testing.T, w *world) {
	committees := map[string]agenda.Committee{"england": w.committee}
	for _, p := range []string{"wales", "france"} {
		committees[p] = w.committeeWith(p)
	}
	chair, member, member2, member3 := w.chair.UserID, w.member.UserID, w.member2.UserID, w.member3.UserID
	tests := []struct {
		name    string
		profile string
		before  []agenda.AttendanceInput // recorded first
		in      agenda.AttendanceInput
		fields  []string // nil: accepted
	}{
		{"england: in the room", "england", nil, agenda.AttendanceInput{UserID: member, Mode: agenda.InRoom}, nil},
		{"england: remote, not voting", "england", nil, agenda.AttendanceInput{UserID: member, Mode: agenda.RemoteNonVoting}, nil},
		{"england: remote voting is refused", "england", nil, agenda.AttendanceInput{UserID: member, Mode: agenda.RemoteVoting}, []string{"mode"}},
		{"england: no proxies", "england", []agenda.AttendanceInput{{UserID: chair, Mode: agenda.InRoom}},
			agenda.AttendanceInput{UserID: member, Mode: agenda.ByProxy, ProxyHolderID: chair}, []string{"mode"}},
		{"wales: remote voting", "wales", nil, agenda.AttendanceInput{UserID: member, Mode: agenda.RemoteVoting}, nil},
		{"wales: no proxies", "wales", []agenda.AttendanceInput{{UserID: chair, Mode: agenda.InRoom}},
			agenda.AttendanceInput{UserID: member, Mode: agenda.ByProxy, ProxyHolderID: chair}, []string{"mode"}},
		{"france: a proxy", "france", []agenda.AttendanceInput{{UserID: chair, Mode: agenda.RemoteVoting}},
			agenda.AttendanceInput{UserID: member, Mode: agenda.ByProxy, ProxyHolderID: chair}, nil},
		{"france: a second proxy for one holder", "france", []agenda.AttendanceInput{{UserID: chair, Mode: agenda.InRoom},
			{UserID: member, Mode: agenda.ByProxy, ProxyHolderID: chair}},
			agenda.AttendanceInput{UserID: member2, Mode: agenda.ByProxy, ProxyHolderID: chair}, nil},
		{"france: a third proxy for one holder is refused", "france", []agenda.AttendanceInput{{UserID: chair, Mode: agenda.InRoom},
			{UserID: member, Mode: agenda.ByProxy, ProxyHolderID: chair}, {UserID: member2, Mode: agenda.ByProxy, ProxyHolderID: chair}},
			agenda.AttendanceInput{UserID: member3, Mode: agenda.ByProxy, ProxyHolderID: chair}, []string{"proxy_holder_id"}},
		{"france: the holder must be present", "france", nil,
			agenda.AttendanceInput{UserID: member, Mode: agenda.ByProxy, ProxyHolderID: chair}, []string{"proxy_holder_id"}},
		{"france: a proxy cannot hold a proxy", "france", []agenda.AttendanceInput{{UserID: chair, Mode: agenda.InRoom},
			{UserID: member2, Mode: agenda.ByProxy, ProxyHolderID: chair}},
			agenda.AttendanceInput{UserID: member, Mode: agenda.ByProxy, ProxyHolderID: member2}, []string{"proxy_holder_id"}},
		{"france: not one's own proxy", "france", nil,
			agenda.AttendanceInput{UserID: member, Mode: agenda.ByProxy, ProxyHolderID: member}, []string{"proxy_holder_id"}},
		{"a holder only with a proxy", "france", []agenda.AttendanceInput{{UserID: chair, Mode: agenda.InRoom}},
			agenda.AttendanceInput{UserID: member, Mode: agenda.InRoom, ProxyHolderID: chair}, []string{"proxy_holder_id"}},
		{"an unknown mode and user", "england", nil, agenda.AttendanceInput{UserID: 9999, Mode: "telepathy"}, []string{"mode", "user_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := w.startedMeetingOf(committees[tt.profile].ID)
			for _, in := range tt.before {
				_, err := w.svc.RecordArrival(w.ctx, w.clerk, m.ID, in)
				w.must(err)
			}
			seq := w.checkPublished(t, m.ID, m.LastSeq, repeat(agenda.EvAttendanceArrived, len(tt.before))...)
			w.clock.Advance(time.Minute)
			a, err := w.svc.RecordArrival(w.ctx, w.clerk, m.ID, tt.in)
			if tt.fields != nil {
				same(t, "fields", fieldErrors(err), tt.fields)
				w.checkPublished(t, m.ID, seq)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w.checkPublished(t, m.ID, seq, agenda.EvAttendanceArrived)
			want := agenda.Attendance{ID: a.ID, MeetingID: m.ID, UserID: tt.in.UserID, Mode: tt.in.Mode, ProxyHolderID: tt.in.ProxyHolderID,
				Source: agenda.ByClerk, ArrivedAt: w.clock.Now()}
			same(t, "attendance", a, want)
		})
	}
}

func testAttendanceChangesAndDepartures(t *testing.T, w *world) {
	m, _ := w.startedMeetingOf(w.committee.ID)
	chair, member := w.chair.UserID, w.member.UserID
	arrive := func(in agenda.AttendanceInput) agenda.Attendance {
		t.Helper()
		a, err := w.svc.RecordArrival(w.ctx, w.clerk, m.ID, in)
		w.must(err)
		return a
	}
	first := arrive(agenda.AttendanceInput{UserID: chair, Mode: agenda.InRoom})
	seq := w.checkPublished(t, m.ID, m.LastSeq, agenda.EvAttendanceArrived)

	// The same mode again changes nothing.
	if again := arrive(agenda.AttendanceInput{UserID: chair, Mode: agenda.InRoom}); again.ID != first.ID {
		t.Errorf("recording the same mode again opened stretch %d, want %d", again.ID, first.ID)
	}
	seq = w.checkPublished(t, m.ID, seq)

	// A change of mode closes one stretch and opens the next at the same instant.
	w.clock.Advance(10 * time.Minute)
	second := arrive(agenda.AttendanceInput{UserID: chair, Mode: agenda.RemoteVoting})
	seq = w.checkPublished(t, m.ID, seq, agenda.EvAttendanceLeft, agenda.EvAttendanceArrived)
	att, err := w.svc.ListAttendance(w.ctx, public, m.ID)
	w.must(err)
	if len(att) != 2 || att[0].LeftAt == nil || !att[0].LeftAt.Equal(second.ArrivedAt) || att[1].LeftAt != nil {
		t.Fatalf("attendance after a change of mode: got %+v", att)
	}
	if !agenda.PresentThroughout(att, chair, first.ArrivedAt, nil, w.clock.Now().Add(time.Hour)) {
		t.Error("a change of mode broke presence")
	}

	// A member with apologies who arrives has their apology withdrawn.
	_, err = w.svc.RecordApology(w.ctx, w.member, m.ID, member, "train delayed")
	w.must(err)
	arrive(agenda.AttendanceInput{UserID: member, Mode: agenda.ByProxy, ProxyHolderID: chair})
	seq = w.checkPublished(t, m.ID, seq, agenda.EvApologyRecorded, agenda.EvAttendanceArrived)
	if aps, _ := w.svc.ListApologies(w.ctx, w.clerk, m.ID); len(aps) != 0 {
		t.Errorf("apologies after arriving: got %+v, want none", aps)
	}
	// And someone present cannot send apologies.
	if _, err := w.svc.RecordApology(w.ctx, w.clerk, m.ID, chair, ""); !is(err, agenda.ErrConflict) {
		t.Errorf("apology from someone present: got %v, want a conflict", err)
	}

	// The holder leaves, and the proxy they held goes with them.
	w.clock.Advance(time.Minute)
	left, err := w.svc.RecordDeparture(w.ctx, w.clerk, m.ID, chair)
	w.must(err)
	if left.LeftAt == nil || !left.LeftAt.Equal(w.clock.Now()) {
		t.Errorf("departure: got left at %v, want %v", left.LeftAt, w.clock.Now())
	}
	w.checkPublished(t, m.ID, seq, agenda.EvAttendanceLeft, agenda.EvAttendanceLeft)
	att, err = w.svc.ListAttendance(w.ctx, public, m.ID)
	w.must(err)
	for _, a := range att {
		if a.LeftAt == nil {
			t.Errorf("still open after the holder left: %+v", a)
		}
	}
	if _, err := w.svc.RecordDeparture(w.ctx, w.clerk, m.ID, chair); !is(err, agenda.ErrConflict) {
		t.Errorf("a second departure: got %v, want a conflict", err)
	}

	t.Run("a holder who changes mode keeps the proxies held", func(t *testing.T) {
		m, _ := w.startedMeetingOf(w.committee.ID)
		for _, in := range []agenda.AttendanceInput{{UserID: chair, Mode: agenda.InRoom},
			{UserID: member, Mode: agenda.ByProxy, ProxyHolderID: chair}, {UserID: chair, Mode: agenda.RemoteVoting}} {
			w.clock.Advance(time.Minute)
			_, err := w.svc.RecordArrival(w.ctx, w.clerk, m.ID, in)
			w.must(err)
		}
		att, err := w.svc.ListAttendance(w.ctx, w.clerk, m.ID)
		w.must(err)
		if _, ok := agenda.PresentAt(att, member, w.clock.Now()); !ok {
			t.Errorf("after the holder changed mode, the proxy they held is no longer present")
		}
	})
}

func testPresence(t *testing.T, w *world) {
	wales := w.committeeWith("wales")
	m, _ := w.startedMeetingOf(w.committee.ID)
	wm, _ := w.startedMeetingOf(wales.ID)
	open := func(meetingID, userID int64) *agenda.Attendance {
		t.Helper()
		att, err := w.svc.ListAttendance(w.ctx, w.clerk, meetingID)
		w.must(err)
		for _, a := range att {
			if a.UserID == userID && a.LeftAt == nil {
				return &a
			}
		}
		return nil
	}
	seq, wseq := m.LastSeq, wm.LastSeq

	t.Run("a remote member joins in the mode the rules give", func(t *testing.T) {
		w.must(w.svc.OnJoin(w.ctx, m.ID, w.member.UserID, w.clock.Now()))
		seq = w.checkPublished(t, m.ID, seq, agenda.EvAttendanceArrived)
		w.must(w.svc.OnJoin(w.ctx, wm.ID, w.member.UserID, w.clock.Now()))
		wseq = w.checkPublished(t, wm.ID, wseq, agenda.EvAttendanceArrived)
		if a := open(m.ID, w.member.UserID); a == nil || a.Mode != agenda.RemoteNonVoting || a.Source != agenda.ByPresence {
			t.Errorf("england: got %+v, want remote_non_voting from presence", a)
		}
		if a := open(wm.ID, w.member.UserID); a == nil || a.Mode != agenda.RemoteVoting {
			t.Errorf("wales: got %+v, want remote_voting", a)
		}
	})
	t.Run("joining again changes nothing", func(t *testing.T) {
		w.must(w.svc.OnJoin(w.ctx, m.ID, w.member.UserID, w.clock.Now()))
		seq = w.checkPublished(t, m.ID, seq)
	})
	t.Run("leaving ends what presence recorded", func(t *testing.T) {
		w.clock.Advance(time.Minute)
		w.must(w.svc.OnLeave(w.ctx, wm.ID, w.member.UserID, w.clock.Now()))
		if a := open(wm.ID, w.member.UserID); a != nil {
			t.Errorf("still present after leaving: %+v", a)
		}
		wseq = w.checkPublished(t, wm.ID, wseq, agenda.EvAttendanceLeft)
	})
	t.Run("someone the clerk recorded in the room stays so", func(t *testing.T) {
		_, err := w.svc.RecordArrival(w.ctx, w.clerk, m.ID, agenda.AttendanceInput{UserID: w.member2.UserID, Mode: agenda.InRoom})
		w.must(err)
		seq = w.checkPublished(t, m.ID, seq, agenda.EvAttendanceArrived)
		w.must(w.svc.OnJoin(w.ctx, m.ID, w.member2.UserID, w.clock.Now()))
		w.must(w.svc.OnLeave(w.ctx, m.ID, w.member2.UserID, w.clock.Now()))
		if a := open(m.ID, w.member2.UserID); a == nil || a.Mode != agenda.InRoom || a.Source != agenda.ByClerk {
			t.Errorf("after joining and leaving the room: got %+v, want still in the room", a)
		}
		seq = w.checkPublished(t, m.ID, seq)
	})
	t.Run("leaving when not present changes nothing", func(t *testing.T) {
		w.must(w.svc.OnLeave(w.ctx, m.ID, w.member3.UserID, w.clock.Now()))
		seq = w.checkPublished(t, m.ID, seq)
	})
	t.Run("nothing is recorded once the meeting is closed", func(t *testing.T) {
		_, err := w.svc.CloseMeeting(w.ctx, w.clerk, wm.ID)
		w.must(err)
		wseq = w.get(wm.ID).LastSeq
		w.pub.take()
		w.must(w.svc.OnJoin(w.ctx, wm.ID, w.member3.UserID, w.clock.Now()))
		w.checkPublished(t, wm.ID, wseq)
	})
}

func TestPresentThroughout(t *testing.T) {
	at := func(min int) time.Time { return start.Add(time.Duration(min) * time.Minute) }
	tp := func(min int) *time.Time { v := at(min); return &v }
	const u = 7
	stretch := func(from int, to *time.Time) agenda.Attendance {
		return agenda.Attendance{UserID: u, ArrivedAt: at(from), LeftAt: to}
	}
	tests := []struct {
		name       string
		att        []agenda.Attendance
		start, end int // end < 0: the item is still going
		want       bool
	}{
		{"present all along", []agenda.Attendance{stretch(0, nil)}, 10, 20, true},
		{"still going and still present", []agenda.Attendance{stretch(0, nil)}, 10, -1, true},
		{"arrived late", []agenda.Attendance{stretch(11, nil)}, 10, 20, false},
		{"arrived on the dot", []agenda.Attendance{stretch(10, nil)}, 10, 20, true},
		{"left early", []agenda.Attendance{stretch(0, tp(15))}, 10, 20, false},
		{"left as the item ended", []agenda.Attendance{stretch(0, tp(20))}, 10, 20, true},
		{"a change of mode mid-item", []agenda.Attendance{stretch(0, tp(15)), stretch(15, nil)}, 10, 20, true},
		{"out and back", []agenda.Attendance{stretch(0, tp(15)), stretch(16, nil)}, 10, 20, false},
		{"someone else present", []agenda.Attendance{{UserID: u + 1, ArrivedAt: at(0)}}, 10, 20, false},
		{"no one", nil, 10, 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var end *time.Time
			if tt.end >= 0 {
				end = tp(tt.end)
			}
			if got := agenda.PresentThroughout(tt.att, u, at(tt.start), end, at(30)); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func testDeclarations(t *testing.T, w *world) {
	m, items := w.startedMeetingOf(w.committee.ID, standardAgenda()...)
	other, otherItems := w.startedMeetingOf(w.committee.ID, agenda.ItemInput{Title: "Elsewhere"})
	_ = other
	tests := []struct {
		name    string
		by      agenda.Actor
		in      agenda.DeclarationInput
		want    error
		fields  []string
		private bool
	}{
		{"a member's own, at the start", w.member, agenda.DeclarationInput{UserID: w.member.UserID, Kind: agenda.Registrable,
			Description: "member of the rambling club"}, nil, nil, false},
		{"by the clerk, on an item", w.clerk, agenda.DeclarationInput{UserID: w.member2.UserID, ItemID: items[1].ID, Kind: agenda.Pecuniary,
			Description: "owns the land", Withdraws: true}, nil, nil, false},
		{"on an exempt item, privately", w.member3, agenda.DeclarationInput{UserID: w.member3.UserID, ItemID: items[2].ID,
			Kind: agenda.NonRegistrable, Description: "related to a post holder"}, nil, nil, true},
		{"for another member", w.member, agenda.DeclarationInput{UserID: w.member2.UserID, Kind: agenda.NonRegistrable,
			Description: "x"}, agenda.ErrForbidden, nil, false},
		{"bad fields", w.clerk, agenda.DeclarationInput{UserID: w.officer.UserID, ItemID: otherItems[0].ID, Kind: "vague"},
			agenda.ErrInvalid, []string{"description", "item_id", "kind", "user_id"}, false},
	}
	seq := m.LastSeq
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := w.svc.Declare(w.ctx, tt.by, m.ID, tt.in)
			if !is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.fields != nil {
				same(t, "fields", fieldErrors(err), tt.fields)
			}
			if err != nil {
				seq = w.checkPublished(t, m.ID, seq)
				return
			}
			seq = w.checkPublished(t, m.ID, seq, agenda.EvDeclarationRecorded)
			if ev := w.journal(m.ID); ev[len(ev)-1].Private != tt.private {
				t.Errorf("event private: got %v, want %v", ev[len(ev)-1].Private, tt.private)
			}
			if d.ID == 0 || d.ItemID != tt.in.ItemID || !d.CreatedAt.Equal(w.clock.Now()) {
				t.Errorf("declaration: got %+v", d)
			}
		})
	}
	decls, err := w.svc.ListDeclarations(w.ctx, w.clerk, m.ID)
	w.must(err)
	if len(decls) != 3 {
		t.Errorf("declarations: got %d, want 3", len(decls))
	}

}

func testMotions(t *testing.T, w *world) {
	m, items := w.startedMeetingOf(w.committee.ID, standardAgenda()...)
	item, exempt := items[1], items[2]
	seq := m.LastSeq
	propose := func(by agenda.Actor, in agenda.MotionInput) (agenda.Motion, error) {
		mo, err := w.svc.ProposeMotion(w.ctx, by, m.ID, in)
		if err == nil {
			seq = w.checkPublished(t, m.ID, seq, agenda.EvMotionProposed)
		} else {
			seq = w.checkPublished(t, m.ID, seq)
		}
		return mo, err
	}
	motion, err := propose(w.member, agenda.MotionInput{ItemID: item.ID, Text: "That permission be granted", ProposerID: w.member.UserID})
	w.must(err)
	if motion.Status != agenda.Proposed || motion.SeconderID != 0 {
		t.Errorf("new motion: got %+v", motion)
	}
	amendment, err := propose(w.chair, agenda.MotionInput{ItemID: item.ID, AmendsID: motion.ID, Text: "add condition 12",
		ProposerID: w.member2.UserID, SeconderID: w.member3.UserID})
	w.must(err)
	if amendment.Status != agenda.Seconded {
		t.Errorf("amendment with a seconder: got status %s, want seconded", amendment.Status)
	}
	_, err = propose(w.chair, agenda.MotionInput{ItemID: exempt.ID, Text: "Approve", ProposerID: w.chair.UserID})
	w.must(err)
	if ev := w.journal(m.ID); !ev[len(ev)-1].Private {
		t.Error("a motion on an exempt item was journalled as public")
	}

	bad := []struct {
		name   string
		in     agenda.MotionInput
		fields []string
	}{
		{"no text or proposer", agenda.MotionInput{ItemID: item.ID}, []string{"proposer_id", "text"}},
		{"seconded by the proposer", agenda.MotionInput{ItemID: item.ID, Text: "x", ProposerID: w.member.UserID, SeconderID: w.member.UserID}, []string{"seconder_id"}},
		{"an officer proposing", agenda.MotionInput{ItemID: item.ID, Text: "x", ProposerID: w.officer.UserID}, []string{"proposer_id"}},
		{"an item of no meeting", agenda.MotionInput{ItemID: 9999, Text: "x", ProposerID: w.member.UserID}, []string{"item_id"}},
		{"amending a motion on another item", agenda.MotionInput{ItemID: items[0].ID, AmendsID: motion.ID, Text: "x", ProposerID: w.member.UserID}, []string{"amends_id"}},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			_, err := propose(w.clerk, b.in)
			same(t, "fields", fieldErrors(err), b.fields)
		})
	}

	update := func(by agenda.Actor, id int64, p agenda.MotionPatch) (agenda.Motion, error) {
		mo, err := w.svc.UpdateMotion(w.ctx, by, m.ID, id, p)
		if err == nil {
			seq = w.checkPublished(t, m.ID, seq, agenda.EvMotionUpdated)
		} else {
			seq = w.checkPublished(t, m.ID, seq)
		}
		return mo, err
	}
	carried := agenda.Carried
	if _, err := update(w.chair, motion.ID, agenda.MotionPatch{Status: &carried}); !is(err, agenda.ErrInvalid) {
		t.Errorf("deciding an unseconded motion: got %v, want invalid", err)
	}
	if _, err := update(w.member2, motion.ID, agenda.MotionPatch{Status: &carried}); !is(err, agenda.ErrForbidden) {
		t.Errorf("a member deciding a motion: got %v, want forbidden", err)
	}
	seconded, err := update(w.member2, motion.ID, agenda.MotionPatch{SeconderID: &w.member2.UserID})
	w.must(err)
	if seconded.Status != agenda.Seconded || seconded.SeconderID != w.member2.UserID {
		t.Errorf("after seconding: got %+v", seconded)
	}
	fallen := agenda.Fallen
	_, err = update(w.chair, amendment.ID, agenda.MotionPatch{Status: &fallen})
	w.must(err)
	if _, err := propose(w.chair, agenda.MotionInput{ItemID: item.ID, AmendsID: amendment.ID, Text: "x", ProposerID: w.member.UserID}); !is(err, agenda.ErrInvalid) {
		t.Errorf("amending a fallen amendment: got %v, want invalid", err)
	}
	decided, err := update(w.chair, motion.ID, agenda.MotionPatch{Status: &carried})
	w.must(err)
	if decided.Status != agenda.Carried {
		t.Errorf("status: got %s, want carried", decided.Status)
	}
	lost := agenda.Lost
	if _, err := update(w.chair, motion.ID, agenda.MotionPatch{Status: &lost}); !is(err, agenda.ErrConflict) {
		t.Errorf("changing a decided motion: got %v, want a conflict", err)
	}
	public, err := w.svc.ListMotions(w.ctx, agenda.Anyone, m.ID)
	w.must(err)
	if len(public) != 2 {
		t.Errorf("motions the public sees: got %d, want 2", len(public))
	}
}

func testSubstitutionsApologiesAndSpeakers(t *testing.T, w *world) {
	m, items := w.startedMeetingOf(w.committee.ID, standardAgenda()...)
	seq := m.LastSeq

	sub, err := w.svc.RecordSubstitution(w.ctx, w.clerk, m.ID, w.substitute.UserID, w.member.UserID)
	w.must(err)
	seq = w.checkPublished(t, m.ID, seq, agenda.EvSubstitutionRecorded)
	got, err := w.svc.ListSubstitutions(w.ctx, public, m.ID)
	w.must(err)
	same(t, "substitutions", got, []agenda.Substitution{sub})
	_, err = w.svc.RecordSubstitution(w.ctx, w.clerk, m.ID, w.member2.UserID, w.substitute.UserID)
	same(t, "a member substituting for a substitute", fieldErrors(err), []string{"member_id", "substitute_id"})
	w.must(w.svc.RemoveSubstitution(w.ctx, w.clerk, m.ID, w.substitute.UserID))
	seq = w.checkPublished(t, m.ID, seq, agenda.EvSubstitutionRemoved)
	if err := w.svc.RemoveSubstitution(w.ctx, w.clerk, m.ID, w.substitute.UserID); !is(err, agenda.ErrNotFound) {
		t.Errorf("removing it again: got %v, want not found", err)
	}

	_, err = w.svc.RecordApology(w.ctx, w.member2, m.ID, w.member2.UserID, " unwell ")
	w.must(err)
	aps, err := w.svc.ListApologies(w.ctx, public, m.ID)
	w.must(err)
	if len(aps) != 1 || aps[0].Reason != "unwell" {
		t.Errorf("apologies: got %+v", aps)
	}
	if _, err := w.svc.RecordApology(w.ctx, w.clerk, m.ID, w.officer.UserID, ""); !is(err, agenda.ErrInvalid) {
		t.Errorf("apology from an officer: got %v, want invalid", err)
	}
	w.must(w.svc.WithdrawApology(w.ctx, w.member2, m.ID, w.member2.UserID))
	seq = w.checkPublished(t, m.ID, seq, agenda.EvApologyRecorded, agenda.EvApologyWithdrawn)

	first, err := w.svc.RegisterSpeaker(w.ctx, w.clerk, m.ID, agenda.SpeakerInput{ItemID: items[1].ID, Name: "Olive Objector",
		Capacity: agenda.Objector, Email: "Olive@Example.org"})
	w.must(err)
	second, err := w.svc.RegisterSpeaker(w.ctx, w.clerk, m.ID, agenda.SpeakerInput{ItemID: items[1].ID, Name: "Andy Applicant",
		Capacity: agenda.Applicant, Seconds: 300})
	w.must(err)
	if first.Position != 1 || second.Position != 2 || first.Seconds != agenda.DefaultSpeakingTime || first.Email != "olive@example.org" {
		t.Errorf("speakers: got %+v and %+v", first, second)
	}
	seq = w.checkPublished(t, m.ID, seq, agenda.EvSpeakerRegistered, agenda.EvSpeakerRegistered)
	for _, e := range w.journal(m.ID) {
		if e.Type == agenda.EvSpeakerRegistered && strings.Contains(string(e.Data), "olive@example.org") {
			t.Error("a speaker's email was journalled")
		}
	}
	_, err = w.svc.RegisterSpeaker(w.ctx, w.clerk, m.ID, agenda.SpeakerInput{ItemID: items[2].ID, Name: "X", Capacity: "heckler", Seconds: 5})
	same(t, "bad speaker", fieldErrors(err), []string{"capacity", "item_id", "seconds"})
	w.must(w.svc.RemoveSpeaker(w.ctx, w.clerk, m.ID, first.ID))
	w.checkPublished(t, m.ID, seq, agenda.EvSpeakerRemoved)
	left, err := w.svc.ListSpeakers(w.ctx, w.clerk, m.ID)
	w.must(err)
	if len(left) != 1 || left[0].ID != second.ID {
		t.Errorf("speakers after removal: got %+v", left)
	}
}

func repeat(s string, n int) []string {
	out := []string{}
	for range n {
		out = append(out, s)
	}
	return out
}
