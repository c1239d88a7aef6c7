package agenda

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// visible reports whether the actor may see the meeting at all.
func visible(a Actor, m Meeting) bool {
	return m.Published || a.CanReadPrivate(m.CouncilID, m.CommitteeID)
}

// MeetingInput creates a meeting.
type MeetingInput struct {
	CommitteeID int64     `json:"committee_id"`
	Title       string    `json:"title"`
	StartsAt    time.Time `json:"starts_at"`
	Location    string    `json:"location,omitempty"`
	Published   bool      `json:"published"`
}

func (in *MeetingInput) check() error {
	in.Title = strings.TrimSpace(in.Title)
	var c checker
	if in.CommitteeID <= 0 {
		c.add("committee_id", "is required")
	}
	c.text("title", in.Title, true, 300)
	if in.StartsAt.IsZero() {
		c.add("starts_at", "is required (RFC 3339, e.g. 2026-12-01T18:30:00Z)")
	}
	c.text("location", in.Location, false, 300)
	return c.err()
}

// CreateMeeting schedules a meeting. Clerks of the committee's council only.
func (s *Service) CreateMeeting(ctx context.Context, actor Actor, in MeetingInput) (Meeting, error) {
	if actor.Anonymous() {
		return Meeting{}, ErrUnauthenticated
	}
	if err := in.check(); err != nil {
		return Meeting{}, err
	}
	var m Meeting
	err := s.write(ctx, actor, func(o *op) error {
		cm, err := o.GetCommittee(ctx, in.CommitteeID)
		if err != nil {
			return invalidRef("committee_id", err)
		}
		if !actor.IsClerk(cm.CouncilID) {
			return actor.forbid()
		}
		m = Meeting{CommitteeID: cm.ID, CouncilID: cm.CouncilID, Title: in.Title, StartsAt: in.StartsAt.UTC().Truncate(time.Second),
			Location: in.Location, Published: in.Published, Status: Scheduled, Session: PublicSession,
			CreatedAt: o.now, UpdatedAt: o.now}
		if err := o.CreateMeeting(ctx, &m); err != nil {
			return err
		}
		if err := o.emit(m.ID, EvMeetingCreated, false, m); err != nil {
			return err
		}
		m.LastSeq = o.lastSeq(m.ID, 0)
		return nil
	})
	return m, err
}

// invalidRef turns a missing referenced row into a validation error on the field that
// named it: the request is wrong, not the URL.
func invalidRef(field string, err error) error {
	if isNotFound(err) {
		return invalid(field, "does not exist")
	}
	return err
}

// MeetingPatch changes a meeting; nil fields stay as they are.
type MeetingPatch struct {
	Title     *string    `json:"title,omitempty"`
	StartsAt  *time.Time `json:"starts_at,omitempty"`
	Location  *string    `json:"location,omitempty"`
	Published *bool      `json:"published,omitempty"`
}

// UpdateMeeting changes a meeting's details or publishes its agenda. Clerks only; a
// closed meeting cannot be changed.
func (s *Service) UpdateMeeting(ctx context.Context, actor Actor, id int64, p MeetingPatch) (Meeting, error) {
	var m Meeting
	err := s.write(ctx, actor, func(o *op) error {
		var err error
		if m, err = o.meeting(id); err != nil {
			return err
		}
		if !visible(actor, m) {
			return notFound("meeting", id)
		}
		if !actor.IsClerk(m.CouncilID) {
			return actor.forbid()
		}
		if m.Status == Closed {
			return conflict("meeting %d is closed", id)
		}
		in := MeetingInput{CommitteeID: m.CommitteeID, Title: m.Title, StartsAt: m.StartsAt, Location: m.Location, Published: m.Published}
		if p.Title != nil {
			in.Title = *p.Title
		}
		if p.StartsAt != nil {
			in.StartsAt = *p.StartsAt
		}
		if p.Location != nil {
			in.Location = *p.Location
		}
		if p.Published != nil {
			in.Published = *p.Published
		}
		if err := in.check(); err != nil {
			return err
		}
		m.Title, m.StartsAt, m.Location, m.Published = in.Title, in.StartsAt.UTC().Truncate(time.Second), in.Location, in.Published
		m.UpdatedAt = o.now
		return s.saveMeeting(o, &m, EvMeetingUpdated)
	})
	return m, err
}

// saveMeeting stores m and journals it as typ.
func (s *Service) saveMeeting(o *op, m *Meeting, typ string) error {
	if err := o.UpdateMeeting(o.ctx, *m); err != nil {
		return err
	}
	if err := o.emit(m.ID, typ, false, m); err != nil {
		return err
	}
	m.LastSeq = o.lastSeq(m.ID, m.LastSeq)
	return nil
}

// GetMeeting returns a meeting the actor may see. An unpublished meeting is not found
// for those who may not see it.
func (s *Service) GetMeeting(ctx context.Context, actor Actor, id int64) (Meeting, error) {
	var m Meeting
	err := s.read(ctx, func(tx Tx) error {
		var err error
		if m, err = tx.GetMeeting(ctx, id); err != nil {
			return err
		}
		if !visible(actor, m) {
			return notFound("meeting", id)
		}
		return nil
	})
	return m, err
}

// MeetingQuery filters a list of meetings.
type MeetingQuery struct {
	CouncilID   int64
	CommitteeID int64
	Status      MeetingStatus
	From, To    time.Time
	Cursor      string
	Limit       int
}

// Page sizes for lists.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ListMeetings lists the meetings the actor may see, by start time. The public sees
// published meetings only.
func (s *Service) ListMeetings(ctx context.Context, actor Actor, q MeetingQuery) (Page[Meeting], error) {
	f := MeetingFilter{CouncilID: q.CouncilID, CommitteeID: q.CommitteeID, Status: q.Status, From: q.From, To: q.To, Limit: q.Limit}
	var c checker
	if q.Status != "" && q.Status != Scheduled && q.Status != InProgress && q.Status != Adjourned && q.Status != Closed {
		c.add("status", "must be scheduled, in_progress, adjourned or closed")
	}
	switch {
	case f.Limit == 0:
		f.Limit = DefaultPageSize
	case f.Limit < 0 || f.Limit > MaxPageSize:
		c.add("limit", "must be between 1 and %d", MaxPageSize)
	}
	if q.Cursor != "" {
		cur, err := decodeCursor(q.Cursor)
		if err != nil {
			c.add("cursor", "is not a cursor this server gave")
		}
		f.After = &cur
	}
	if err := c.err(); err != nil {
		return Page[Meeting]{}, err
	}
	if !actor.Admin {
		f.PublishedOnly = true
		for id := range actor.Committees {
			f.VisibleCommittees = append(f.VisibleCommittees, id)
		}
		for id, r := range actor.Councils {
			if r == RoleClerk || r == RoleOfficer {
				f.VisibleCouncils = append(f.VisibleCouncils, id)
			}
		}
	}
	want := f.Limit
	f.Limit++ // one more tells whether there is a next page
	var out []Meeting
	err := s.read(ctx, func(tx Tx) error {
		var err error
		out, err = tx.ListMeetings(ctx, f)
		return err
	})
	if err != nil {
		return Page[Meeting]{}, err
	}
	page := Page[Meeting]{Items: out}
	if len(out) > want {
		page.Items = out[:want]
		last := page.Items[want-1]
		page.Next = encodeCursor(MeetingCursor{StartsAt: last.StartsAt, ID: last.ID})
	}
	if page.Items == nil {
		page.Items = []Meeting{}
	}
	return page, nil
}

func encodeCursor(c MeetingCursor) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", c.StartsAt.UnixMicro(), c.ID))
}

func decodeCursor(s string) (MeetingCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return MeetingCursor{}, err
	}
	at, id, ok := strings.Cut(string(b), ".")
	if !ok {
		return MeetingCursor{}, fmt.Errorf("bad cursor")
	}
	us, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil {
		return MeetingCursor{}, fmt.Errorf("bad cursor")
	}
	return MeetingCursor{StartsAt: time.UnixMicro(us).UTC(), ID: n}, nil
}

// running loads a meeting the actor may run.
func (s *Service) running(o *op, id int64) (Meeting, error) {
	m, err := o.meeting(id)
	if err != nil {
		return Meeting{}, err
	}
	if !visible(o.actor, m) {
		return Meeting{}, notFound("meeting", id)
	}
	if !o.actor.CanRun(m.CouncilID, m.CommitteeID) {
		return Meeting{}, o.actor.forbid()
	}
	return m, nil
}

// transition moves a meeting from one of the statuses in from to status to.
func (s *Service) transition(ctx context.Context, actor Actor, id int64, to MeetingStatus, typ string, from ...MeetingStatus) (Meeting, error) {
	var m Meeting
	err := s.write(ctx, actor, func(o *op) error {
		var err error
		if m, err = s.running(o, id); err != nil {
			return err
		}
		ok := false
		for _, f := range from {
			ok = ok || m.Status == f
		}
		if !ok {
			return conflict("meeting %d is %s; it cannot be %s", id, strings.ReplaceAll(string(m.Status), "_", " "), verbs[typ])
		}
		if typ == EvMeetingAdjourned || typ == EvMeetingClosed {
			if err := s.noOpenVote(o, id, "the meeting is "+verbs[typ]); err != nil {
				return err
			}
		}
		m.Status = to
		m.UpdatedAt = o.now
		switch typ {
		case EvMeetingStarted:
			m.StartedAt = &o.now
		case EvMeetingClosed:
			if err := s.closeMeeting(o, &m); err != nil {
				return err
			}
		}
		return s.saveMeeting(o, &m, typ)
	})
	return m, err
}

var verbs = map[string]string{
	EvMeetingStarted:   "started",
	EvMeetingAdjourned: "adjourned",
	EvMeetingResumed:   "resumed",
	EvMeetingClosed:    "closed",
}

// StartMeeting opens a scheduled meeting.
func (s *Service) StartMeeting(ctx context.Context, actor Actor, id int64) (Meeting, error) {
	return s.transition(ctx, actor, id, InProgress, EvMeetingStarted, Scheduled)
}

// AdjournMeeting adjourns a meeting in progress.
func (s *Service) AdjournMeeting(ctx context.Context, actor Actor, id int64) (Meeting, error) {
	return s.transition(ctx, actor, id, Adjourned, EvMeetingAdjourned, InProgress)
}

// ResumeMeeting resumes an adjourned meeting.
func (s *Service) ResumeMeeting(ctx context.Context, actor Actor, id int64) (Meeting, error) {
	return s.transition(ctx, actor, id, InProgress, EvMeetingResumed, Adjourned)
}

// CloseMeeting closes a meeting: the current item ends, everyone still present is
// recorded as leaving, and the session returns to public.
func (s *Service) CloseMeeting(ctx context.Context, actor Actor, id int64) (Meeting, error) {
	return s.transition(ctx, actor, id, Closed, EvMeetingClosed, InProgress, Adjourned)
}

func (s *Service) closeMeeting(o *op, m *Meeting) error {
	m.ClosedAt = &o.now
	if m.CurrentItemID != 0 {
		it, err := o.GetItem(o.ctx, m.CurrentItemID)
		if err != nil {
			return err
		}
		it.Status, it.EndedAt = Done, &o.now
		if err := s.saveItem(o, *m, it, EvItemUpdated); err != nil {
			return err
		}
		m.CurrentItemID = 0
	}
	if m.Session == PrivateSession {
		if err := s.setSession(o, m, PublicSession, 0, "meeting closed", 0); err != nil {
			return err
		}
	}
	att, err := o.ListAttendance(o.ctx, m.ID)
	if err != nil {
		return err
	}
	holders := map[int64]bool{} // people who have left, and with them the proxies they held
	for _, a := range att {
		if a.LeftAt != nil || (a.Mode == ByProxy && holders[a.ProxyHolderID]) {
			continue
		}
		if err := s.leave(o, a); err != nil {
			return err
		}
		holders[a.UserID] = true
	}
	return nil
}

// NextItem moves the meeting to the first item on the agenda not yet taken.
func (s *Service) NextItem(ctx context.Context, actor Actor, id int64) (Meeting, error) {
	return s.moveTo(ctx, actor, id, func(items []Item, _ Meeting) (int64, error) {
		for _, it := range items {
			if it.Status == Pending {
				return it.ID, nil
			}
		}
		return 0, conflict("every item on the agenda has been taken")
	})
}

// PreviousItem goes back to the item taken last, undoing a move made by mistake: the
// current item returns to pending.
func (s *Service) PreviousItem(ctx context.Context, actor Actor, id int64) (Meeting, error) {
	var m Meeting
	err := s.write(ctx, actor, func(o *op) error {
		var err error
		if m, err = s.running(o, id); err != nil {
			return err
		}
		if m.Status != InProgress {
			return conflict("meeting %d is not in progress", id)
		}
		items, err := o.ListItems(ctx, id)
		if err != nil {
			return err
		}
		var prev *Item
		for i := range items {
			it := &items[i]
			if it.Status == Done && it.EndedAt != nil && (prev == nil || it.EndedAt.After(*prev.EndedAt) ||
				(it.EndedAt.Equal(*prev.EndedAt) && it.Position > prev.Position)) {
				prev = it
			}
		}
		if prev == nil {
			return conflict("no item has been taken before this one")
		}
		if err := s.noOpenVote(o, id, "going back"); err != nil {
			return err
		}
		if m.CurrentItemID != 0 {
			cur, err := o.GetItem(ctx, m.CurrentItemID)
			if err != nil {
				return err
			}
			if err := s.notVotedOn(o, cur, "returned to pending"); err != nil {
				return err
			}
			cur.Status, cur.StartedAt, cur.EndedAt = Pending, nil, nil
			if err := s.saveItem(o, m, cur, EvItemUpdated); err != nil {
				return err
			}
			m.CurrentItemID = 0
		}
		return s.makeCurrent(o, &m, *prev)
	})
	return m, err
}

// SetCurrentItem moves the meeting to any item, for business taken out of order.
func (s *Service) SetCurrentItem(ctx context.Context, actor Actor, id, itemID int64) (Meeting, error) {
	return s.moveTo(ctx, actor, id, func(items []Item, m Meeting) (int64, error) {
		for _, it := range items {
			if it.ID == itemID {
				if it.ID == m.CurrentItemID {
					return 0, conflict("item %s is already the current item", it.Number)
				}
				return it.ID, nil
			}
		}
		return 0, invalid("item_id", "item %d is not on this meeting's agenda", itemID)
	})
}

func (s *Service) moveTo(ctx context.Context, actor Actor, id int64, pick func([]Item, Meeting) (int64, error)) (Meeting, error) {
	var m Meeting
	err := s.write(ctx, actor, func(o *op) error {
		var err error
		if m, err = s.running(o, id); err != nil {
			return err
		}
		if m.Status != InProgress {
			return conflict("meeting %d is not in progress", id)
		}
		if err := s.noOpenVote(o, id, "moving to another item"); err != nil {
			return err
		}
		items, err := o.ListItems(ctx, id)
		if err != nil {
			return err
		}
		target, err := pick(items, m)
		if err != nil {
			return err
		}
		for _, it := range items {
			if it.ID == target {
				return s.makeCurrent(o, &m, it)
			}
		}
		return notFound("item", target)
	})
	return m, err
}

// makeCurrent ends the current item, starts it, and follows the item into or out of
// private session: an exempt item is taken in private session under its paragraph.
func (s *Service) makeCurrent(o *op, m *Meeting, it Item) error {
	if m.CurrentItemID != 0 {
		cur, err := o.GetItem(o.ctx, m.CurrentItemID)
		if err != nil {
			return err
		}
		cur.Status, cur.EndedAt = Done, &o.now
		if err := s.saveItem(o, *m, cur, EvItemUpdated); err != nil {
			return err
		}
	}
	it.Status, it.EndedAt = Current, nil
	if it.StartedAt == nil {
		it.StartedAt = &o.now
	}
	if err := s.saveItem(o, *m, it, EvItemUpdated); err != nil {
		return err
	}
	m.CurrentItemID = it.ID
	m.UpdatedAt = o.now
	if err := o.UpdateMeeting(o.ctx, *m); err != nil {
		return err
	}
	if err := o.emit(m.ID, EvItemCurrent, false, it.Ref()); err != nil {
		return err
	}
	switch {
	case it.Kind == Exempt && m.Session == PublicSession:
		return s.setSession(o, m, PrivateSession, it.ExemptParagraph, "exempt item", it.ID)
	case it.Kind != Exempt && m.Session == PrivateSession:
		return s.setSession(o, m, PublicSession, 0, "", it.ID)
	}
	m.LastSeq = o.lastSeq(m.ID, m.LastSeq)
	return nil
}

// Schedule 12A paragraphs: 1–7 in England, 12–18 in Wales; Scotland's Schedule 7A has 15.
const maxParagraph = 18

// SetSession takes the meeting into private session (excluding the public under a
// Schedule 12A paragraph) or back into public session.
func (s *Service) SetSession(ctx context.Context, actor Actor, id int64, private bool, paragraph int, reason string) (Meeting, error) {
	var c checker
	if private && (paragraph < 1 || paragraph > maxParagraph) {
		c.add("paragraph", "must name the Schedule 12A paragraph relied on (1–%d)", maxParagraph)
	}
	if !private && paragraph != 0 {
		c.add("paragraph", "applies only to private session")
	}
	c.text("reason", reason, false, 1000)
	if err := c.err(); err != nil {
		return Meeting{}, err
	}
	var m Meeting
	err := s.write(ctx, actor, func(o *op) error {
		var err error
		if m, err = s.running(o, id); err != nil {
			return err
		}
		if m.Status != InProgress && m.Status != Adjourned {
			return conflict("meeting %d is not in progress", id)
		}
		want := PublicSession
		if private {
			want = PrivateSession
		}
		if m.Session == want {
			return conflict("meeting %d is already in %s session", id, want)
		}
		return s.setSession(o, &m, want, paragraph, reason, m.CurrentItemID)
	})
	return m, err
}

func (s *Service) setSession(o *op, m *Meeting, st SessionState, paragraph int, reason string, itemID int64) error {
	m.Session, m.PrivateParagraph, m.UpdatedAt = st, paragraph, o.now
	if err := o.UpdateMeeting(o.ctx, *m); err != nil {
		return err
	}
	typ := EvSessionPublic
	if st == PrivateSession {
		typ = EvSessionPrivate
	}
	if err := o.emit(m.ID, typ, false, SessionChange{Session: st, Paragraph: paragraph, Reason: reason, ItemID: itemID}); err != nil {
		return err
	}
	m.LastSeq = o.lastSeq(m.ID, m.LastSeq)
	return nil
}

// canEditAgenda loads a meeting whose agenda the actor may change.
func (s *Service) canEditAgenda(o *op, id int64) (Meeting, error) {
	m, err := o.meeting(id)
	if err != nil {
		return Meeting{}, err
	}
	if !visible(o.actor, m) {
		return Meeting{}, notFound("meeting", id)
	}
	if !o.actor.IsClerk(m.CouncilID) {
		return Meeting{}, o.actor.forbid()
	}
	if m.Status == Closed {
		return Meeting{}, conflict("meeting %d is closed", id)
	}
	return m, nil
}
