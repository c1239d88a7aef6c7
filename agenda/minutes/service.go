package minutes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// Journal event types the minutes append to a meeting's journal. The data of each is
// an Event.
const (
	// EvMinutesDrafted: the minutes were drafted, or redrafted; private.
	EvMinutesDrafted = "minutes.drafted"
	// EvMinutesEdited: the clerk edited the draft (Items names the items); private.
	EvMinutesEdited = "minutes.edited"
	// EvMinutesApproved: the chair approved the minutes at a later meeting. It is
	// appended to the journals of both meetings.
	EvMinutesApproved = "minutes.approved"
	// EvMinutesPublished: the minutes were published and frozen.
	EvMinutesPublished = "minutes.published"
	// EvMinutesCorrected: a correction was published as a new version; Summary is
	// the public summary of what changed.
	EvMinutesCorrected = "minutes.corrected"
)

// Event is the data of a minutes event.
type Event struct {
	// Meeting is the meeting whose minutes these are (the approving meeting's journal
	// also has the approval).
	Meeting    int64       `json:"meeting"`
	Version    int         `json:"version"`
	Status     Status      `json:"status"`
	Redraft    bool        `json:"redraft,omitempty"`
	Items      []int64     `json:"items,omitempty"`
	ApprovedAt *MeetingRef `json:"approved_at,omitempty"`
	Supersedes int         `json:"supersedes,omitempty"`
	Reason     string      `json:"reason,omitempty"`
	Summary    string      `json:"summary,omitempty"`
}

// Agenda is what the minutes read from the agenda. *agenda.Service satisfies it.
type Agenda interface {
	GetMeeting(ctx context.Context, actor agenda.Actor, id int64) (agenda.Meeting, error)
	MeetingRecords(ctx context.Context, actor agenda.Actor, meetingID int64) (agenda.MeetingRecords, error)
	ListMeetings(ctx context.Context, actor agenda.Actor, q agenda.MeetingQuery) (agenda.Page[agenda.Meeting], error)
	GetCouncil(ctx context.Context, id int64) (agenda.Council, error)
	ListCommittees(ctx context.Context, councilID int64) ([]agenda.Committee, error)
}

// Votes reads a meeting's vote record as an actor may see it. *voting.Service
// satisfies it.
type Votes interface {
	Record(ctx context.Context, actor agenda.Actor, meetingID int64) (*voting.Record, error)
}

// Publisher tells the live room about journal events once they have committed; the
// agenda's Publisher satisfies it.
type Publisher interface {
	Publish(ctx context.Context, events ...agenda.Event)
}

// DefaultZone is the time zone minutes show times in unless told otherwise.
const DefaultZone = "Europe/London"

// Options configures a Service. Zero values get defaults.
type Options struct {
	Publisher Publisher
	Logger    *slog.Logger
	Now       func() time.Time
	// Zone is the IANA time zone minutes show times in (DefaultZone by default).
	Zone string
}

// Service drafts, edits, approves, publishes and corrects minutes, and reads them as
// each actor may see them.
type Service struct {
	store  Store
	agenda Agenda
	votes  Votes
	pub    Publisher
	log    *slog.Logger
	now    func() time.Time
	zone   string
}

// NewService returns a Service over store, reading meetings from ag and votes from
// votes.
func NewService(store Store, ag Agenda, votes Votes, opts Options) *Service {
	s := &Service{store: store, agenda: ag, votes: votes, pub: opts.Publisher, log: opts.Logger, now: opts.Now, zone: opts.Zone}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.zone == "" {
		s.zone = DefaultZone
	}
	return s
}

// clock is the current time in UTC to the microsecond, as both databases keep it.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Limits on what the clerk writes, in characters.
const (
	MaxText   = 100_000 // notes or decision of one item
	MaxReason = 2000    // a correction's reason
)

// ItemEdit changes the clerk's text of one item; nil fields stay as they are.
type ItemEdit struct {
	ItemID   int64   `json:"item_id"`
	Notes    *string `json:"notes,omitempty"`
	Decision *string `json:"decision,omitempty"`
}

// meeting reads the meeting as actor may see it.
func (s *Service) meeting(ctx context.Context, actor agenda.Actor, id int64) (agenda.Meeting, error) {
	m, err := s.agenda.GetMeeting(ctx, actor, id)
	return m, fromDomain(err)
}

// clerkOf reads a meeting whose minutes the actor may write: a clerk of its council.
func (s *Service) clerkOf(ctx context.Context, actor agenda.Actor, id int64, doing string) (agenda.Meeting, error) {
	m, err := s.meeting(ctx, actor, id)
	if err != nil {
		return agenda.Meeting{}, err
	}
	if !actor.IsClerk(m.CouncilID) {
		return agenda.Meeting{}, forbid(actor, doing+": only a clerk of the council")
	}
	return m, nil
}

// write runs fn in one transaction and publishes the events it appended once it has
// committed.
func (s *Service) write(ctx context.Context, actor agenda.Actor, fn func(tx Tx, emit func(meetingID int64, typ string, private bool, data Event) error) error) error {
	var events []agenda.Event
	err := s.store.Update(ctx, func(tx Tx) error {
		events = events[:0]
		emit := func(meetingID int64, typ string, private bool, data Event) error {
			b, err := json.Marshal(data)
			if err != nil {
				return fmt.Errorf("encode %s event: %w", typ, err)
			}
			e := agenda.Event{MeetingID: meetingID, Type: typ, At: s.clock(), ActorID: actor.UserID, Private: private, Data: b}
			if err := tx.AppendEvent(ctx, &e); err != nil {
				return fmt.Errorf("append %s event: %w", typ, err)
			}
			events = append(events, e)
			return nil
		}
		return fn(tx, emit)
	})
	if err != nil {
		return err
	}
	if s.pub != nil && len(events) > 0 {
		s.pub.Publish(ctx, events...)
	}
	return nil
}

// stamp is actor's mark at now, named as the minutes name them where they do.
func stamp(d *Document, actor agenda.Actor, now time.Time) Stamp {
	p := Person{ID: actor.UserID, Name: actor.Name}
	if known, ok := d.person(actor.UserID); ok {
		p = known
	}
	return Stamp{By: p, At: now}
}

// person finds someone the document names.
func (d *Document) person(id int64) (Person, bool) {
	for _, list := range [][]Attendee{d.Present, d.Officers, d.Others} {
		for _, a := range list {
			if a.ID == id {
				return a.Person, true
			}
		}
	}
	for _, a := range d.Apologies {
		if a.ID == id {
			return a.Person, true
		}
	}
	for _, p := range d.Absent {
		if p.ID == id {
			return p, true
		}
	}
	return Person{}, false
}

// Draft drafts the minutes of a closed meeting from its journal, its records and its
// votes: a clerk of the council only. The first draft is version 1. While the minutes
// are a draft, Draft may be called again: it rebuilds them from the records and keeps
// the text the clerk has edited, item by item (notes and decision each). Approved or
// published minutes are not redrafted (ErrConflict).
func (s *Service) Draft(ctx context.Context, actor agenda.Actor, meetingID int64) (*Minutes, error) {
	m, err := s.clerkOf(ctx, actor, meetingID, "draft minutes")
	if err != nil {
		return nil, err
	}
	if m.Status != agenda.Closed {
		return nil, conflict("meeting %d is %s; minutes are drafted once it has closed", meetingID, strings.ReplaceAll(string(m.Status), "_", " "))
	}
	doc, err := s.build(ctx, actor, meetingID)
	if err != nil {
		return nil, err
	}
	var out Minutes
	err = s.write(ctx, actor, func(tx Tx, emit func(int64, string, bool, Event) error) error {
		now := s.clock()
		cur, err := tx.Minutes(ctx, meetingID, 0)
		switch {
		case errors.Is(err, ErrNotFound):
			out = Minutes{Header: Header{MeetingID: meetingID, Version: 1, Status: Draft, Drafted: stamp(&doc, actor, now)},
				View: FullView, Document: doc}
			if err := tx.CreateMinutes(ctx, &out); err != nil {
				return err
			}
			return emit(meetingID, EvMinutesDrafted, true, Event{Meeting: meetingID, Version: 1, Status: Draft})
		case err != nil:
			return err
		case cur.Status != Draft:
			return conflict("the minutes of meeting %d are %s; they are not redrafted", meetingID, cur.Status)
		}
		keepEdits(&doc, &cur.Document)
		cur.Document, cur.Drafted, cur.View = doc, stamp(&doc, actor, now), FullView
		if err := tx.UpdateMinutes(ctx, &cur); err != nil {
			return err
		}
		out = cur
		return emit(meetingID, EvMinutesDrafted, true, Event{Meeting: meetingID, Version: cur.Version, Status: Draft, Redraft: true})
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("minutes drafted", "meeting", meetingID, "version", out.Version, "by", actor)
	return &out, nil
}

// build drafts the document from the meeting's records and its full vote record.
func (s *Service) build(ctx context.Context, actor agenda.Actor, meetingID int64) (Document, error) {
	records, err := s.agenda.MeetingRecords(ctx, actor, meetingID)
	if err != nil {
		return Document{}, fromDomain(err)
	}
	rec, err := s.votes.Record(ctx, actor, meetingID)
	switch {
	case errors.Is(err, voting.ErrNotFound):
		rec = nil // no votes
	case err != nil:
		return Document{}, fromDomain(err)
	}
	return Build(Source{Records: records, Record: rec, Zone: s.zone})
}

// keepEdits carries the clerk's edited text from the old document into the new.
func keepEdits(doc, old *Document) {
	for _, was := range old.Items {
		it := doc.Item(was.ID)
		if it == nil {
			continue
		}
		if was.NotesEdited {
			it.Notes, it.NotesEdited = was.Notes, true
		}
		if was.DecisionEdited {
			it.Decision, it.DecisionEdited = was.Decision, true
		}
	}
}

// applyEdits applies edits to doc and returns the changes they made.
func applyEdits(doc *Document, edits []ItemEdit) ([]Change, error) {
	if len(edits) == 0 {
		return nil, invalid("no edits given")
	}
	var changes []Change
	for i, e := range edits {
		it := doc.Item(e.ItemID)
		if it == nil {
			return nil, invalid("edit %d: item %d is not in the minutes", i+1, e.ItemID)
		}
		if e.Notes == nil && e.Decision == nil {
			return nil, invalid("edit %d: neither notes nor decision given", i+1)
		}
		for _, f := range []struct {
			name   string
			text   *string
			field  *string
			edited *bool
		}{{"notes", e.Notes, &it.Notes, &it.NotesEdited}, {"decision", e.Decision, &it.Decision, &it.DecisionEdited}} {
			if f.text == nil {
				continue
			}
			text := strings.ReplaceAll(*f.text, "\r\n", "\n")
			if !utf8.ValidString(text) || utf8.RuneCountInString(text) > MaxText {
				return nil, invalid("edit %d: the %s of item %s must be UTF-8 of at most %d characters", i+1, f.name, it.Number, MaxText)
			}
			if c, ok := change(it, f.name, *f.field, text); ok {
				changes = append(changes, c)
				*f.field, *f.edited = text, true
			}
		}
	}
	return changes, nil
}

// Edit changes the clerk's text of the draft: the notes and decision of items. The
// rest of the minutes (attendance, declarations, motions, votes) is what the meeting
// recorded and is not edited. A clerk of the council only; approved and published
// minutes are frozen (ErrConflict): published ones are changed by Correct.
func (s *Service) Edit(ctx context.Context, actor agenda.Actor, meetingID int64, edits ...ItemEdit) (*Minutes, error) {
	if _, err := s.clerkOf(ctx, actor, meetingID, "edit minutes"); err != nil {
		return nil, err
	}
	var out Minutes
	err := s.write(ctx, actor, func(tx Tx, emit func(int64, string, bool, Event) error) error {
		cur, err := tx.Minutes(ctx, meetingID, 0)
		if err != nil {
			return err
		}
		switch cur.Status {
		case Approved:
			return conflict("the minutes of meeting %d have been approved and are frozen", meetingID)
		case Published:
			return conflict("the minutes of meeting %d have been published and are frozen; publish a correction", meetingID)
		}
		changes, err := applyEdits(&cur.Document, edits)
		if err != nil {
			return err
		}
		out = cur
		out.View = FullView
		if len(changes) == 0 {
			return nil
		}
		st := stamp(&cur.Document, actor, s.clock())
		out.Edited = &st
		if err := tx.UpdateMinutes(ctx, &out); err != nil {
			return err
		}
		return emit(meetingID, EvMinutesEdited, true, Event{Meeting: meetingID, Version: out.Version, Status: out.Status, Items: changedItems(changes)})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func changedItems(changes []Change) []int64 {
	var ids []int64
	for _, c := range changes {
		if len(ids) == 0 || ids[len(ids)-1] != c.ItemID {
			ids = append(ids, c.ItemID)
		}
	}
	return ids
}

// Approve records that the person presiding approved the draft minutes as a correct
// record at a later meeting of the same committee, which must have begun (LGA 1972
// Sch.12 para 41): the chair or vice-chair of the committee only. Approved minutes are
// frozen until published.
func (s *Service) Approve(ctx context.Context, actor agenda.Actor, meetingID, atMeetingID int64) (*Minutes, error) {
	m, err := s.meeting(ctx, actor, meetingID)
	if err != nil {
		return nil, err
	}
	if !actor.IsChair(m.CommitteeID) {
		return nil, forbid(actor, "approve minutes: only the chair or vice-chair of the committee")
	}
	at, err := s.meeting(ctx, actor, atMeetingID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, invalid("meeting %d, at which the minutes are approved, does not exist", atMeetingID)
	case err != nil:
		return nil, err
	case at.ID == m.ID || at.CommitteeID != m.CommitteeID || !at.StartsAt.After(m.StartsAt):
		return nil, invalid("minutes are approved at a later meeting of the same committee; meeting %d is not one", atMeetingID)
	case at.StartedAt == nil:
		return nil, conflict("meeting %d has not begun; the minutes are approved at the meeting", atMeetingID)
	}
	ref := MeetingRef{ID: at.ID, Title: at.Title, StartsAt: at.StartsAt.UTC()}
	var out Minutes
	err = s.write(ctx, actor, func(tx Tx, emit func(int64, string, bool, Event) error) error {
		cur, err := tx.Minutes(ctx, meetingID, 0)
		if err != nil {
			return err
		}
		if cur.Status != Draft {
			return conflict("the minutes of meeting %d are already %s", meetingID, cur.Status)
		}
		cur.Status, cur.View = Approved, FullView
		cur.Approval = &Approval{Stamp: stamp(&cur.Document, actor, s.clock()), Meeting: ref}
		if err := tx.UpdateMinutes(ctx, &cur); err != nil {
			return err
		}
		out = cur
		ev := Event{Meeting: meetingID, Version: cur.Version, Status: Approved, ApprovedAt: &ref}
		if err := emit(meetingID, EvMinutesApproved, false, ev); err != nil {
			return err
		}
		return emit(at.ID, EvMinutesApproved, false, ev)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("minutes approved", "meeting", meetingID, "version", out.Version, "at", atMeetingID, "by", actor)
	return &out, nil
}

// Publish publishes approved minutes, which are frozen from then on: a clerk of the
// council only.
func (s *Service) Publish(ctx context.Context, actor agenda.Actor, meetingID int64) (*Minutes, error) {
	if _, err := s.clerkOf(ctx, actor, meetingID, "publish minutes"); err != nil {
		return nil, err
	}
	var out Minutes
	err := s.write(ctx, actor, func(tx Tx, emit func(int64, string, bool, Event) error) error {
		cur, err := tx.Minutes(ctx, meetingID, 0)
		if err != nil {
			return err
		}
		switch cur.Status {
		case Draft:
			return conflict("the minutes of meeting %d have not been approved", meetingID)
		case Published:
			return conflict("the minutes of meeting %d are already published", meetingID)
		}
		st := stamp(&cur.Document, actor, s.clock())
		cur.Status, cur.Published, cur.View = Published, &st, FullView
		if err := tx.UpdateMinutes(ctx, &cur); err != nil {
			return err
		}
		out = cur
		return emit(meetingID, EvMinutesPublished, false, Event{Meeting: meetingID, Version: cur.Version, Status: Published})
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("minutes published", "meeting", meetingID, "version", out.Version, "by", actor)
	return &out, nil
}

// Correct publishes a correction of published minutes as a new version: a clerk of
// the council only, with a reason, which is public. The version corrected is kept as
// it was; the new one records what changed (each field, with its text before and
// after and the lines added and removed), the reason, and who corrected it when. It
// keeps the original approval. Only the clerk's text (notes and decisions) can be
// corrected.
func (s *Service) Correct(ctx context.Context, actor agenda.Actor, meetingID int64, reason string, edits ...ItemEdit) (*Minutes, error) {
	if _, err := s.clerkOf(ctx, actor, meetingID, "correct minutes"); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxReason {
		return nil, invalid("a correction needs its reason, of at most %d characters", MaxReason)
	}
	var out Minutes
	err := s.write(ctx, actor, func(tx Tx, emit func(int64, string, bool, Event) error) error {
		cur, err := tx.Minutes(ctx, meetingID, 0)
		if err != nil {
			return err
		}
		if cur.Status != Published {
			return conflict("the minutes of meeting %d are not published; edit the draft instead", meetingID)
		}
		changes, err := applyEdits(&cur.Document, edits)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			return invalid("the correction changes nothing")
		}
		st := stamp(&cur.Document, actor, s.clock())
		next := cur
		next.Version, next.Status, next.View = cur.Version+1, Published, FullView
		next.Drafted, next.Edited, next.Published = st, nil, &st
		next.Correction = &Correction{Supersedes: cur.Version, Reason: reason, Changes: changes, Summary: summarise(changes)}
		if err := tx.CreateMinutes(ctx, &next); err != nil {
			return err
		}
		out = next
		pub, err := next.Public()
		if err != nil {
			return err
		}
		return emit(meetingID, EvMinutesCorrected, false, Event{Meeting: meetingID, Version: next.Version, Status: Published,
			Supersedes: cur.Version, Reason: reason, Summary: pub.Correction.Summary})
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("minutes corrected", "meeting", meetingID, "version", out.Version, "by", actor)
	return &out, nil
}

// Get returns the latest version of a meeting's minutes as actor may see them: the
// full minutes, in any state, for the committee's members and the council's staff;
// published minutes in their public view for everyone else (ErrNotFound before).
func (s *Service) Get(ctx context.Context, actor agenda.Actor, meetingID int64) (*Minutes, error) {
	return s.GetVersion(ctx, actor, meetingID, 0)
}

// GetVersion returns one version of a meeting's minutes (0: the latest) as actor may
// see it.
func (s *Service) GetVersion(ctx context.Context, actor agenda.Actor, meetingID int64, version int) (*Minutes, error) {
	m, err := s.meeting(ctx, actor, meetingID)
	if err != nil {
		return nil, err
	}
	var mi Minutes
	err = s.store.View(ctx, func(tx Tx) error {
		var err error
		mi, err = tx.Minutes(ctx, meetingID, version)
		return err
	})
	if err != nil {
		return nil, err
	}
	if actor.CanReadPrivate(m.CouncilID, m.CommitteeID) {
		mi.View = FullView
		return &mi, nil
	}
	if mi.Status != Published {
		return nil, fmt.Errorf("published minutes of meeting %d: %w", meetingID, ErrNotFound)
	}
	return mi.Public()
}

// Versions lists the versions of a meeting's minutes that actor may see, oldest first:
// all of them for members and staff, the published ones for everyone else.
func (s *Service) Versions(ctx context.Context, actor agenda.Actor, meetingID int64) ([]Header, error) {
	m, err := s.meeting(ctx, actor, meetingID)
	if err != nil {
		return nil, err
	}
	var hs []Header
	err = s.store.View(ctx, func(tx Tx) error {
		var err error
		hs, err = tx.Versions(ctx, meetingID)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := []Header{}
	full := actor.CanReadPrivate(m.CouncilID, m.CommitteeID)
	for _, h := range hs {
		if full || h.Status == Published {
			if c := h.Correction; !full && c != nil {
				// What changed is in the version itself, redacted for the public.
				h.Correction = &Correction{Supersedes: c.Supersedes, Reason: c.Reason}
			}
			out = append(out, h)
		}
	}
	return out, nil
}

// Export returns a version of the minutes (0: the latest) as actor may see them, with
// the meeting's vote record as actor may see it attached, for the exports.
func (s *Service) Export(ctx context.Context, actor agenda.Actor, meetingID int64, version int) (*Minutes, error) {
	mi, err := s.GetVersion(ctx, actor, meetingID, version)
	if err != nil {
		return nil, err
	}
	rec, err := s.votes.Record(ctx, actor, meetingID)
	switch {
	case errors.Is(err, voting.ErrNotFound):
		return mi, nil
	case err != nil:
		return nil, fromDomain(err)
	}
	mi.Record = rec
	if mi.View == PublicView {
		// The voting service withholds exempt business from the public already; this
		// also withholds any poll on an item the minutes do not show.
		return mi.Public()
	}
	return mi, nil
}
