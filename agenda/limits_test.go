package agenda_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chamber/chamber/agenda"
)

// testTextLimitsInCharacters checks that text limits count characters, as a form's
// maxlength does: Welsh letters such as ŵ take two bytes each, and a title as long as
// the limit allows in characters is taken whole.
func testTextLimitsInCharacters(t *testing.T, w *world) {
	m, _ := w.meeting(true)
	for _, tc := range []struct {
		name  string
		title string
		ok    bool
	}{
		{"at the limit", strings.Repeat("ŵ", 500), true},
		{"one over", strings.Repeat("ŵ", 501), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it, err := w.svc.AddItem(w.ctx, w.clerk, m.ID, agenda.ItemInput{Title: tc.title})
			if !tc.ok {
				if got := fieldErrors(err); len(got) != 1 || got[0] != "title" {
					t.Fatalf("a title of %d characters: got %v (fields %v), want a validation error on title", utf8.RuneCountInString(tc.title), err, got)
				}
				var ve *agenda.ValidationError
				if !errors.As(err, &ve) || !strings.Contains(ve.Fields[0].Message, "500 characters") {
					t.Errorf("message %v, want it to name the limit in characters", err)
				}
				return
			}
			w.must(err)
			if it.Title != tc.title {
				t.Errorf("stored title of %d bytes, want the %d bytes sent", len(it.Title), len(tc.title))
			}
		})
	}
}
