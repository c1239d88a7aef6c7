package voting

import (
	"fmt"
	"testing"

	"github.com/chamber/chamber/agenda"
)

// interestCases are the declarations each code of conduct's members make, and whether
// each bars the member from the vote and the quorum.
var interestCases = map[agenda.ConductCode][]struct {
	name string
	decl Declaration
	bars bool
}{
	agenda.EnglandCode: {
		{"pecuniary without dispensation", Declaration{Kind: InterestPecuniary}, true},
		{"pecuniary with dispensation", Declaration{Kind: InterestPecuniary, Dispensation: "standards committee: may speak and vote"}, false},
		{"pecuniary with dispensation, withdrawing", Declaration{Kind: InterestPecuniary, Withdraws: true,
			Dispensation: "standards committee: may speak and vote"}, true},
		{"pecuniary, withdrawing", Declaration{Kind: InterestPecuniary, Withdraws: true}, true},
		{"other registrable, staying", Declaration{Kind: InterestRegistrable}, false},
		{"other registrable, withdrawing", Declaration{Kind: InterestRegistrable, Withdraws: true}, true},
		{"non-registrable, staying", Declaration{Kind: InterestNonRegistrable}, false},
		{"non-registrable, withdrawing", Declaration{Kind: InterestNonRegistrable, Withdraws: true}, true},
	},
	agenda.WalesCode: {
		{"prejudicial without dispensation", Declaration{Kind: InterestPrejudicial}, true},
		{"prejudicial with dispensation", Declaration{Kind: InterestPrejudicial, Dispensation: "standards committee, 12 January"}, false},
		{"prejudicial with dispensation, withdrawing", Declaration{Kind: InterestPrejudicial, Withdraws: true,
			Dispensation: "standards committee, 12 January"}, true},
		{"prejudicial, withdrawing", Declaration{Kind: InterestPrejudicial, Withdraws: true}, true},
		{"personal, staying", Declaration{Kind: InterestPersonal}, false},
		{"personal with dispensation, withdrawing", Declaration{Kind: InterestPersonal, Withdraws: true, Dispensation: "granted"}, true},
		{"personal, withdrawing", Declaration{Kind: InterestPersonal, Withdraws: true}, true},
	},
}

// TestInterestsPerProfile checks, under each preset, the kinds of interest its code of
// conduct has: the vote and the quorum follow the agenda's rule for each declaration.
func TestInterestsPerProfile(t *testing.T) {
	for _, p := range agenda.Presets() {
		cases := interestCases[p.Code()]
		if len(cases) == 0 {
			t.Errorf("%s: no cases for code %q", p.Name, p.Code())
		}
		kinds := map[InterestKind]bool{}
		for _, tc := range cases {
			kinds[tc.decl.Kind] = true
			t.Run(p.Name+"/"+tc.name, func(t *testing.T) {
				if !p.Code().Allows(agenda.DeclarationKind(tc.decl.Kind)) {
					t.Fatalf("the %s profile does not take %q declarations", p.Name, tc.decl.Kind)
				}
				m := inRoom(42)
				m.Declarations = []Declaration{tc.decl}
				r := RulesOf(p)
				want := Reason("")
				if tc.bars {
					want = ReasonInterest
				}
				if got := Eligibility(r, Item{ID: 31}, m).Reason; got != want {
					t.Errorf("eligibility: got %q, want %q", got, want)
				}
				if got := CountsForQuorum(r, Item{ID: 31}, m); got != !tc.bars {
					t.Errorf("counts for the quorum: got %v, want %v", got, !tc.bars)
				}
				ad := agenda.Declaration{Kind: agenda.DeclarationKind(tc.decl.Kind), Withdraws: tc.decl.Withdraws, Dispensation: tc.decl.Dispensation}
				if got := ad.Disqualifies(); got != tc.bars {
					t.Errorf("the agenda's rule: got %v, want %v", got, tc.bars)
				}
			})
		}
		for _, k := range p.DeclarationKinds() {
			if !kinds[InterestKind(k)] {
				t.Errorf("%s: no case declares a %q interest", p.Name, k)
			}
		}
	}
}

// TestProxyLimit checks what a holder's limit of proxies means to the votes: 0 is no
// limit (ProxiesAllowed alone decides whether there may be any), as it is to the
// attendance record.
func TestProxyLimit(t *testing.T) {
	tests := []struct {
		limit int
		nth   int
		want  Reason
	}{
		{0, 1, ""},
		{0, 2, ""},
		{0, 3, ""},
		{1, 1, ""},
		{1, 2, ReasonTooManyProxies},
		{2, 1, ""},
		{2, 2, ""},
		{2, 3, ReasonTooManyProxies},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("limit %d, proxy %d", tc.limit, tc.nth), func(t *testing.T) {
			r := presets["france"]
			r.MaxProxiesPerHolder = tc.limit
			m := Member{User: 42, Role: RoleMember, Mode: ModeProxy, ProxyHolder: 41, ProxyHolderPresent: true, ProxyNumber: tc.nth}
			if got := Eligibility(r, Item{ID: 31}, m).Reason; got != tc.want {
				t.Errorf("eligibility: got %q, want %q", got, tc.want)
			}
			if got := CountsForQuorum(r, Item{ID: 31}, m); got != (tc.want == "") {
				t.Errorf("counts for the quorum: got %v, want %v", got, tc.want == "")
			}
			if got := agenda.WithinProxyLimit(tc.limit, tc.nth); got != (tc.want == "") {
				t.Errorf("the agenda's limit: got %v, want %v", got, tc.want == "")
			}
			// Roll numbers the holder's proxies itself: the nth given is refused alike.
			members := []Member{{User: 41, Role: RoleMember, Mode: ModeInRoom, PresentAtOpen: true}}
			for i := 1; i <= tc.nth; i++ {
				members = append(members, Member{User: int64(100 + i), Role: RoleMember, Mode: ModeProxy, ProxyHolder: 41})
			}
			rc := Roll(r, Item{ID: 31}, members)
			if got := rc.Decisions[len(rc.Decisions)-1].Reason; got != tc.want {
				t.Errorf("roll: the proxy given %s: got %q, want %q", ordinal(tc.nth), got, tc.want)
			}
		})
	}
	t.Run("proxies not allowed, whatever the limit", func(t *testing.T) {
		for _, limit := range []int{0, 1, 2} {
			r := presets["england"]
			r.MaxProxiesPerHolder = limit
			m := Member{User: 42, Role: RoleMember, Mode: ModeProxy, ProxyHolder: 41, ProxyHolderPresent: true, ProxyNumber: 1}
			if got := Eligibility(r, Item{ID: 31}, m).Reason; got != ReasonProxiesNotAllowed {
				t.Errorf("limit %d: got %q, want %q", limit, got, ReasonProxiesNotAllowed)
			}
		}
	})
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "first"
	case 2:
		return "second"
	case 3:
		return "third"
	}
	return fmt.Sprintf("%dth", n)
}
