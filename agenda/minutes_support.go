package agenda

import (
	"context"
	"slices"
)

// MeetingRecords is everything a meeting recorded, read in one snapshot: what its
// minutes are drafted from.
type MeetingRecords struct {
	Meeting       Meeting        `json:"meeting"`
	Council       Council        `json:"council"`
	Committee     Committee      `json:"committee"`
	Members       []Membership   `json:"members"`
	Items         []Item         `json:"items"`
	Apologies     []Apology      `json:"apologies"`
	Substitutions []Substitution `json:"substitutions"`
	Declarations  []Declaration  `json:"declarations"`
	Motions       []Motion       `json:"motions"`
	Attendance    []Attendance   `json:"attendance"`
	// Speakers are the registered public speakers, without their email addresses.
	Speakers []Speaker `json:"speakers"`
	// People are the council's people, and anyone else the records name (a person
	// who attended without a role in the council has only a name), without their email
	// addresses.
	People []Person `json:"people"`
	// Events is the meeting's whole journal, private events included, in order.
	Events []Event `json:"events"`
}

// MeetingRecords reads everything the meeting recorded, exempt business included, for
// its minutes. Only those who may read the committee's private business may: its
// members, and the council's clerks and officers.
func (s *Service) MeetingRecords(ctx context.Context, actor Actor, meetingID int64) (MeetingRecords, error) {
	var r MeetingRecords
	err := s.read(ctx, func(tx Tx) error {
		var err error
		if r.Meeting, err = tx.GetMeeting(ctx, meetingID); err != nil {
			return err
		}
		m := r.Meeting
		if !visible(actor, m) {
			return notFound("meeting", meetingID)
		}
		if !actor.CanReadPrivate(m.CouncilID, m.CommitteeID) {
			return actor.forbid()
		}
		if r.Council, err = tx.GetCouncil(ctx, m.CouncilID); err != nil {
			return err
		}
		if r.Committee, err = tx.GetCommittee(ctx, m.CommitteeID); err != nil {
			return err
		}
		if r.Members, err = tx.ListMemberships(ctx, m.CommitteeID); err != nil {
			return err
		}
		if r.Items, err = tx.ListItems(ctx, meetingID); err != nil {
			return err
		}
		if r.Apologies, err = tx.ListApologies(ctx, meetingID); err != nil {
			return err
		}
		if r.Substitutions, err = tx.ListSubstitutions(ctx, meetingID); err != nil {
			return err
		}
		if r.Declarations, err = tx.ListDeclarations(ctx, meetingID); err != nil {
			return err
		}
		if r.Motions, err = tx.ListMotions(ctx, meetingID); err != nil {
			return err
		}
		if r.Attendance, err = tx.ListAttendance(ctx, meetingID); err != nil {
			return err
		}
		if r.Speakers, err = tx.ListSpeakers(ctx, meetingID); err != nil {
			return err
		}
		for i := range r.Speakers {
			r.Speakers[i].Email = ""
		}
		if r.Events, err = tx.Events(ctx, meetingID, 0, 0); err != nil {
			return err
		}
		if r.People, err = tx.ListPeople(ctx, m.CouncilID); err != nil {
			return err
		}
		if err := r.addNamed(ctx, tx); err != nil {
			return err
		}
		for i := range r.People {
			r.People[i].Email, r.People[i].Invited = "", false
		}
		return nil
	})
	if err != nil {
		return MeetingRecords{}, err
	}
	r.Members, r.Items, r.Apologies = nonNil(r.Members), nonNil(r.Items), nonNil(r.Apologies)
	r.Substitutions, r.Declarations, r.Motions = nonNil(r.Substitutions), nonNil(r.Declarations), nonNil(r.Motions)
	r.Attendance, r.Speakers, r.Events = nonNil(r.Attendance), nonNil(r.Speakers), nonNil(r.Events)
	return r, nil
}

// addNamed adds to People everyone the records name who is not one of the council's
// people, by name only.
func (r *MeetingRecords) addNamed(ctx context.Context, tx Tx) error {
	known := map[int64]bool{}
	for _, p := range r.People {
		known[p.UserID] = true
	}
	var ids []int64
	note := func(id int64) {
		if id != 0 && !known[id] {
			known[id] = true
			ids = append(ids, id)
		}
	}
	for _, m := range r.Members {
		note(m.UserID)
	}
	for _, a := range r.Attendance {
		note(a.UserID)
		note(a.ProxyHolderID)
	}
	for _, a := range r.Apologies {
		note(a.UserID)
	}
	for _, s := range r.Substitutions {
		note(s.SubstituteID)
		note(s.MemberID)
	}
	for _, d := range r.Declarations {
		note(d.UserID)
	}
	for _, mo := range r.Motions {
		note(mo.ProposerID)
		note(mo.SeconderID)
	}
	for _, e := range r.Events {
		note(e.ActorID)
	}
	slices.Sort(ids)
	for _, id := range ids {
		u, err := tx.GetUser(ctx, id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		r.People = append(r.People, Person{UserID: u.ID, CouncilID: r.Meeting.CouncilID, Name: u.Name})
	}
	return nil
}
