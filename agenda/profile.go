package agenda

import (
	"fmt"
	"slices"
)

// Profile is the set of rules a committee follows where the law or standing orders differ
// between places. Each committee picks a preset and may override any rule.
type Profile struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Quorum is the number of members who must be present for business to be done.
	Quorum Quorum `json:"quorum"`
	// RemoteCountsForQuorum: members attending remotely count as present.
	RemoteCountsForQuorum bool `json:"remote_counts_for_quorum"`
	// RemoteMayVote: members attending remotely may vote.
	RemoteMayVote bool `json:"remote_may_vote"`
	// ProxiesAllowed: a member may be represented by another member holding their proxy.
	// It alone decides whether proxies are allowed at all.
	ProxiesAllowed bool `json:"proxies_allowed"`
	// MaxProxiesPerHolder limits how many proxies one member may hold where proxies are
	// allowed; 0 means no limit. The attendance record refuses a proxy beyond the limit
	// and the votes refuse it too (see WithinProxyLimit).
	MaxProxiesPerHolder int `json:"max_proxies_per_holder"`
	// ProxiesCountForQuorum: represented members count towards the quorum.
	ProxiesCountForQuorum bool `json:"proxies_count_for_quorum"`
	// WholeItemPresenceForPlanning: on planning items only members present for the whole
	// item may vote (the chair may override with a minuted reason).
	WholeItemPresenceForPlanning bool `json:"whole_item_presence_for_planning"`
	// CastingVote: on a tie, the person presiding has a second, casting vote (LGA 1972
	// Sch.12 para 39).
	CastingVote bool `json:"casting_vote"`
	// PreponderantVote: on a tie, the presiding member's own vote decides, without a
	// second vote (France, CGCT L2121-20). Exclusive with CastingVote.
	PreponderantVote bool `json:"preponderant_vote"`
	// ConductCode is the code of conduct whose kinds of interest members declare. Empty
	// in profiles stored before it existed: see Code.
	ConductCode ConductCode `json:"conduct_code"`
}

// WithinProxyLimit reports whether a holder may hold an nth proxy (counting from 1)
// under a limit of limit proxies per holder, where 0 means no limit. The attendance
// record and the votes both ask it, so that they agree.
func WithinProxyLimit(limit, nth int) bool { return limit == 0 || nth <= limit }

// Code returns the code of conduct the profile follows: ConductCode, or for a profile
// stored without one, its preset's, or England's.
func (p Profile) Code() ConductCode {
	if p.ConductCode != "" {
		return p.ConductCode
	}
	if base, ok := Preset(p.Name); ok {
		return base.ConductCode
	}
	return EnglandCode
}

// DeclarationKinds returns the kinds of interest members declare under the profile.
func (p Profile) DeclarationKinds() []DeclarationKind { return p.Code().Kinds() }

// Quorum is a quorum rule: Fixed members if set, otherwise Num/Den of the voting
// membership rounded up, but never fewer than Min.
type Quorum struct {
	Fixed int `json:"fixed,omitempty"`
	Num   int `json:"num"`
	Den   int `json:"den"`
	Min   int `json:"min"`
}

// Of returns the quorum for a committee of n voting members.
func (q Quorum) Of(n int) int {
	if q.Fixed > 0 {
		return q.Fixed
	}
	need := 0
	if q.Den > 0 {
		need = (n*q.Num + q.Den - 1) / q.Den
	}
	return max(need, q.Min)
}

func (q Quorum) validate() error {
	switch {
	case q.Fixed < 0 || q.Num < 0 || q.Den < 0 || q.Min < 0:
		return fmt.Errorf("quorum numbers must not be negative")
	case q.Fixed == 0 && (q.Den == 0 || q.Num == 0 || q.Num > q.Den):
		return fmt.Errorf("quorum needs a fixed number or a fraction num/den between 0 and 1")
	}
	return nil
}

// Can reports whether an attendance mode lets a member count towards the quorum and vote.
func (p Profile) Can(m AttendanceMode) (counts, votes bool) {
	switch m {
	case InRoom:
		return true, true
	case RemoteVoting:
		return p.RemoteCountsForQuorum, p.RemoteMayVote
	case ByProxy:
		return p.ProxiesAllowed && p.ProxiesCountForQuorum, p.ProxiesAllowed
	}
	return false, false
}

// RemoteMode is the attendance mode of a member who joins the live room remotely.
func (p Profile) RemoteMode() AttendanceMode {
	if p.RemoteMayVote {
		return RemoteVoting
	}
	return RemoteNonVoting
}

// The presets, with the sources a clerk can check.
var presets = []Profile{
	{
		Name: "england",
		Description: "England since 7 May 2021: only members physically present count and vote " +
			"(Hertfordshire CC v SSHCLG [2021] EWHC 1093 (Admin)); quorum one quarter (LGA 1972 Sch.12 para 6).",
		Quorum:                       Quorum{Num: 1, Den: 4, Min: 3},
		WholeItemPresenceForPlanning: true,
		CastingVote:                  true,
		ConductCode:                  EnglandCode,
	},
	{
		Name: "england-2020",
		Description: "England and Wales under SI 2020/392 (to 6 May 2021): remote members able to hear " +
			"and be heard attend, count and vote.",
		Quorum:                       Quorum{Num: 1, Den: 4, Min: 3},
		RemoteCountsForQuorum:        true,
		RemoteMayVote:                true,
		WholeItemPresenceForPlanning: true,
		CastingVote:                  true,
		ConductCode:                  EnglandCode,
	},
	{
		Name: "wales",
		Description: "Wales: councils must allow remote attendance and broadcast meetings " +
			"(Local Government and Elections (Wales) Act 2021 ss.46–47); remote members count and vote; " +
			"members declare personal and prejudicial interests (Local Authorities (Model Code of Conduct) (Wales) Order 2008).",
		Quorum:                       Quorum{Num: 1, Den: 4, Min: 3},
		RemoteCountsForQuorum:        true,
		RemoteMayVote:                true,
		WholeItemPresenceForPlanning: true,
		CastingVote:                  true,
		ConductCode:                  WalesCode,
	},
	{
		Name: "scotland",
		Description: "Scotland: standing orders count members attending virtually as present; " +
			"they count and vote.",
		Quorum:                       Quorum{Num: 1, Den: 4, Min: 3},
		RemoteCountsForQuorum:        true,
		RemoteMayVote:                true,
		WholeItemPresenceForPlanning: true,
		CastingVote:                  true,
		ConductCode:                  EnglandCode,
	},
	{
		Name: "france",
		Description: "France (Ordonnance 2020-391): meetings by teleconference; quorum one third of " +
			"members present or represented; each member may hold up to two proxies; on a tie the " +
			"president's vote prevails (CGCT L2121-20).",
		Quorum:                Quorum{Num: 1, Den: 3, Min: 1},
		RemoteCountsForQuorum: true,
		RemoteMayVote:         true,
		ProxiesAllowed:        true,
		MaxProxiesPerHolder:   2,
		ProxiesCountForQuorum: true,
		PreponderantVote:      true,
		ConductCode:           EnglandCode,
	},
}

// DefaultProfile is the preset a committee gets when none is named.
const DefaultProfile = "england"

// Presets returns every preset profile.
func Presets() []Profile { return slices.Clone(presets) }

// Preset returns the preset named name.
func Preset(name string) (Profile, bool) {
	for _, p := range presets {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// ProfileOverrides changes some rules of a preset; nil fields keep the preset's rule.
type ProfileOverrides struct {
	Quorum                       *Quorum `json:"quorum,omitempty"`
	RemoteCountsForQuorum        *bool   `json:"remote_counts_for_quorum,omitempty"`
	RemoteMayVote                *bool   `json:"remote_may_vote,omitempty"`
	ProxiesAllowed               *bool   `json:"proxies_allowed,omitempty"`
	MaxProxiesPerHolder          *int    `json:"max_proxies_per_holder,omitempty"`
	ProxiesCountForQuorum        *bool   `json:"proxies_count_for_quorum,omitempty"`
	WholeItemPresenceForPlanning *bool   `json:"whole_item_presence_for_planning,omitempty"`
	CastingVote                  *bool   `json:"casting_vote,omitempty"`
	PreponderantVote             *bool   `json:"preponderant_vote,omitempty"`
	// ConductCode, when set, names the code of conduct whose kinds of interest members
	// declare ("england" or "wales").
	ConductCode *ConductCode `json:"conduct_code,omitempty"`
}

// Apply returns p with the overrides applied.
func (o ProfileOverrides) Apply(p Profile) Profile {
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	if o.Quorum != nil {
		p.Quorum = *o.Quorum
	}
	set(&p.RemoteCountsForQuorum, o.RemoteCountsForQuorum)
	set(&p.RemoteMayVote, o.RemoteMayVote)
	set(&p.ProxiesAllowed, o.ProxiesAllowed)
	set(&p.ProxiesCountForQuorum, o.ProxiesCountForQuorum)
	set(&p.WholeItemPresenceForPlanning, o.WholeItemPresenceForPlanning)
	set(&p.CastingVote, o.CastingVote)
	set(&p.PreponderantVote, o.PreponderantVote)
	if o.MaxProxiesPerHolder != nil {
		p.MaxProxiesPerHolder = *o.MaxProxiesPerHolder
	}
	if o.ConductCode != nil {
		p.ConductCode = *o.ConductCode
	}
	return p
}

// ResolveProfile applies overrides to the named preset and checks the result.
func ResolveProfile(name string, o ProfileOverrides) (Profile, error) {
	if name == "" {
		name = DefaultProfile
	}
	base, ok := Preset(name)
	if !ok {
		names := make([]string, len(presets))
		for i, p := range presets {
			names[i] = p.Name
		}
		return Profile{}, invalid("profile", "unknown profile %q; presets are %v", name, names)
	}
	p := o.Apply(base)
	if err := p.Quorum.validate(); err != nil {
		return Profile{}, invalid("overrides.quorum", "%v", err)
	}
	if p.MaxProxiesPerHolder < 0 {
		return Profile{}, invalid("overrides.max_proxies_per_holder", "must not be negative")
	}
	if p.CastingVote && p.PreponderantVote {
		return Profile{}, invalid("overrides.preponderant_vote", "a tie is broken by a casting vote or a preponderant vote, not both")
	}
	if !p.ConductCode.Valid() {
		return Profile{}, invalid("overrides.conduct_code", "unknown code of conduct %q; codes are %v", p.ConductCode, conductCodes)
	}
	if p.RemoteMayVote && !p.RemoteCountsForQuorum {
		return Profile{}, invalid("overrides.remote_may_vote", "remote members who vote must also count as present")
	}
	return p, nil
}
