package voting

import (
	"testing"

	"github.com/chamber/chamber/agenda"
)

// TestRulesOf checks that each of the agenda's presets gives the rules the tests of
// this package take for it, and that a fixed quorum is kept.
func TestRulesOf(t *testing.T) {
	for _, p := range agenda.Presets() {
		want, ok := presets[p.Name]
		if !ok {
			t.Errorf("preset %q has no rules in the tests", p.Name)
			continue
		}
		if got := RulesOf(p); got != want {
			t.Errorf("%s:\ngot  %+v\nwant %+v", p.Name, got, want)
		}
	}
	p, _ := agenda.Preset("england")
	p.Quorum = agenda.Quorum{Fixed: 5, Num: 1, Den: 4, Min: 3}
	if got := RulesOf(p).Quorum.Required(40); got != 5 {
		t.Errorf("a fixed quorum of 5 of 40: got %d", got)
	}
}
