package voting

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// presets mirror the rules profiles' presets, for the parts that voting reads.
var presets = map[string]Rules{
	// England since May 2021: only those in the room are present; no proxies.
	"england": {Quorum: Quorum{Num: 1, Den: 4, Min: 3}, WholeItemPresenceForPlanning: true, CastingVote: true},
	// England and Wales 2020–21 (SI 2020/392): remote members attend, count and vote.
	"england-2020": {Quorum: Quorum{Num: 1, Den: 4, Min: 3}, RemoteCountsForQuorum: true, RemoteMayVote: true,
		WholeItemPresenceForPlanning: true, CastingVote: true},
	// Wales (LGE(W)A 2021 ss.46–47): remote attendance is allowed; remote members count and vote.
	"wales": {Quorum: Quorum{Num: 1, Den: 4, Min: 3}, RemoteCountsForQuorum: true, RemoteMayVote: true,
		WholeItemPresenceForPlanning: true, CastingVote: true},
	// Scotland: standing orders count virtual attendance as presence.
	"scotland": {Quorum: Quorum{Num: 1, Den: 4, Min: 3}, RemoteCountsForQuorum: true, RemoteMayVote: true,
		WholeItemPresenceForPlanning: true, CastingVote: true},
	// France (Ordonnance 2020-391): a third present or represented; two proxies each.
	"france": {Quorum: Quorum{Num: 1, Den: 3, Min: 1}, RemoteCountsForQuorum: true, RemoteMayVote: true,
		ProxiesAllowed: true, MaxProxiesPerHolder: 2, ProxiesCountForQuorum: true, PreponderantVote: true},
}

var presetNames = []string{"england", "england-2020", "wales", "scotland", "france"}

func inRoom(user int64) Member {
	return Member{User: user, Role: RoleMember, Mode: ModeInRoom, PresentAtOpen: true, PresentThroughout: true}
}

func TestEligibility(t *testing.T) {
	standard := Item{ID: 31}
	planning := Item{ID: 31, Planning: true}
	wholeItem := Item{ID: 31, WholeItemPresence: true}
	with := func(edit func(*Member)) Member { m := inRoom(42); edit(&m); return m }
	override := &Override{Voter: 42, By: 40, Reason: "stepped out for a minute during the officer's presentation"}
	uk := []string{"england", "england-2020", "wales", "scotland"}
	tests := []struct {
		name   string
		item   Item
		member Member
		// want gives the reason per preset; presets not named expect wantElse.
		want     map[string]Reason
		wantElse Reason
		// wantOverride: the decision records the chair's override, under these presets.
		wantOverride []string
	}{
		{name: "member in the room", item: standard, member: inRoom(42)},
		{name: "chair in the room", item: standard, member: with(func(m *Member) { m.Role = RoleChair })},
		{name: "vice-chair in the room", item: standard, member: with(func(m *Member) { m.Role = RoleViceChair })},
		{name: "not on the committee", item: standard, member: with(func(m *Member) { m.Role = "" }), wantElse: ReasonNotMember},
		{name: "unknown role", item: standard, member: with(func(m *Member) { m.Role = "observer" }), wantElse: ReasonNotMember},
		{name: "substitute for a member who sent apologies", item: standard, member: with(func(m *Member) {
			m.Role, m.SubstituteFor, m.SubstituteForApologies = RoleSubstitute, 45, true
		})},
		{name: "substitute for no one", item: standard, member: with(func(m *Member) { m.Role = RoleSubstitute }),
			wantElse: ReasonNotSubstituting},
		{name: "substitute for a member who sent no apologies", item: standard, member: with(func(m *Member) {
			m.Role, m.SubstituteFor = RoleSubstitute, 45
		}), wantElse: ReasonNotSubstituting},
		{name: "member whose substitute sits", item: standard, member: with(func(m *Member) { m.Substituted = true }),
			wantElse: ReasonSubstituted},
		{name: "remote with a vote", item: standard, member: with(func(m *Member) { m.Mode = ModeRemoteVoting }),
			want: map[string]Reason{"england": ReasonRemote}},
		{name: "remote without a vote", item: standard, member: with(func(m *Member) { m.Mode = ModeRemoteNonVoting }),
			wantElse: ReasonNonVotingMode},
		{name: "absent", item: standard, member: with(func(m *Member) { m.Mode, m.PresentAtOpen = ModeAbsent, false }),
			wantElse: ReasonAbsent},
		{name: "arrived after the poll opened", item: standard, member: with(func(m *Member) { m.PresentAtOpen = false }),
			wantElse: ReasonAbsent},
		{name: "remote, arrived after the poll opened", item: standard, member: with(func(m *Member) {
			m.Mode, m.PresentAtOpen = ModeRemoteVoting, false
		}), want: map[string]Reason{"england": ReasonRemote}, wantElse: ReasonAbsent},
		{name: "unknown attendance mode", item: standard, member: with(func(m *Member) { m.Mode = "hologram" }),
			wantElse: ReasonUnknownMode},
		{name: "disclosable pecuniary interest", item: standard, member: with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestPecuniary}}
		}), wantElse: ReasonInterest},
		{name: "pecuniary interest with dispensation", item: standard, member: with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestPecuniary, Dispensation: "standards committee, 2026-01-12"}}
		})},
		{name: "pecuniary interest with dispensation, withdraws", item: standard, member: with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestPecuniary, Withdraws: true, Dispensation: "standards committee, 2026-01-12"}}
		}), wantElse: ReasonInterest},
		{name: "prejudicial interest", item: standard, member: with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestPrejudicial}}
		}), wantElse: ReasonInterest},
		{name: "prejudicial interest with dispensation", item: standard, member: with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestPrejudicial, Dispensation: "standards committee: may speak and vote"}}
		})},
		{name: "personal interest, stays", item: standard, member: with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestPersonal}}
		})},
		{name: "registrable interest, withdraws", item: standard, member: with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestRegistrable, Withdraws: true}}
		}), wantElse: ReasonInterest},
		{name: "registrable interest, stays", item: standard, member: with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestRegistrable}}
		})},
		{name: "non-registrable interest, withdraws", item: standard, member: with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestNonRegistrable, Withdraws: true}}
		}), wantElse: ReasonInterest},
		{name: "other interest, stays", item: standard, member: with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestOther}}
		})},
		{name: "second declaration bars", item: standard, member: with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestOther}, {Kind: InterestPecuniary}}
		}), wantElse: ReasonInterest},
		{name: "planning item, present throughout", item: planning, member: inRoom(42)},
		{name: "planning item, missed part", item: planning, member: with(func(m *Member) { m.PresentThroughout = false }),
			want: map[string]Reason{"england": ReasonNotThroughout, "england-2020": ReasonNotThroughout,
				"wales": ReasonNotThroughout, "scotland": ReasonNotThroughout}},
		{name: "planning item, missed part, chair overrode", item: planning, member: with(func(m *Member) {
			m.PresentThroughout, m.Override = false, override
		}), wantOverride: uk},
		{name: "planning item, override without a reason", item: planning, member: with(func(m *Member) {
			m.PresentThroughout, m.Override = false, &Override{Voter: 42, By: 40}
		}), want: map[string]Reason{"england": ReasonNotThroughout, "england-2020": ReasonNotThroughout,
			"wales": ReasonNotThroughout, "scotland": ReasonNotThroughout}},
		{name: "planning item, remote, missed part", item: planning, member: with(func(m *Member) {
			m.Mode, m.PresentThroughout = ModeRemoteVoting, false
		}), want: map[string]Reason{"england": ReasonRemote, "england-2020": ReasonNotThroughout,
			"wales": ReasonNotThroughout, "scotland": ReasonNotThroughout}},
		{name: "item needing whole presence, missed part", item: wholeItem, member: with(func(m *Member) { m.PresentThroughout = false }),
			wantElse: ReasonNotThroughout},
		{name: "item needing whole presence, chair overrode", item: wholeItem, member: with(func(m *Member) {
			m.PresentThroughout, m.Override = false, override
		}), wantOverride: presetNames},
		{name: "override not needed is not recorded", item: planning, member: with(func(m *Member) { m.Override = override })},
		{name: "override does not lift an interest", item: planning, member: with(func(m *Member) {
			m.PresentThroughout, m.Override = false, override
			m.Declarations = []Declaration{{Kind: InterestPecuniary}}
		}), wantElse: ReasonInterest},
		{name: "represented by proxy", item: standard, member: with(func(m *Member) {
			m.Mode, m.PresentAtOpen, m.ProxyHolder, m.ProxyHolderPresent, m.ProxyNumber = ModeProxy, false, 41, true, 1
		}), wantElse: ReasonProxiesNotAllowed, want: map[string]Reason{"france": ""}},
		{name: "second proxy of a holder", item: planning, member: with(func(m *Member) {
			m.Mode, m.PresentThroughout, m.ProxyHolder, m.ProxyHolderPresent, m.ProxyNumber = ModeProxy, false, 41, true, 2
		}), wantElse: ReasonProxiesNotAllowed, want: map[string]Reason{"france": ""}},
		{name: "third proxy of a holder", item: standard, member: with(func(m *Member) {
			m.Mode, m.ProxyHolder, m.ProxyHolderPresent, m.ProxyNumber = ModeProxy, 41, true, 3
		}), wantElse: ReasonProxiesNotAllowed, want: map[string]Reason{"france": ReasonTooManyProxies}},
		{name: "proxy holder absent", item: standard, member: with(func(m *Member) {
			m.Mode, m.ProxyHolder, m.ProxyNumber = ModeProxy, 41, 1
		}), wantElse: ReasonProxiesNotAllowed, want: map[string]Reason{"france": ReasonProxyHolderAbsent}},
		{name: "proxy with no holder", item: standard, member: with(func(m *Member) {
			m.Mode, m.ProxyHolderPresent = ModeProxy, true
		}), wantElse: ReasonProxiesNotAllowed, want: map[string]Reason{"france": ReasonProxyHolderAbsent}},
		{name: "represented member with an interest", item: standard, member: with(func(m *Member) {
			m.Mode, m.ProxyHolder, m.ProxyHolderPresent, m.ProxyNumber = ModeProxy, 41, true, 1
			m.Declarations = []Declaration{{Kind: InterestPecuniary}}
		}), wantElse: ReasonProxiesNotAllowed, want: map[string]Reason{"france": ReasonInterest}},
	}
	for _, tc := range tests {
		for _, preset := range presetNames {
			t.Run(tc.name+"/"+preset, func(t *testing.T) {
				want, ok := tc.want[preset]
				if !ok {
					want = tc.wantElse
				}
				d := Eligibility(presets[preset], tc.item, tc.member)
				if d.Reason != want {
					t.Errorf("reason: got %q, want %q", d.Reason, want)
				}
				if d.Voter != tc.member.User {
					t.Errorf("voter: got %d, want %d", d.Voter, tc.member.User)
				}
				if got, want := d.Override != nil, slices.Contains(tc.wantOverride, preset); got != want {
					t.Errorf("override recorded: got %v, want %v", got, want)
				} else if got && (d.Override.Reason != override.Reason || d.Override.By != 40 || d.Override.Voter != 42) {
					t.Errorf("override: got %+v, want %+v", d.Override, override)
				}
				if err := d.Err(); (err == nil) != (want == "") {
					t.Errorf("Err: got %v, want an error %v", err, want != "")
				} else if err != nil {
					var ie *IneligibleError
					if !errors.As(err, &ie) || ie.Reason != want || !errors.Is(err, ErrNotEligible) {
						t.Errorf("Err: got %v, want an *IneligibleError wrapping ErrNotEligible", err)
					}
				}
			})
		}
	}
}

func TestQuorumRequired(t *testing.T) {
	tests := []struct {
		name       string
		q          Quorum
		membership int
		want       int
	}{
		{"a quarter of 12", Quorum{1, 4, 0}, 12, 3},
		{"a quarter of 13 rounds up", Quorum{1, 4, 0}, 13, 4},
		{"a quarter of 8, at least 3", Quorum{1, 4, 3}, 8, 3},
		{"a third of 10", Quorum{1, 3, 0}, 10, 4},
		{"a third of 9", Quorum{1, 3, 0}, 9, 3},
		{"parish: a third of 6, at least 3", Quorum{1, 3, 3}, 6, 3},
		{"fixed number", Quorum{0, 0, 5}, 40, 5},
		{"half", Quorum{1, 2, 0}, 7, 4},
		{"none", Quorum{}, 7, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.q.Required(tc.membership); got != tc.want {
				t.Errorf("Required(%d): got %d, want %d", tc.membership, got, tc.want)
			}
		})
	}
}

func TestCountsForQuorum(t *testing.T) {
	with := func(edit func(*Member)) Member { m := inRoom(42); edit(&m); return m }
	remoteCount := map[string]bool{"england": false, "england-2020": true, "wales": true, "scotland": true, "france": true}
	proxyCount := map[string]bool{"france": true}
	none := map[string]bool{}
	all := map[string]bool{"england": true, "england-2020": true, "wales": true, "scotland": true, "france": true}
	tests := []struct {
		name   string
		member Member
		want   map[string]bool
	}{
		{"in the room", inRoom(42), all},
		{"chair in the room", with(func(m *Member) { m.Role = RoleChair }), all},
		{"substitute acting", with(func(m *Member) { m.Role, m.SubstituteFor, m.SubstituteForApologies = RoleSubstitute, 45, true }), all},
		{"substitute not acting", with(func(m *Member) { m.Role = RoleSubstitute }), none},
		{"substituted member", with(func(m *Member) { m.Substituted = true }), none},
		{"not on the committee", with(func(m *Member) { m.Role = "" }), none},
		{"remote with a vote", with(func(m *Member) { m.Mode = ModeRemoteVoting }), remoteCount},
		{"remote without a vote", with(func(m *Member) { m.Mode = ModeRemoteNonVoting }), none},
		{"absent", with(func(m *Member) { m.Mode = ModeAbsent }), none},
		{"not there when the poll opened", with(func(m *Member) { m.PresentAtOpen = false }), none},
		{"withdrawn for an interest", with(func(m *Member) { m.Declarations = []Declaration{{Kind: InterestPecuniary}} }), none},
		{"interest with dispensation", with(func(m *Member) {
			m.Declarations = []Declaration{{Kind: InterestPecuniary, Dispensation: "granted"}}
		}), all},
		{"represented by proxy", with(func(m *Member) {
			m.Mode, m.PresentAtOpen, m.ProxyHolder, m.ProxyHolderPresent = ModeProxy, false, 41, true
		}), proxyCount},
		{"represented, holder absent", with(func(m *Member) { m.Mode, m.ProxyHolder = ModeProxy, 41 }), none},
		{"represented by a third proxy", with(func(m *Member) {
			m.Mode, m.ProxyHolder, m.ProxyHolderPresent, m.ProxyNumber = ModeProxy, 41, true, 3
		}), none},
		{"missed part of a planning item still counts", with(func(m *Member) { m.PresentThroughout = false }), all},
	}
	for _, tc := range tests {
		for _, preset := range presetNames {
			t.Run(tc.name+"/"+preset, func(t *testing.T) {
				if got := CountsForQuorum(presets[preset], Item{ID: 31, Planning: true}, tc.member); got != tc.want[preset] {
					t.Errorf("got %v, want %v", got, tc.want[preset])
				}
			})
		}
	}
	t.Run("proxies that vote but do not count", func(t *testing.T) {
		r := presets["france"]
		r.ProxiesCountForQuorum = false
		m := with(func(m *Member) {
			m.Mode, m.PresentAtOpen, m.ProxyHolder, m.ProxyHolderPresent = ModeProxy, false, 41, true
		})
		if CountsForQuorum(r, Item{ID: 31}, m) || !Eligibility(r, Item{ID: 31}, m).Eligible() {
			t.Errorf("a proxy where proxies do not count: got counts %v, eligible %v, want false, true",
				CountsForQuorum(r, Item{ID: 31}, m), Eligibility(r, Item{ID: 31}, m).Eligible())
		}
	})
}

// TestRoll takes the roll of one hybrid planning meeting under each preset.
func TestRoll(t *testing.T) {
	const (
		chair, vice, m1, m2, m3, m4, m5, m6, sub, guest = 40, 41, 42, 43, 44, 45, 46, 47, 50, 60
	)
	override := &Override{Voter: m2, By: chair, Reason: "connection dropped for a minute"}
	members := []Member{
		{User: chair, Role: RoleChair, Mode: ModeInRoom, PresentAtOpen: true, PresentThroughout: true},
		{User: vice, Role: RoleViceChair, Mode: ModeRemoteVoting, PresentAtOpen: true, PresentThroughout: true},
		{User: m1, Role: RoleMember, Mode: ModeInRoom, PresentAtOpen: true, PresentThroughout: true},
		{User: m2, Role: RoleMember, Mode: ModeInRoom, PresentAtOpen: true, Override: override},
		{User: m3, Role: RoleMember, Mode: ModeRemoteNonVoting, PresentAtOpen: true, PresentThroughout: true},
		{User: m4, Role: RoleMember, Mode: ModeProxy, ProxyHolder: chair},
		{User: m5, Role: RoleMember, Substituted: true},
		{User: m6, Role: RoleMember},
		{User: sub, Role: RoleSubstitute, SubstituteFor: m5, SubstituteForApologies: true, Mode: ModeInRoom, PresentAtOpen: true, PresentThroughout: true},
		{User: guest, Mode: ModeInRoom, PresentAtOpen: true, PresentThroughout: true},
	}
	tests := []struct {
		preset        string
		present       int
		required      int
		eligible      []int64
		wantOverrides bool
	}{
		{"england", 4, 3, []int64{chair, m1, m2, sub}, true},
		{"england-2020", 5, 3, []int64{chair, vice, m1, m2, sub}, true},
		{"wales", 5, 3, []int64{chair, vice, m1, m2, sub}, true},
		{"scotland", 5, 3, []int64{chair, vice, m1, m2, sub}, true},
		{"france", 6, 3, []int64{chair, vice, m1, m2, m4, sub}, false},
	}
	for _, tc := range tests {
		t.Run(tc.preset, func(t *testing.T) {
			rc := Roll(presets[tc.preset], Item{ID: 31, Planning: true}, members)
			if rc.Membership != 8 {
				t.Errorf("membership: got %d, want 8", rc.Membership)
			}
			if rc.Present != tc.present || rc.QuorumRequired != tc.required || !rc.Quorate() {
				t.Errorf("quorum: got %d present of %d required (quorate %v), want %d of %d",
					rc.Present, rc.QuorumRequired, rc.Quorate(), tc.present, tc.required)
			}
			if got := rc.Eligible(); !slices.Equal(got, tc.eligible) {
				t.Errorf("eligible: got %v, want %v", got, tc.eligible)
			}
			var wantOverrides []Override
			if tc.wantOverrides {
				wantOverrides = []Override{*override}
			}
			if got := rc.Overrides(); !reflect.DeepEqual(got, wantOverrides) {
				t.Errorf("overrides: got %+v, want %+v", got, wantOverrides)
			}
			if len(rc.Decisions) != len(members) {
				t.Errorf("decisions: got %d, want %d", len(rc.Decisions), len(members))
			}
			if members[5].ProxyNumber != 0 {
				t.Errorf("Roll changed its input")
			}
		})
	}
}

// TestRollProxies checks that Roll numbers each holder's proxies and bars those past the
// limit, and bars proxies whose holder is not present with a vote.
func TestRollProxies(t *testing.T) {
	r := presets["france"]
	holder := Member{User: 1, Role: RoleMember, Mode: ModeInRoom, PresentAtOpen: true}
	remoteHolder := Member{User: 2, Role: RoleMember, Mode: ModeRemoteNonVoting, PresentAtOpen: true}
	proxy := func(user, holder int64) Member {
		return Member{User: user, Role: RoleMember, Mode: ModeProxy, ProxyHolder: holder}
	}
	members := []Member{holder, remoteHolder, proxy(11, 1), proxy(12, 1), proxy(13, 1), proxy(21, 2), proxy(31, 99)}
	rc := Roll(r, Item{ID: 1}, members)
	want := map[int64]Reason{1: "", 2: ReasonNonVotingMode, 11: "", 12: "", 13: ReasonTooManyProxies,
		21: ReasonProxyHolderAbsent, 31: ReasonProxyHolderAbsent}
	for _, d := range rc.Decisions {
		if d.Reason != want[d.Voter] {
			t.Errorf("user %d: got %q, want %q", d.Voter, d.Reason, want[d.Voter])
		}
	}
	// Present: the holder and the two members it validly represents.
	if rc.Present != 3 {
		t.Errorf("present: got %d, want 3", rc.Present)
	}
}
