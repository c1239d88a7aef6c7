package agenda_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/chamber/chamber/agenda"
)

// TestProfileKinds checks which kinds of interest each preset's code of conduct takes,
// and that a profile stored before profiles named their code still gets its preset's.
func TestProfileKinds(t *testing.T) {
	england := []agenda.DeclarationKind{agenda.Pecuniary, agenda.Registrable, agenda.NonRegistrable}
	wales := []agenda.DeclarationKind{agenda.Personal, agenda.Prejudicial}
	want := map[string][]agenda.DeclarationKind{
		"england": england, "england-2020": england, "wales": wales, "scotland": england, "france": england,
	}
	for _, p := range agenda.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			w, ok := want[p.Name]
			if !ok {
				t.Fatalf("no kinds expected for preset %q", p.Name)
			}
			if got := p.DeclarationKinds(); !slices.Equal(got, w) {
				t.Errorf("kinds: got %v, want %v", got, w)
			}
			stored := p
			stored.ConductCode = ""
			if got := stored.DeclarationKinds(); !slices.Equal(got, w) {
				t.Errorf("kinds of a profile stored without its code: got %v, want %v", got, w)
			}
			for _, k := range []agenda.DeclarationKind{agenda.Pecuniary, agenda.Registrable, agenda.NonRegistrable,
				agenda.Personal, agenda.Prejudicial, agenda.OtherInterest, "vague"} {
				if got := p.Code().Allows(k); got != slices.Contains(w, k) {
					t.Errorf("allows %q: got %v, want %v", k, got, !got)
				}
			}
		})
	}
	if got := (agenda.Profile{Name: "custom"}).Code(); got != agenda.EnglandCode {
		t.Errorf("a profile of no preset, stored without a code: got %q, want %q", got, agenda.EnglandCode)
	}

	welsh := agenda.WalesCode
	p, err := agenda.ResolveProfile("england-2020", agenda.ProfileOverrides{ConductCode: &welsh})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.DeclarationKinds(); !slices.Equal(got, wales) {
		t.Errorf("england-2020 under the Welsh code: got %v, want %v", got, wales)
	}
	bad := agenda.ConductCode("narnia")
	_, err = agenda.ResolveProfile("england", agenda.ProfileOverrides{ConductCode: &bad})
	if got := fieldErrors(err); !slices.Equal(got, []string{"overrides.conduct_code"}) {
		t.Errorf("an unknown code: got %v (%v), want a field error on overrides.conduct_code", got, err)
	}
}

// TestDisqualifiesPerProfile checks, for the kinds of each preset's code, which
// declarations bar a member from the item. A member who withdraws is barred whatever a
// dispensation says; a pecuniary or prejudicial interest bars unless there is one;
// others bar only a member who withdraws.
func TestDisqualifiesPerProfile(t *testing.T) {
	const dispensation = "Standards Committee, 3 March: may speak and vote"
	cases := map[agenda.ConductCode][]struct {
		name string
		d    agenda.Declaration
		want bool
	}{
		agenda.EnglandCode: {
			{"pecuniary without dispensation", agenda.Declaration{Kind: agenda.Pecuniary}, true},
			{"pecuniary with dispensation", agenda.Declaration{Kind: agenda.Pecuniary, Dispensation: dispensation}, false},
			{"pecuniary with dispensation, withdrawing", agenda.Declaration{Kind: agenda.Pecuniary, Dispensation: dispensation, Withdraws: true}, true},
			{"pecuniary with a blank dispensation", agenda.Declaration{Kind: agenda.Pecuniary, Dispensation: "  "}, true},
			{"other registrable, staying", agenda.Declaration{Kind: agenda.Registrable}, false},
			{"other registrable, withdrawing", agenda.Declaration{Kind: agenda.Registrable, Withdraws: true}, true},
			{"non-registrable, staying", agenda.Declaration{Kind: agenda.NonRegistrable}, false},
			{"non-registrable, withdrawing", agenda.Declaration{Kind: agenda.NonRegistrable, Withdraws: true}, true},
		},
		agenda.WalesCode: {
			{"prejudicial without dispensation", agenda.Declaration{Kind: agenda.Prejudicial}, true},
			{"prejudicial with dispensation", agenda.Declaration{Kind: agenda.Prejudicial, Dispensation: dispensation}, false},
			{"prejudicial with dispensation, withdrawing", agenda.Declaration{Kind: agenda.Prejudicial, Dispensation: dispensation, Withdraws: true}, true},
			{"personal, staying", agenda.Declaration{Kind: agenda.Personal}, false},
			{"personal with dispensation, withdrawing", agenda.Declaration{Kind: agenda.Personal, Dispensation: dispensation, Withdraws: true}, true},
			{"personal, withdrawing", agenda.Declaration{Kind: agenda.Personal, Withdraws: true}, true},
		},
	}
	for _, p := range agenda.Presets() {
		for _, tc := range cases[p.Code()] {
			t.Run(p.Name+"/"+tc.name, func(t *testing.T) {
				if !p.Code().Allows(tc.d.Kind) {
					t.Fatalf("the %s profile does not take %q declarations", p.Name, tc.d.Kind)
				}
				if got := tc.d.Disqualifies(); got != tc.want {
					t.Errorf("disqualifies: got %v, want %v", got, tc.want)
				}
			})
		}
	}
	t.Run("earlier records", func(t *testing.T) {
		if (agenda.Declaration{Kind: agenda.OtherInterest}).Disqualifies() {
			t.Errorf("an other interest, staying, disqualifies")
		}
		if !(agenda.Declaration{Kind: agenda.OtherInterest, Withdraws: true}).Disqualifies() {
			t.Errorf("an other interest, withdrawing, does not disqualify")
		}
	})
}

// kindMessage returns the message of a validation error on the field kind.
func kindMessage(err error) string {
	var ve *agenda.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			if f.Field == "kind" {
				return f.Message
			}
		}
	}
	return ""
}

// testDeclarationKindsFollowTheProfile declares each kind of interest to committees
// under England's code and the Welsh one: each takes its own kinds and refuses the
// others with a message naming the code and its kinds.
func testDeclarationKindsFollowTheProfile(t *testing.T, w *world) {
	welsh := agenda.WalesCode
	byOverride, err := w.svc.CreateCommittee(w.ctx, w.clerk, w.council.ID, agenda.CommitteeInput{Name: "Licensing Committee",
		Profile: "england-2020", Overrides: agenda.ProfileOverrides{ConductCode: &welsh}})
	w.must(err)
	_, err = w.svc.SetMember(w.ctx, w.clerk, byOverride.ID, w.member.UserID, agenda.Member)
	w.must(err)
	committees := map[string]agenda.Committee{"england": w.committee, "wales": w.committeeWith("wales"), "england-2020, Welsh code": byOverride}
	const (
		englandKinds = "declare pecuniary, registrable or non_registrable"
		welshKinds   = "declare personal or prejudicial"
	)
	tests := []struct {
		committee string
		kind      agenda.DeclarationKind
		refused   string // the message on kind; "" when accepted
	}{
		{"england", agenda.Pecuniary, ""},
		{"england", agenda.Registrable, ""},
		{"england", agenda.NonRegistrable, ""},
		{"england", agenda.Personal, `"personal" is not a kind of interest under England's code of conduct (Localism Act 2011): ` + englandKinds},
		{"england", agenda.Prejudicial, `"prejudicial" is not a kind of interest under England's code of conduct (Localism Act 2011): ` + englandKinds},
		{"england", agenda.OtherInterest, `"other" is not a kind of interest under England's code of conduct (Localism Act 2011): ` + englandKinds},
		{"england", "vague", `"vague" is not a kind of interest under England's code of conduct (Localism Act 2011): ` + englandKinds},
		{"wales", agenda.Personal, ""},
		{"wales", agenda.Prejudicial, ""},
		{"wales", agenda.Pecuniary, `"pecuniary" is not a kind of interest under the Welsh code of conduct (Model Code of Conduct (Wales) Order 2008): ` + welshKinds},
		{"wales", agenda.Registrable, `"registrable" is not a kind of interest under the Welsh code of conduct (Model Code of Conduct (Wales) Order 2008): ` + welshKinds},
		{"wales", agenda.NonRegistrable, `"non_registrable" is not a kind of interest under the Welsh code of conduct (Model Code of Conduct (Wales) Order 2008): ` + welshKinds},
		{"england-2020, Welsh code", agenda.Prejudicial, ""},
		{"england-2020, Welsh code", agenda.Pecuniary, `"pecuniary" is not a kind of interest under the Welsh code of conduct (Model Code of Conduct (Wales) Order 2008): ` + welshKinds},
	}
	meetings := map[string]agenda.Meeting{}
	for name, cm := range committees {
		meetings[name], _ = w.startedMeetingOf(cm.ID)
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.committee, tt.kind), func(t *testing.T) {
			m := meetings[tt.committee]
			seq := w.get(m.ID).LastSeq
			d, err := w.svc.Declare(w.ctx, w.clerk, m.ID, agenda.DeclarationInput{UserID: w.member.UserID, Kind: tt.kind,
				Description: "Owns land adjoining the site.", Withdraws: true})
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("got %v, want the declaration recorded", err)
				}
				if d.Kind != tt.kind || !d.Disqualifies() {
					t.Errorf("declaration: got %+v", d)
				}
				w.checkPublished(t, m.ID, seq, agenda.EvDeclarationRecorded)
				return
			}
			if !errors.Is(err, agenda.ErrInvalid) || !slices.Equal(fieldErrors(err), []string{"kind"}) {
				t.Fatalf("got %v, want a validation error on kind", err)
			}
			if got := kindMessage(err); got != tt.refused {
				t.Errorf("message:\ngot  %s\nwant %s", got, tt.refused)
			}
			w.checkPublished(t, m.ID, seq)
		})
	}
}

// testProxyLimits records proxies for one holder under limits of 0 (no limit), 1 and 2
// proxies per holder, and where proxies are not allowed at all.
func testProxyLimits(t *testing.T, w *world) {
	yes, no := true, false
	committee := func(name string, allowed *bool, limit int) agenda.Committee {
		t.Helper()
		cm, err := w.svc.CreateCommittee(w.ctx, w.clerk, w.council.ID, agenda.CommitteeInput{Name: name, Profile: "france",
			Overrides: agenda.ProfileOverrides{ProxiesAllowed: allowed, MaxProxiesPerHolder: &limit}})
		w.must(err)
		for _, a := range []agenda.Actor{w.chair, w.member, w.member2, w.member3} {
			_, err := w.svc.SetMember(w.ctx, w.clerk, cm.ID, a.UserID, agenda.Member)
			w.must(err)
		}
		return cm
	}
	tests := []struct {
		name    string
		allowed *bool
		limit   int
		// fields holds, for the first, second and third proxy given to the chair, the
		// fields refused (nil: accepted).
		fields [3][]string
	}{
		{"no limit", &yes, 0, [3][]string{nil, nil, nil}},
		{"one each", &yes, 1, [3][]string{nil, {"proxy_holder_id"}, {"proxy_holder_id"}}},
		{"two each", &yes, 2, [3][]string{nil, nil, {"proxy_holder_id"}}},
		{"not allowed, no limit", &no, 0, [3][]string{{"mode"}, {"mode"}, {"mode"}}},
		{"not allowed, a limit of two", &no, 2, [3][]string{{"mode"}, {"mode"}, {"mode"}}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm := committee(fmt.Sprintf("Committee %d", i), tt.allowed, tt.limit)
			if cm.Profile.MaxProxiesPerHolder != tt.limit || cm.Profile.ProxiesAllowed != *tt.allowed {
				t.Fatalf("profile: got %+v", cm.Profile)
			}
			m, _ := w.startedMeetingOf(cm.ID)
			_, err := w.svc.RecordArrival(w.ctx, w.clerk, m.ID, agenda.AttendanceInput{UserID: w.chair.UserID, Mode: agenda.InRoom})
			w.must(err)
			for n, member := range []agenda.Actor{w.member, w.member2, w.member3} {
				_, err := w.svc.RecordArrival(w.ctx, w.clerk, m.ID, agenda.AttendanceInput{UserID: member.UserID, Mode: agenda.ByProxy,
					ProxyHolderID: w.chair.UserID})
				if got := fieldErrors(err); !slices.Equal(got, tt.fields[n]) {
					t.Errorf("proxy %d: got %v (%v), want fields %v", n+1, got, err, tt.fields[n])
				}
				if err != nil && fieldErrors(err) == nil {
					t.Fatal(err)
				}
			}
		})
	}
}
