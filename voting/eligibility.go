package voting

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/chamber/chamber/agenda"
)

// Rules are the parts of a committee's rules profile that decide who counts towards
// the quorum and who may vote.
type Rules struct {
	// Quorum is the committee's quorum.
	Quorum Quorum `json:"quorum"`
	// RemoteCountsForQuorum counts members attending remotely with a vote towards the
	// quorum.
	RemoteCountsForQuorum bool `json:"remote_counts_for_quorum"`
	// RemoteMayVote lets members attending remotely vote.
	RemoteMayVote bool `json:"remote_may_vote"`
	// ProxiesAllowed lets an absent member be represented by another who votes for them;
	// a represented member then also counts towards the quorum.
	ProxiesAllowed bool `json:"proxies_allowed"`
	// MaxProxiesPerHolder is how many proxies one member may hold where proxies are
	// allowed; 0 means no limit (ProxiesAllowed alone says whether there may be any). It
	// means what the rules profile's field means: see agenda.WithinProxyLimit.
	MaxProxiesPerHolder int `json:"max_proxies_per_holder"`
	// ProxiesCountForQuorum counts a member represented by a valid proxy towards the
	// quorum ("present or represented").
	ProxiesCountForQuorum bool `json:"proxies_count_for_quorum"`
	// WholeItemPresenceForPlanning lets a member vote on a planning item only if present
	// for the whole item.
	WholeItemPresenceForPlanning bool `json:"whole_item_presence_for_planning"`
	// CastingVote gives the person presiding a second, casting vote on an equality.
	CastingVote bool `json:"casting_vote"`
	// PreponderantVote lets the presiding member's own vote decide an equality, with no
	// second vote (France, CGCT L2121-20). It excludes CastingVote.
	PreponderantVote bool `json:"preponderant_vote"`
}

// Quorum is a fraction of the whole membership with a floor: Num/Den of the members,
// rounded up, and never fewer than Min.
type Quorum struct {
	Num int `json:"num"`
	Den int `json:"den"`
	Min int `json:"min"`
}

// Required returns how many members must be present out of membership.
func (q Quorum) Required(membership int) int {
	n := 0
	if q.Den > 0 && q.Num > 0 {
		n = (membership*q.Num + q.Den - 1) / q.Den
	}
	return max(n, q.Min)
}

// Role is a person's role on a committee.
type Role string

// Committee roles. The chair, vice-chair and members are the committee's voting
// members; a substitute votes only in place of a member who sent apologies.
const (
	RoleChair      Role = "chair"
	RoleViceChair  Role = "vice_chair"
	RoleMember     Role = "member"
	RoleSubstitute Role = "substitute"
)

// Mode is how a person attends a meeting.
type Mode string

// Attendance modes; the zero Mode is absence.
const (
	ModeAbsent          Mode = ""
	ModeInRoom          Mode = "in_room"
	ModeRemoteVoting    Mode = "remote_voting"
	ModeRemoteNonVoting Mode = "remote_non_voting"
	ModeProxy           Mode = "proxy" // absent, represented by a proxy holder
)

// InterestKind is the kind of an interest declared on an item.
type InterestKind string

// Kinds of interest: those of agenda.DeclarationKind, under England's code (Localism Act
// 2011 and local codes) and the Welsh code (Model Code of Conduct (Wales) Order 2008).
const (
	InterestPecuniary      InterestKind = InterestKind(agenda.Pecuniary) // disclosable pecuniary interest
	InterestRegistrable    InterestKind = InterestKind(agenda.Registrable)
	InterestNonRegistrable InterestKind = InterestKind(agenda.NonRegistrable)
	InterestPersonal       InterestKind = InterestKind(agenda.Personal)
	InterestPrejudicial    InterestKind = InterestKind(agenda.Prejudicial)
	InterestOther          InterestKind = InterestKind(agenda.OtherInterest)
)

// A Declaration is an interest a member declared on the item being voted on.
type Declaration struct {
	Kind InterestKind `json:"kind"`
	// Withdraws says the member withdraws from the room for the item because of the
	// interest.
	Withdraws bool `json:"withdraws"`
	// Dispensation, when not empty, names the dispensation that lets the member take
	// part despite the interest (Localism Act 2011 s.33; the standards committee in
	// Wales).
	Dispensation string `json:"dispensation,omitempty"`
}

// bars reports whether d keeps the member out of the vote and the quorum on the item,
// by the agenda's rule (agenda.Declaration.Disqualifies): a member who withdraws is
// barred whatever the dispensation; a disclosable pecuniary or prejudicial interest
// bars unless a dispensation was granted; other interests do not bar on their own.
func (d Declaration) bars() bool {
	return agenda.Declaration{Kind: agenda.DeclarationKind(d.Kind), Withdraws: d.Withdraws, Dispensation: d.Dispensation}.Disqualifies()
}

// Item is what eligibility needs to know of the agenda item being voted on.
type Item struct {
	ID int64 `json:"id"`
	// Planning marks a planning application, which may need whole-item presence.
	Planning bool `json:"planning"`
	// WholeItemPresence requires presence for the whole item whatever the rules say.
	WholeItemPresence bool `json:"whole_item_presence"`
}

// An Override is the chair's recorded decision to let a member vote although they were
// not present for the whole item. It applies to no other rule: the others are statute
// or the committee's standing orders.
type Override struct {
	Voter  int64  `json:"voter"`
	By     int64  `json:"by"`
	Reason string `json:"reason"`
}

// Member is what eligibility and quorum need to know of one person at the moment a
// poll opens.
type Member struct {
	User int64 `json:"user"`
	// Role is the person's committee role; empty if they are not on the committee.
	Role Role `json:"role,omitempty"`
	// SubstituteFor is, for a substitute, the member whose place they take at this
	// meeting; 0 if none.
	SubstituteFor int64 `json:"substitute_for,omitempty"`
	// SubstituteForApologies says the member in SubstituteFor sent apologies.
	SubstituteForApologies bool `json:"substitute_for_apologies,omitempty"`
	// Substituted says a substitute sits in this member's place at this meeting.
	Substituted bool `json:"substituted,omitempty"`
	// Mode is how the person attends.
	Mode Mode `json:"mode,omitempty"`
	// PresentAtOpen says the person was present, in Mode, when the poll opened.
	PresentAtOpen bool `json:"present_at_open,omitempty"`
	// PresentThroughout says the person was present for the whole item.
	PresentThroughout bool `json:"present_throughout,omitempty"`
	// ProxyHolder is, for a member represented by proxy, the member who holds it.
	ProxyHolder int64 `json:"proxy_holder,omitempty"`
	// ProxyHolderPresent says the proxy holder was present with a vote when the poll
	// opened. Roll fills it from the holder's own record.
	ProxyHolderPresent bool `json:"proxy_holder_present,omitempty"`
	// ProxyNumber is this proxy's place among those its holder holds, from 1, in the
	// order they were given. Roll fills it.
	ProxyNumber int `json:"proxy_number,omitempty"`
	// Declarations are the interests the person declared on the item.
	Declarations []Declaration `json:"declarations,omitempty"`
	// Override, if not nil, is the chair's decision to let the person vote although not
	// present for the whole item.
	Override *Override `json:"override,omitempty"`
}

// votingMember reports whether m sits on the committee with a vote at this meeting: a
// member not replaced by a substitute, or a substitute in place of one who sent
// apologies.
func (m *Member) votingMember() bool {
	switch m.Role {
	case RoleChair, RoleViceChair, RoleMember:
		return !m.Substituted
	case RoleSubstitute:
		return m.SubstituteFor != 0 && m.SubstituteForApologies
	}
	return false
}

// Reason says why a person may not vote.
type Reason string

// Reasons for refusing a vote.
const (
	ReasonNotMember         Reason = "not_member"              // not on the committee
	ReasonNotSubstituting   Reason = "not_substituting"        // a substitute not in place of a member who sent apologies
	ReasonSubstituted       Reason = "substituted"             // a substitute sits in the member's place
	ReasonAbsent            Reason = "absent"                  // not present when the poll opened
	ReasonRemote            Reason = "remote_may_not_vote"     // remote, and the rules let only those in the room vote
	ReasonNonVotingMode     Reason = "non_voting_attendance"   // attending remotely without a vote
	ReasonUnknownMode       Reason = "unknown_mode"            // an attendance mode these rules do not know
	ReasonProxiesNotAllowed Reason = "proxies_not_allowed"     // represented by proxy where the rules allow none
	ReasonProxyHolderAbsent Reason = "proxy_holder_absent"     // the proxy holder is not present with a vote
	ReasonTooManyProxies    Reason = "too_many_proxies"        // the holder holds more proxies than the rules allow
	ReasonInterest          Reason = "interest"                // a declared interest bars the member from the item
	ReasonNotThroughout     Reason = "not_present_throughout"  // not present for the whole item where that is required
	ReasonNotProxyHolder    Reason = "not_proxy_holder"        // a proxy vote from someone who does not hold the voter's proxy
	ReasonNotAtOpening      Reason = "not_eligible_at_opening" // eligible now, but not when the poll opened (arrived since, say)
)

// A Decision is whether one person may vote in a poll.
type Decision struct {
	Voter int64 `json:"voter"`
	// Reason is why the person may not vote; empty when they may.
	Reason Reason `json:"reason,omitempty"`
	// Override is the chair's override that let the person vote, if one was needed.
	Override *Override `json:"override,omitempty"`
}

// Eligible reports whether the person may vote.
func (d Decision) Eligible() bool { return d.Reason == "" }

// Err returns nil for an eligible person, else an *IneligibleError.
func (d Decision) Err() error {
	if d.Eligible() {
		return nil
	}
	return &IneligibleError{Voter: d.Voter, Reason: d.Reason}
}

// IneligibleError says who may not vote and why. It matches ErrNotEligible.
type IneligibleError struct {
	Voter  int64
	Reason Reason
}

func (e *IneligibleError) Error() string {
	return fmt.Sprintf("user %d: %s: %s", e.Voter, ErrNotEligible, e.Reason)
}

// Unwrap returns ErrNotEligible.
func (e *IneligibleError) Unwrap() error { return ErrNotEligible }

// Eligibility decides whether m may vote on item it under rules r. The checks, in
// order: a voting member of the committee or a substitute for a member who sent
// apologies; an attendance mode that carries a vote under r (in the room always; remote
// only if r lets remote members vote; by proxy only if r allows proxies, the holder is
// present with a vote and holds no more than r allows); present when the poll opened;
// no declared interest that bars the member; and, where the item needs it, present for
// the whole item, unless the chair overrode that with a reason.
func Eligibility(r Rules, it Item, m Member) Decision {
	d := Decision{Voter: m.User}
	refuse := func(why Reason) Decision { d.Reason = why; return d }
	switch m.Role {
	case RoleChair, RoleViceChair, RoleMember:
		if m.Substituted {
			return refuse(ReasonSubstituted)
		}
	case RoleSubstitute:
		if !m.votingMember() {
			return refuse(ReasonNotSubstituting)
		}
	default:
		return refuse(ReasonNotMember)
	}
	switch m.Mode {
	case ModeInRoom:
	case ModeRemoteVoting:
		if !r.RemoteMayVote {
			return refuse(ReasonRemote)
		}
	case ModeRemoteNonVoting:
		return refuse(ReasonNonVotingMode)
	case ModeProxy:
		switch {
		case !r.ProxiesAllowed:
			return refuse(ReasonProxiesNotAllowed)
		case !m.ProxyHolderPresent || m.ProxyHolder == 0:
			return refuse(ReasonProxyHolderAbsent)
		case !agenda.WithinProxyLimit(r.MaxProxiesPerHolder, m.ProxyNumber):
			return refuse(ReasonTooManyProxies)
		}
	case ModeAbsent:
		return refuse(ReasonAbsent)
	default:
		return refuse(ReasonUnknownMode)
	}
	if m.Mode != ModeProxy && !m.PresentAtOpen {
		return refuse(ReasonAbsent)
	}
	for _, decl := range m.Declarations {
		if decl.bars() {
			return refuse(ReasonInterest)
		}
	}
	if m.Mode != ModeProxy && (it.WholeItemPresence || r.WholeItemPresenceForPlanning && it.Planning) && !m.PresentThroughout {
		o := m.Override
		if o == nil || o.Reason == "" || o.By == 0 {
			return refuse(ReasonNotThroughout)
		}
		d.Override = &Override{Voter: m.User, By: o.By, Reason: o.Reason}
	}
	return d
}

// CountsForQuorum reports whether m counts towards the quorum for item it under rules
// r: a voting member present when the poll opened in the room, or remotely where r
// counts remote members, or represented by a valid proxy where r counts those (allowed
// by r, within the holder's limit, the holder present with a vote); and not barred
// from the item by a declared interest (withdrawn for it, or a pecuniary or prejudicial
// interest without a dispensation: LGA 1972 Sch.12 para 45).
func CountsForQuorum(r Rules, it Item, m Member) bool {
	if !m.votingMember() {
		return false
	}
	switch m.Mode {
	case ModeInRoom:
	case ModeRemoteVoting:
		if !r.RemoteCountsForQuorum {
			return false
		}
	case ModeProxy:
		if !r.ProxiesAllowed || !r.ProxiesCountForQuorum || !m.ProxyHolderPresent || m.ProxyHolder == 0 ||
			!agenda.WithinProxyLimit(r.MaxProxiesPerHolder, m.ProxyNumber) {
			return false
		}
	default:
		return false
	}
	if m.Mode != ModeProxy && !m.PresentAtOpen {
		return false
	}
	for _, decl := range m.Declarations {
		if decl.bars() {
			return false
		}
	}
	return true
}

// RollCall is the roll taken when a poll opens.
type RollCall struct {
	// Membership is the whole number of the committee's members (substitutes excluded).
	Membership int `json:"membership"`
	// QuorumRequired is how many must be present.
	QuorumRequired int `json:"quorum_required"`
	// Present is how many count towards the quorum.
	Present int `json:"present"`
	// Decisions holds one decision per person, in the order given.
	Decisions []Decision `json:"decisions"`
}

// Quorate reports whether enough are present.
func (rc RollCall) Quorate() bool { return rc.Present >= rc.QuorumRequired }

// Eligible returns the ids of those who may vote, ascending.
func (rc RollCall) Eligible() []int64 {
	var ids []int64
	for _, d := range rc.Decisions {
		if d.Eligible() {
			ids = append(ids, d.Voter)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Overrides returns the overrides that let someone vote, by voter.
func (rc RollCall) Overrides() []Override {
	var os []Override
	for _, d := range rc.Decisions {
		if d.Override != nil {
			os = append(os, *d.Override)
		}
	}
	slices.SortFunc(os, func(a, b Override) int { return cmp.Compare(a.Voter, b.Voter) })
	return os
}

// Roll takes the roll for a poll on item it: everyone on the committee and everyone
// attending, each once. It fills each proxy's ProxyHolderPresent and ProxyNumber from
// the list (proxies numbered in the order given), then decides eligibility and counts
// the quorum.
func Roll(r Rules, it Item, members []Member) RollCall {
	byUser := make(map[int64]*Member, len(members))
	ms := slices.Clone(members)
	for i := range ms {
		byUser[ms[i].User] = &ms[i]
	}
	held := map[int64]int{}
	for i := range ms {
		m := &ms[i]
		if m.Mode != ModeProxy {
			continue
		}
		held[m.ProxyHolder]++
		m.ProxyNumber = held[m.ProxyHolder]
		h := byUser[m.ProxyHolder]
		m.ProxyHolderPresent = h != nil && h.Mode != ModeProxy && Eligibility(r, Item{ID: it.ID}, *h).Eligible()
	}
	rc := RollCall{Decisions: make([]Decision, 0, len(ms))}
	for i := range ms {
		m := &ms[i]
		switch m.Role {
		case RoleChair, RoleViceChair, RoleMember:
			rc.Membership++
		}
		if CountsForQuorum(r, it, *m) {
			rc.Present++
		}
		rc.Decisions = append(rc.Decisions, Eligibility(r, it, *m))
	}
	rc.QuorumRequired = r.Quorum.Required(rc.Membership)
	return rc
}
