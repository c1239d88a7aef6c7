package agenda

import "context"

// Roll is what a vote needs to know about a meeting at one moment: the committee and
// its rules, the item, who sits on the committee, who substitutes for whom, apologies,
// attendance so far and the declarations made. Voting decides eligibility and quorum
// from it.
type Roll struct {
	Meeting       Meeting        `json:"meeting"`
	Committee     Committee      `json:"committee"`
	Item          Item           `json:"item"`
	Members       []Membership   `json:"members"`
	Substitutions []Substitution `json:"substitutions"`
	Apologies     []Apology      `json:"apologies"`
	Attendance    []Attendance   `json:"attendance"`
	// Declarations on this item. (A declaration with no item is a general one, for the
	// minutes; an interest that bars a member from voting is declared on its item.)
	Declarations []Declaration `json:"declarations"`
	// People names everyone in Members, Substitutions and Attendance.
	People map[int64]string `json:"people"`
}

// Roll reads a meeting's roll for one of its items, in one consistent snapshot.
func (s *Service) Roll(ctx context.Context, meetingID, itemID int64) (Roll, error) {
	var r Roll
	err := s.read(ctx, func(tx Tx) error {
		var err error
		if r.Meeting, err = tx.GetMeeting(ctx, meetingID); err != nil {
			return err
		}
		if r.Committee, err = tx.GetCommittee(ctx, r.Meeting.CommitteeID); err != nil {
			return err
		}
		if r.Item, err = tx.GetItem(ctx, itemID); err != nil || r.Item.MeetingID != meetingID {
			return notFound("item", itemID)
		}
		if r.Members, err = tx.ListMemberships(ctx, r.Committee.ID); err != nil {
			return err
		}
		if r.Substitutions, err = tx.ListSubstitutions(ctx, meetingID); err != nil {
			return err
		}
		if r.Apologies, err = tx.ListApologies(ctx, meetingID); err != nil {
			return err
		}
		if r.Attendance, err = tx.ListAttendance(ctx, meetingID); err != nil {
			return err
		}
		decls, err := tx.ListDeclarations(ctx, meetingID)
		if err != nil {
			return err
		}
		for _, d := range decls {
			if d.ItemID == itemID {
				r.Declarations = append(r.Declarations, d)
			}
		}
		r.People = map[int64]string{}
		for _, m := range r.Members {
			r.People[m.UserID] = m.Name
		}
		for _, a := range r.Attendance {
			if _, ok := r.People[a.UserID]; !ok {
				u, err := tx.GetUser(ctx, a.UserID)
				if err != nil {
					return err
				}
				r.People[a.UserID] = u.Name
			}
		}
		return nil
	})
	return r, err
}

// SittingFor returns the member a person sits for at this meeting: themselves if they
// hold a voting seat, the absent member if they are a substitute sitting for one, or 0.
func (r Roll) SittingFor(userID int64) int64 {
	for _, m := range r.Members {
		if m.UserID == userID && m.Role.Voting() {
			return userID
		}
	}
	for _, s := range r.Substitutions {
		if s.SubstituteID == userID {
			return s.MemberID
		}
	}
	return 0
}

// Role returns the person's committee role, or "".
func (r Roll) Role(userID int64) CommitteeRole {
	for _, m := range r.Members {
		if m.UserID == userID {
			return m.Role
		}
	}
	return ""
}

// VotingMembers is the committee's whole voting membership: the number quorum and
// absolute majorities are reckoned from.
func (r Roll) VotingMembers() int {
	n := 0
	for _, m := range r.Members {
		if m.Role.Voting() {
			n++
		}
	}
	return n
}
