package agenda

import (
	"context"
	"slices"
	"strings"
	"time"
)

// memberRole returns the person's role on the meeting's committee, or "" if none.
func memberRole(o *op, m Meeting, userID int64) (CommitteeRole, error) {
	roles, err := o.CommitteeRoles(o.ctx, userID)
	if err != nil {
		return "", err
	}
	return roles[m.CommitteeID], nil
}

// recordable loads a meeting the actor may record things in: its clerk, or (when
// self is the subject) a member acting for themselves. The meeting must not be closed.
func (s *Service) recordable(o *op, meetingID, subject int64) (Meeting, error) {
	m, err := o.meeting(meetingID)
	if err != nil {
		return Meeting{}, err
	}
	if !visible(o.actor, m) {
		return Meeting{}, notFound("meeting", meetingID)
	}
	self := subject != 0 && subject == o.actor.UserID && o.actor.InCommittee(m.CommitteeID)
	if !o.actor.IsClerk(m.CouncilID) && !self {
		return Meeting{}, o.actor.forbid()
	}
	if m.Status == Closed {
		return Meeting{}, conflict("meeting %d is closed", meetingID)
	}
	return m, nil
}

// RecordApology records a member's apology for absence. The clerk records any member's;
// a member may send their own.
func (s *Service) RecordApology(ctx context.Context, actor Actor, meetingID, userID int64, reason string) (Apology, error) {
	var a Apology
	err := s.write(ctx, actor, func(o *op) error {
		m, err := s.recordable(o, meetingID, userID)
		if err != nil {
			return err
		}
		var c checker
		c.text("reason", reason, false, 1000)
		role, err := memberRole(o, m, userID)
		if err != nil {
			return err
		}
		if role == "" {
			c.add("user_id", "is not a member of this committee")
		}
		if err := c.err(); err != nil {
			return err
		}
		if _, err := o.OpenAttendance(ctx, meetingID, userID); err == nil {
			u, err := o.GetUser(ctx, userID)
			if err != nil {
				return err
			}
			return conflict("%s is recorded as present; record their departure first", u.Name)
		} else if !isNotFound(err) {
			return err
		}
		a = Apology{MeetingID: meetingID, UserID: userID, Reason: strings.TrimSpace(reason), CreatedAt: o.now}
		if err := o.PutApology(ctx, a); err != nil {
			return err
		}
		return o.emit(meetingID, EvApologyRecorded, false, a)
	})
	return a, err
}

// WithdrawApology removes an apology recorded by mistake.
func (s *Service) WithdrawApology(ctx context.Context, actor Actor, meetingID, userID int64) error {
	return s.write(ctx, actor, func(o *op) error {
		if _, err := s.recordable(o, meetingID, userID); err != nil {
			return err
		}
		if err := o.DeleteApology(ctx, meetingID, userID); err != nil {
			return err
		}
		return o.emit(meetingID, EvApologyWithdrawn, false, Apology{MeetingID: meetingID, UserID: userID})
	})
}

// RecordSubstitution records that a substitute sits for a member at this meeting. The
// substitute must be one of the committee's substitutes, the member a voting member.
func (s *Service) RecordSubstitution(ctx context.Context, actor Actor, meetingID, substituteID, memberID int64) (Substitution, error) {
	var sub Substitution
	err := s.write(ctx, actor, func(o *op) error {
		m, err := s.recordable(o, meetingID, 0)
		if err != nil {
			return err
		}
		var c checker
		if r, err := memberRole(o, m, substituteID); err != nil {
			return err
		} else if r != Substitute {
			c.add("substitute_id", "is not one of this committee's substitutes")
		}
		if r, err := memberRole(o, m, memberID); err != nil {
			return err
		} else if !r.Voting() {
			c.add("member_id", "is not a voting member of this committee")
		}
		if err := c.err(); err != nil {
			return err
		}
		sub = Substitution{MeetingID: meetingID, SubstituteID: substituteID, MemberID: memberID, CreatedAt: o.now}
		if err := o.PutSubstitution(ctx, sub); err != nil {
			return err
		}
		return o.emit(meetingID, EvSubstitutionRecorded, false, sub)
	})
	return sub, err
}

// RemoveSubstitution removes a substitution recorded by mistake.
func (s *Service) RemoveSubstitution(ctx context.Context, actor Actor, meetingID, substituteID int64) error {
	return s.write(ctx, actor, func(o *op) error {
		if _, err := s.recordable(o, meetingID, 0); err != nil {
			return err
		}
		if err := o.DeleteSubstitution(ctx, meetingID, substituteID); err != nil {
			return err
		}
		return o.emit(meetingID, EvSubstitutionRemoved, false, Substitution{MeetingID: meetingID, SubstituteID: substituteID})
	})
}

// DeclarationInput declares an interest.
type DeclarationInput struct {
	UserID       int64           `json:"user_id"`
	ItemID       int64           `json:"item_id,omitempty"`
	Kind         DeclarationKind `json:"kind"`
	Description  string          `json:"description"`
	Withdraws    bool            `json:"withdraws"`
	Dispensation string          `json:"dispensation,omitempty"`
}

// Declare records a declaration of interest, by the member or by the clerk for them. Its
// kind must be one of those of the code of conduct the committee's rules profile follows.
func (s *Service) Declare(ctx context.Context, actor Actor, meetingID int64, in DeclarationInput) (Declaration, error) {
	var d Declaration
	err := s.write(ctx, actor, func(o *op) error {
		m, err := s.recordable(o, meetingID, in.UserID)
		if err != nil {
			return err
		}
		cm, err := o.GetCommittee(ctx, m.CommitteeID)
		if err != nil {
			return err
		}
		var c checker
		cm.Profile.Code().checkKind(&c, in.Kind)
		c.text("description", in.Description, true, 2000)
		c.text("dispensation", in.Dispensation, false, 1000)
		if p, err := o.GetPerson(ctx, m.CouncilID, in.UserID); isNotFound(err) || (err == nil && p.Role != RoleCouncillor) {
			c.add("user_id", "is not a councillor of this council")
		} else if err != nil {
			return err
		}
		private := false
		if in.ItemID != 0 {
			it, err := o.GetItem(ctx, in.ItemID)
			if isNotFound(err) || (err == nil && it.MeetingID != meetingID) {
				c.add("item_id", "is not an item of this meeting")
			} else if err != nil {
				return err
			}
			private = it.Kind == Exempt
		}
		if err := c.err(); err != nil {
			return err
		}
		d = Declaration{MeetingID: meetingID, ItemID: in.ItemID, UserID: in.UserID, Kind: in.Kind,
			Description: strings.TrimSpace(in.Description), Withdraws: in.Withdraws, Dispensation: strings.TrimSpace(in.Dispensation), CreatedAt: o.now}
		if err := o.CreateDeclaration(ctx, &d); err != nil {
			return err
		}
		return o.emit(meetingID, EvDeclarationRecorded, private, d)
	})
	return d, err
}

// MotionInput proposes a motion, or an amendment when AmendsID is set.
type MotionInput struct {
	ItemID     int64  `json:"item_id"`
	AmendsID   int64  `json:"amends_id,omitempty"`
	Text       string `json:"text"`
	ProposerID int64  `json:"proposer_id"`
	SeconderID int64  `json:"seconder_id,omitempty"`
}

// mover loads a meeting whose motions the actor may record: its clerk or chair, or a
// member proposing or seconding in their own name.
func (s *Service) mover(o *op, meetingID, self int64) (Meeting, error) {
	m, err := o.meeting(meetingID)
	if err != nil {
		return Meeting{}, err
	}
	if !visible(o.actor, m) {
		return Meeting{}, notFound("meeting", meetingID)
	}
	own := self != 0 && self == o.actor.UserID && o.actor.InCommittee(m.CommitteeID)
	if !o.actor.CanRun(m.CouncilID, m.CommitteeID) && !own {
		return Meeting{}, o.actor.forbid()
	}
	if m.Status == Closed {
		return Meeting{}, conflict("meeting %d is closed", meetingID)
	}
	return m, nil
}

// ProposeMotion records a motion or amendment on an item.
func (s *Service) ProposeMotion(ctx context.Context, actor Actor, meetingID int64, in MotionInput) (Motion, error) {
	var mo Motion
	err := s.write(ctx, actor, func(o *op) error {
		m, err := s.mover(o, meetingID, in.ProposerID)
		if err != nil {
			return err
		}
		var c checker
		c.text("text", in.Text, true, 10000)
		it, err := o.GetItem(ctx, in.ItemID)
		if isNotFound(err) || (err == nil && it.MeetingID != meetingID) {
			c.add("item_id", "is not an item of this meeting")
		} else if err != nil {
			return err
		}
		for _, who := range []struct {
			field string
			id    int64
		}{{"proposer_id", in.ProposerID}, {"seconder_id", in.SeconderID}} {
			if who.id == 0 {
				continue
			}
			if r, err := memberRole(o, m, who.id); err != nil {
				return err
			} else if r == "" {
				c.add(who.field, "is not a member of this committee")
			}
		}
		if in.ProposerID == 0 {
			c.add("proposer_id", "is required")
		}
		if in.SeconderID != 0 && in.SeconderID == in.ProposerID {
			c.add("seconder_id", "must not be the proposer")
		}
		if in.SeconderID != 0 && !actor.CanRun(m.CouncilID, m.CommitteeID) {
			return actor.forbid() // a member proposes in their own name; the seconder seconds in theirs
		}
		if in.AmendsID != 0 {
			parent, err := o.GetMotion(ctx, in.AmendsID)
			switch {
			case isNotFound(err) || (err == nil && parent.ItemID != in.ItemID):
				c.add("amends_id", "is not a motion on this item")
			case err != nil:
				return err
			case parent.Status.Final():
				c.add("amends_id", "motion %d is already %s", parent.ID, parent.Status)
			}
		}
		if err := c.err(); err != nil {
			return err
		}
		mo = Motion{MeetingID: meetingID, ItemID: in.ItemID, AmendsID: in.AmendsID, Text: strings.TrimSpace(in.Text),
			ProposerID: in.ProposerID, SeconderID: in.SeconderID, Status: Proposed, CreatedAt: o.now, UpdatedAt: o.now}
		if in.SeconderID != 0 {
			mo.Status = Seconded
		}
		if err := o.CreateMotion(ctx, &mo); err != nil {
			return err
		}
		return o.emit(meetingID, EvMotionProposed, it.Kind == Exempt, mo)
	})
	return mo, err
}

// MotionPatch seconds a motion or changes its status.
type MotionPatch struct {
	SeconderID *int64        `json:"seconder_id,omitempty"`
	Status     *MotionStatus `json:"status,omitempty"`
}

// UpdateMotion seconds a motion or records its outcome. A decided motion stays decided.
func (s *Service) UpdateMotion(ctx context.Context, actor Actor, meetingID, motionID int64, p MotionPatch) (Motion, error) {
	var mo Motion
	err := s.write(ctx, actor, func(o *op) error {
		var self int64
		if p.SeconderID != nil && p.Status == nil {
			self = *p.SeconderID
		}
		m, err := s.mover(o, meetingID, self)
		if err != nil {
			return err
		}
		if mo, err = o.GetMotion(ctx, motionID); err != nil || mo.MeetingID != meetingID {
			if err != nil && !isNotFound(err) {
				return err
			}
			return notFound("motion", motionID)
		}
		if mo.Status.Final() {
			return conflict("motion %d is already %s", motionID, mo.Status)
		}
		var c checker
		if p.SeconderID != nil {
			if r, err := memberRole(o, m, *p.SeconderID); err != nil {
				return err
			} else if r == "" {
				c.add("seconder_id", "is not a member of this committee")
			}
			if *p.SeconderID == mo.ProposerID {
				c.add("seconder_id", "must not be the proposer")
			}
			mo.SeconderID = *p.SeconderID
			if mo.Status == Proposed {
				mo.Status = Seconded
			}
		}
		if p.Status != nil {
			switch st := *p.Status; {
			case !st.Valid():
				c.add("status", "must be proposed, seconded, carried, lost, withdrawn or fallen")
			case (st == Carried || st == Lost) && mo.SeconderID == 0:
				c.add("status", "a motion must be seconded before it is decided")
			default:
				mo.Status = st
			}
		}
		if err := c.err(); err != nil {
			return err
		}
		mo.UpdatedAt = o.now
		if err := o.UpdateMotion(ctx, mo); err != nil {
			return err
		}
		it, err := o.GetItem(ctx, mo.ItemID)
		if err != nil {
			return err
		}
		return o.emit(meetingID, EvMotionUpdated, it.Kind == Exempt, mo)
	})
	return mo, err
}

// DecideMotion records the outcome of a vote on a motion: carried or lost. Unlike
// UpdateMotion it does not ask for a seconder: the vote has decided. A motion already
// decided keeps its first outcome.
func (s *Service) DecideMotion(ctx context.Context, actor Actor, meetingID, motionID int64, carried bool) error {
	return s.write(ctx, actor, func(o *op) error {
		m, err := o.meeting(meetingID)
		if err != nil {
			return err
		}
		if !actor.CanRun(m.CouncilID, m.CommitteeID) {
			return actor.forbid()
		}
		mo, err := o.GetMotion(ctx, motionID)
		if err != nil || mo.MeetingID != meetingID {
			if err != nil && !isNotFound(err) {
				return err
			}
			return notFound("motion", motionID)
		}
		if mo.Status.Final() {
			return conflict("motion %d is already %s", motionID, mo.Status)
		}
		mo.Status, mo.UpdatedAt = Lost, o.now
		if carried {
			mo.Status = Carried
		}
		if err := o.UpdateMotion(ctx, mo); err != nil {
			return err
		}
		it, err := o.GetItem(ctx, mo.ItemID)
		if err != nil {
			return err
		}
		return o.emit(meetingID, EvMotionUpdated, it.Kind == Exempt, mo)
	})
}

// AttendanceInput records an arrival or a change of mode.
type AttendanceInput struct {
	UserID        int64          `json:"user_id"`
	Mode          AttendanceMode `json:"mode"`
	ProxyHolderID int64          `json:"proxy_holder_id,omitempty"`
}

// RecordArrival records that a person is present in a mode (roll call, late arrival, a
// move from remote to the room). Recording the mode they are already in changes nothing.
func (s *Service) RecordArrival(ctx context.Context, actor Actor, meetingID int64, in AttendanceInput) (Attendance, error) {
	var a Attendance
	err := s.write(ctx, actor, func(o *op) error {
		m, err := s.recordable(o, meetingID, 0)
		if err != nil {
			return err
		}
		a, err = s.arrive(o, m, in, ByClerk)
		return err
	})
	return a, err
}

func (s *Service) arrive(o *op, m Meeting, in AttendanceInput, source AttendanceSource) (Attendance, error) {
	ctx := o.ctx
	var c checker
	if !in.Mode.Valid() {
		c.add("mode", "must be in_room, remote_voting, remote_non_voting or proxy")
	}
	if _, err := o.GetUser(ctx, in.UserID); isNotFound(err) {
		c.add("user_id", "does not exist")
	} else if err != nil {
		return Attendance{}, err
	}
	cm, err := o.GetCommittee(ctx, m.CommitteeID)
	if err != nil {
		return Attendance{}, err
	}
	if in.Mode == RemoteVoting && !cm.Profile.RemoteMayVote {
		c.add("mode", "remote members may not vote under the %s rules; record remote_non_voting", cm.ProfileName)
	}
	if in.Mode == ByProxy {
		if err := s.checkProxy(o, m, cm.Profile, in, &c); err != nil {
			return Attendance{}, err
		}
	} else if in.ProxyHolderID != 0 {
		c.add("proxy_holder_id", "applies only to attendance by proxy")
	}
	if err := c.err(); err != nil {
		return Attendance{}, err
	}
	open, err := o.OpenAttendance(ctx, m.ID, in.UserID)
	switch {
	case err == nil && open.Mode == in.Mode && open.ProxyHolderID == in.ProxyHolderID:
		return open, nil
	case err == nil:
		// A change of mode: the person stays, and so do the proxies they hold.
		if err := s.endStretch(o, open); err != nil {
			return Attendance{}, err
		}
	case !isNotFound(err):
		return Attendance{}, err
	}
	if err := o.DeleteApology(ctx, m.ID, in.UserID); err != nil && !isNotFound(err) {
		return Attendance{}, err
	}
	a := Attendance{MeetingID: m.ID, UserID: in.UserID, Mode: in.Mode, ProxyHolderID: in.ProxyHolderID, Source: source, ArrivedAt: o.now}
	if err := o.CreateAttendance(ctx, &a); err != nil {
		return Attendance{}, err
	}
	return a, o.emit(m.ID, EvAttendanceArrived, false, a)
}

func (s *Service) checkProxy(o *op, m Meeting, p Profile, in AttendanceInput, c *checker) error {
	if !p.ProxiesAllowed {
		c.add("mode", "proxies are not allowed under these rules")
		return nil
	}
	if in.ProxyHolderID == 0 || in.ProxyHolderID == in.UserID {
		c.add("proxy_holder_id", "must name another member who holds the proxy")
		return nil
	}
	holder, err := o.OpenAttendance(o.ctx, m.ID, in.ProxyHolderID)
	if isNotFound(err) || (err == nil && holder.Mode == ByProxy) {
		c.add("proxy_holder_id", "the proxy holder must be present in person or remotely")
		return nil
	}
	if err != nil {
		return err
	}
	all, err := o.ListAttendance(o.ctx, m.ID)
	if err != nil {
		return err
	}
	held := 0
	for _, a := range all {
		if a.LeftAt == nil && a.Mode == ByProxy && a.ProxyHolderID == in.ProxyHolderID && a.UserID != in.UserID {
			held++
		}
	}
	if !WithinProxyLimit(p.MaxProxiesPerHolder, held+1) {
		c.add("proxy_holder_id", "already holds %d proxies, the most allowed", held)
	}
	return nil
}

// RecordDeparture records that a person has left.
func (s *Service) RecordDeparture(ctx context.Context, actor Actor, meetingID, userID int64) (Attendance, error) {
	var a Attendance
	err := s.write(ctx, actor, func(o *op) error {
		if _, err := s.recordable(o, meetingID, 0); err != nil {
			return err
		}
		var err error
		if a, err = o.OpenAttendance(ctx, meetingID, userID); isNotFound(err) {
			return conflict("person %d is not recorded as present", userID)
		} else if err != nil {
			return err
		}
		if err := s.leave(o, a); err != nil {
			return err
		}
		a.LeftAt = &o.now
		return nil
	})
	return a, err
}

// endStretch closes one stretch of attendance and journals it.
func (s *Service) endStretch(o *op, a Attendance) error {
	if err := o.CloseAttendance(o.ctx, a.ID, o.now); err != nil {
		return err
	}
	a.LeftAt = &o.now
	return o.emit(a.MeetingID, EvAttendanceLeft, false, a)
}

// leave records that a person has gone, and with them any proxies they held.
func (s *Service) leave(o *op, a Attendance) error {
	if err := s.endStretch(o, a); err != nil {
		return err
	}
	all, err := o.ListAttendance(o.ctx, a.MeetingID)
	if err != nil {
		return err
	}
	for _, p := range all {
		if p.LeftAt == nil && p.Mode == ByProxy && p.ProxyHolderID == a.UserID {
			if err := s.leave(o, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListAttendance returns a meeting's attendance, in order of arrival. Attendance is
// public: the names of those present are part of the record (LGA 1972 Sch.12 para 40).
func (s *Service) ListAttendance(ctx context.Context, actor Actor, meetingID int64) ([]Attendance, error) {
	return listFor(s, ctx, actor, meetingID, Tx.ListAttendance)
}

// ListApologies returns a meeting's apologies.
func (s *Service) ListApologies(ctx context.Context, actor Actor, meetingID int64) ([]Apology, error) {
	return listFor(s, ctx, actor, meetingID, Tx.ListApologies)
}

// ListSubstitutions returns a meeting's substitutions.
func (s *Service) ListSubstitutions(ctx context.Context, actor Actor, meetingID int64) ([]Substitution, error) {
	return listFor(s, ctx, actor, meetingID, Tx.ListSubstitutions)
}

// ListDeclarations returns a meeting's declarations. The public does not see the detail
// of declarations on exempt items.
func (s *Service) ListDeclarations(ctx context.Context, actor Actor, meetingID int64) ([]Declaration, error) {
	var out []Declaration
	err := s.read(ctx, func(tx Tx) error {
		m, err := visibleMeeting(ctx, tx, actor, meetingID)
		if err != nil {
			return err
		}
		if out, err = tx.ListDeclarations(ctx, meetingID); err != nil {
			return err
		}
		if actor.CanReadPrivate(m.CouncilID, m.CommitteeID) {
			return nil
		}
		exempt, err := exemptItems(ctx, tx, meetingID)
		if err != nil {
			return err
		}
		for i := range out {
			if exempt[out[i].ItemID] {
				out[i].Description = "(exempt item)"
			}
		}
		return nil
	})
	return nonNil(out), err
}

// ListMotions returns a meeting's motions. The public does not see motions on exempt
// items.
func (s *Service) ListMotions(ctx context.Context, actor Actor, meetingID int64) ([]Motion, error) {
	var out []Motion
	err := s.read(ctx, func(tx Tx) error {
		m, err := visibleMeeting(ctx, tx, actor, meetingID)
		if err != nil {
			return err
		}
		if out, err = tx.ListMotions(ctx, meetingID); err != nil {
			return err
		}
		if actor.CanReadPrivate(m.CouncilID, m.CommitteeID) {
			return nil
		}
		exempt, err := exemptItems(ctx, tx, meetingID)
		if err != nil {
			return err
		}
		out = slices.DeleteFunc(out, func(mo Motion) bool { return exempt[mo.ItemID] })
		return nil
	})
	return nonNil(out), err
}

func exemptItems(ctx context.Context, tx Tx, meetingID int64) (map[int64]bool, error) {
	items, err := tx.ListItems(ctx, meetingID)
	if err != nil {
		return nil, err
	}
	out := map[int64]bool{}
	for _, it := range items {
		if it.Kind == Exempt {
			out[it.ID] = true
		}
	}
	return out, nil
}

func visibleMeeting(ctx context.Context, tx Tx, actor Actor, id int64) (Meeting, error) {
	m, err := tx.GetMeeting(ctx, id)
	if err != nil {
		return Meeting{}, err
	}
	if !visible(actor, m) {
		return Meeting{}, notFound("meeting", id)
	}
	return m, nil
}

// listFor reads one of a meeting's public lists.
func listFor[T any](s *Service, ctx context.Context, actor Actor, meetingID int64, list func(Tx, context.Context, int64) ([]T, error)) ([]T, error) {
	var out []T
	err := s.read(ctx, func(tx Tx) error {
		if _, err := visibleMeeting(ctx, tx, actor, meetingID); err != nil {
			return err
		}
		var err error
		out, err = list(tx, ctx, meetingID)
		return err
	})
	return nonNil(out), err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// SpeakerInput registers a public speaker.
type SpeakerInput struct {
	ItemID       int64           `json:"item_id"`
	Name         string          `json:"name"`
	Capacity     SpeakerCapacity `json:"capacity"`
	Organisation string          `json:"organisation,omitempty"`
	Email        string          `json:"email,omitempty"`
	Seconds      int             `json:"seconds,omitempty"`
}

// DefaultSpeakingTime is the usual allowance for a public speaker.
const DefaultSpeakingTime = 180

// RegisterSpeaker registers a member of the public to speak on an item. Clerks only;
// exempt items have no public speakers.
func (s *Service) RegisterSpeaker(ctx context.Context, actor Actor, meetingID int64, in SpeakerInput) (Speaker, error) {
	var sp Speaker
	err := s.write(ctx, actor, func(o *op) error {
		if _, err := s.recordable(o, meetingID, 0); err != nil {
			return err
		}
		if in.Seconds == 0 {
			in.Seconds = DefaultSpeakingTime
		}
		in.Email = normaliseEmail(in.Email)
		var c checker
		c.text("name", in.Name, true, 200)
		c.text("organisation", in.Organisation, false, 200)
		if !in.Capacity.Valid() {
			c.add("capacity", "must be objector, applicant, agent, supporter, parish_council, ward_member or other")
		}
		if in.Email != "" {
			checkEmail(&c, "email", in.Email)
		}
		if in.Seconds < 30 || in.Seconds > 3600 {
			c.add("seconds", "must be between 30 and 3600")
		}
		it, err := o.GetItem(ctx, in.ItemID)
		switch {
		case isNotFound(err) || (err == nil && it.MeetingID != meetingID):
			c.add("item_id", "is not an item of this meeting")
		case err != nil:
			return err
		case it.Kind == Exempt:
			c.add("item_id", "exempt items have no public speakers")
		}
		if err := c.err(); err != nil {
			return err
		}
		all, err := o.ListSpeakers(ctx, meetingID)
		if err != nil {
			return err
		}
		pos := 1
		for _, x := range all {
			if x.ItemID == in.ItemID {
				pos = max(pos, x.Position+1)
			}
		}
		sp = Speaker{MeetingID: meetingID, ItemID: in.ItemID, Name: strings.TrimSpace(in.Name), Capacity: in.Capacity,
			Organisation: strings.TrimSpace(in.Organisation), Email: in.Email, Seconds: in.Seconds, Position: pos, CreatedAt: o.now}
		if err := o.CreateSpeaker(ctx, &sp); err != nil {
			return err
		}
		pub := sp
		pub.Email = ""
		return o.emit(meetingID, EvSpeakerRegistered, false, pub)
	})
	return sp, err
}

// RemoveSpeaker withdraws a speaker's registration.
func (s *Service) RemoveSpeaker(ctx context.Context, actor Actor, meetingID, speakerID int64) error {
	return s.write(ctx, actor, func(o *op) error {
		if _, err := s.recordable(o, meetingID, 0); err != nil {
			return err
		}
		sp, err := o.GetSpeaker(ctx, speakerID)
		if err != nil || sp.MeetingID != meetingID {
			if err != nil && !isNotFound(err) {
				return err
			}
			return notFound("speaker", speakerID)
		}
		if err := o.DeleteSpeaker(ctx, speakerID); err != nil {
			return err
		}
		sp.Email = ""
		return o.emit(meetingID, EvSpeakerRemoved, false, sp)
	})
}

// ListSpeakers returns a meeting's registered speakers; email addresses only for staff.
func (s *Service) ListSpeakers(ctx context.Context, actor Actor, meetingID int64) ([]Speaker, error) {
	var out []Speaker
	err := s.read(ctx, func(tx Tx) error {
		m, err := visibleMeeting(ctx, tx, actor, meetingID)
		if err != nil {
			return err
		}
		if out, err = tx.ListSpeakers(ctx, meetingID); err != nil {
			return err
		}
		if !actor.IsClerk(m.CouncilID) {
			for i := range out {
				out[i].Email = ""
			}
		}
		return nil
	})
	return nonNil(out), err
}

// OnJoin records that a person joined the live room: a remote arrival in the mode the
// committee's rules give remote members. Someone the clerk has recorded as in the room
// (or present by proxy) stays so: joining the video from the chamber to vote on a
// device is not leaving it.
func (s *Service) OnJoin(ctx context.Context, meetingID, userID int64, at time.Time) error {
	return s.write(ctx, system, func(o *op) error {
		m, err := o.meeting(meetingID)
		if err != nil {
			return err
		}
		if m.Status == Closed {
			return nil
		}
		if open, err := o.OpenAttendance(ctx, meetingID, userID); err == nil && (open.Mode == InRoom || open.Mode == ByProxy || open.Source == ByClerk) {
			return nil
		} else if err != nil && !isNotFound(err) {
			return err
		}
		cm, err := o.GetCommittee(ctx, m.CommitteeID)
		if err != nil {
			return err
		}
		_, err = s.arrive(o, m, AttendanceInput{UserID: userID, Mode: cm.Profile.RemoteMode()}, ByPresence)
		return err
	})
}

// OnLeave records that a person left the live room. Only attendance the live room
// recorded ends: a member the clerk recorded in the room is still there.
func (s *Service) OnLeave(ctx context.Context, meetingID, userID int64, at time.Time) error {
	return s.write(ctx, system, func(o *op) error {
		open, err := o.OpenAttendance(ctx, meetingID, userID)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if open.Source != ByPresence {
			return nil
		}
		return s.leave(o, open)
	})
}

// PresentAt returns the stretch of a person's attendance that covers instant t.
func PresentAt(att []Attendance, userID int64, t time.Time) (Attendance, bool) {
	for _, a := range att {
		if a.UserID == userID && a.Covers(t) {
			return a, true
		}
	}
	return Attendance{}, false
}

// PresentThroughout reports whether a person was present without a break from start to
// end (an open end means "until now"). Consecutive stretches that meet (a change of
// mode) count as unbroken.
func PresentThroughout(att []Attendance, userID int64, start time.Time, end *time.Time, now time.Time) bool {
	until := now
	if end != nil {
		until = *end
	}
	t := start
	for {
		a, ok := PresentAt(att, userID, t)
		if !ok {
			return false
		}
		if a.LeftAt == nil || !a.LeftAt.Before(until) {
			return true
		}
		t = *a.LeftAt
	}
}
