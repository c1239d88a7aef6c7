package voting

import (
	"cmp"
	"slices"
	"time"

	"github.com/chamber/chamber/agenda"
)

// This file is the one place where the agenda's view of a meeting becomes what the
// voting rules read: a committee's rules profile becomes Rules, an agenda item an
// Item, and the roll at one instant a list of Members.

// RulesOf returns the voting rules of a committee's rules profile.
func RulesOf(p agenda.Profile) Rules {
	q := Quorum{Num: p.Quorum.Num, Den: p.Quorum.Den, Min: p.Quorum.Min}
	if p.Quorum.Fixed > 0 {
		q = Quorum{Min: p.Quorum.Fixed}
	}
	return Rules{
		Quorum:                       q,
		RemoteCountsForQuorum:        p.RemoteCountsForQuorum,
		RemoteMayVote:                p.RemoteMayVote,
		ProxiesAllowed:               p.ProxiesAllowed,
		MaxProxiesPerHolder:          p.MaxProxiesPerHolder,
		ProxiesCountForQuorum:        p.ProxiesCountForQuorum,
		WholeItemPresenceForPlanning: p.WholeItemPresenceForPlanning,
		CastingVote:                  p.CastingVote,
		PreponderantVote:             p.PreponderantVote && !p.CastingVote,
	}
}

// ItemOf returns what eligibility needs of an agenda item.
func ItemOf(it agenda.Item) Item {
	return Item{ID: it.ID, Planning: it.Kind == agenda.Planning, WholeItemPresence: it.WholeItemPresence}
}

var roles = map[agenda.CommitteeRole]Role{
	agenda.Chair:      RoleChair,
	agenda.ViceChair:  RoleViceChair,
	agenda.Member:     RoleMember,
	agenda.Substitute: RoleSubstitute,
}

var modes = map[agenda.AttendanceMode]Mode{
	agenda.InRoom:          ModeInRoom,
	agenda.RemoteVoting:    ModeRemoteVoting,
	agenda.RemoteNonVoting: ModeRemoteNonVoting,
	agenda.ByProxy:         ModeProxy,
}

// MembersAt returns everyone on the committee and everyone attending, as they stand
// at instant at, for eligibility and quorum on the roll's item:
//
//   - Role is the committee role. A substitute sits for the member named in the
//     meeting's substitution, and the member substituted does not vote: the clerk
//     records a substitution on the member's notice, so SubstituteForApologies holds
//     whenever a substitution is recorded, whether or not an apology was.
//   - Mode is the attendance stretch covering at (absent if none); PresentAtOpen says
//     there is one. PresentThroughout says the person was present without a break
//     from the item's start until at (or the item's end, if it has ended).
//   - Declarations are those the roll carries: made on the item, or at the start of
//     the meeting.
//   - Override is the chair's override for the person, if overrides names them.
//
// The list is ordered so that each holder's proxies come in the order they were given
// (the agenda refuses a proxy beyond the holder's limit, and Roll numbers them in this
// order).
func MembersAt(r agenda.Roll, at time.Time, overrides map[int64]Override) []Member {
	byUser := map[int64]*Member{}
	var order []int64
	get := func(user int64) *Member {
		if m, ok := byUser[user]; ok {
			return m
		}
		m := &Member{User: user}
		byUser[user] = m
		order = append(order, user)
		return m
	}
	for _, ms := range r.Members {
		get(ms.UserID).Role = roles[ms.Role]
	}
	for _, s := range r.Substitutions {
		sub := get(s.SubstituteID)
		sub.SubstituteFor, sub.SubstituteForApologies = s.MemberID, true
		get(s.MemberID).Substituted = true
	}
	arrived := map[int64]time.Time{} // when each proxy was given
	for _, a := range r.Attendance {
		m := get(a.UserID)
		if !a.Covers(at) {
			continue
		}
		m.Mode, m.PresentAtOpen = modes[a.Mode], true
		if a.Mode == agenda.ByProxy {
			m.ProxyHolder = a.ProxyHolderID
			m.PresentAtOpen = false
			arrived[a.UserID] = a.ArrivedAt
		}
	}
	for _, d := range r.Declarations {
		m := get(d.UserID)
		m.Declarations = append(m.Declarations, Declaration{Kind: InterestKind(d.Kind), Withdraws: d.Withdraws, Dispensation: d.Dispensation})
	}
	// Each person's own stretches, so that whole-item presence reads only theirs.
	stretches := map[int64][]agenda.Attendance{}
	for _, a := range r.Attendance {
		stretches[a.UserID] = append(stretches[a.UserID], a)
	}
	for _, user := range order {
		m := byUser[user]
		if m.PresentAtOpen && r.Item.StartedAt != nil {
			m.PresentThroughout = agenda.PresentThroughout(stretches[user], user, *r.Item.StartedAt, r.Item.EndedAt, at)
		}
		if o, ok := overrides[user]; ok {
			m.Override = &o
		}
	}
	out := make([]Member, 0, len(order))
	for _, user := range order {
		out = append(out, *byUser[user])
	}
	slices.SortFunc(out, func(a, b Member) int {
		return cmp.Or(arrived[a.User].Compare(arrived[b.User]), cmp.Compare(a.User, b.User))
	})
	return out
}
