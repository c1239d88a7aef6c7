package minutes

import (
	"testing"

	"github.com/chamber/chamber/agenda"
)

// TestDeclarationText checks how the minutes describe each kind of interest, under
// England's code and the Welsh one, and a withdrawal for it.
func TestDeclarationText(t *testing.T) {
	who := Person{Name: "Anwen Davies", Title: "Cllr"}
	tests := []struct {
		kind       agenda.DeclarationKind
		label      string
		withdrawal string
	}{
		{agenda.Pecuniary, "Disclosable pecuniary interest",
			"Cllr Anwen Davies declared a disclosable pecuniary interest and withdrew from the meeting for this item."},
		{agenda.Registrable, "Other registrable interest",
			"Cllr Anwen Davies declared an other registrable interest and withdrew from the meeting for this item."},
		{agenda.NonRegistrable, "Non-registrable interest",
			"Cllr Anwen Davies declared a non-registrable interest and withdrew from the meeting for this item."},
		{agenda.Personal, "Personal interest",
			"Cllr Anwen Davies declared a personal interest and withdrew from the meeting for this item."},
		{agenda.Prejudicial, "Prejudicial interest",
			"Cllr Anwen Davies declared a prejudicial interest and withdrew from the meeting for this item."},
		{agenda.OtherInterest, "Other interest",
			"Cllr Anwen Davies declared an other interest and withdrew from the meeting for this item."},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			if got := interestLabel(tc.kind); got != tc.label {
				t.Errorf("label: got %q, want %q", got, tc.label)
			}
			dc := Declaration{Person: who, ItemID: 4, ItemNumber: "4", Kind: tc.kind, Withdraws: true}
			if got := withdrawalText(dc); got != tc.withdrawal {
				t.Errorf("withdrawal: got %q, want %q", got, tc.withdrawal)
			}
		})
	}
	dc := Declaration{Person: who, Kind: agenda.Prejudicial, Description: "Owns land adjoining the site.",
		Dispensation: "Standards Committee, 3 March: may speak and vote"}
	if got, want := declarationDetail(dc), "Owns land adjoining the site. Dispensation: Standards Committee, 3 March: may speak and vote."; got != want {
		t.Errorf("detail: got %q, want %q", got, want)
	}
}
