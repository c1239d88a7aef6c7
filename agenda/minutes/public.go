package minutes

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/chamber/chamber/voting"
)

// Public returns the minutes as the public may read them. Exempt business shows its
// number and title and the resolution to exclude the public with its Schedule 12A
// paragraph, and nothing else: not its description, the clerk's notes, speakers,
// motions, votes or decision. Declarations on it keep who declared what kind of
// interest and whether they withdrew, not the detail; corrections to it say that it
// changed, not how. The vote record, if attached, withholds the polls on it (their log
// entries stay, by hash, so that the record still verifies). m is not changed.
func (m *Minutes) Public() (*Minutes, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("public minutes: %w", err)
	}
	var p Minutes
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("public minutes: %w", err)
	}
	p.View = PublicView
	exempt := map[int64]bool{}
	for i := range p.Items {
		it := &p.Items[i]
		if !it.Exempt() {
			continue
		}
		exempt[it.ID] = true
		it.Description, it.Notes, it.Decision = "", "", ""
		it.NotesEdited, it.DecisionEdited = false, false
		it.Speakers, it.Motions, it.Votes = []Speaker{}, []Motion{}, []Vote{}
		if it.Exclusion != nil {
			it.Exclusion.Reason = ""
		}
		it.Redacted = true
	}
	for i := range p.Declarations {
		if d := &p.Declarations[i]; exempt[d.ItemID] {
			d.Description, d.Dispensation, d.Redacted = "", "", true
		}
	}
	if c := p.Correction; c != nil {
		for i := range c.Changes {
			if ch := &c.Changes[i]; exempt[ch.ItemID] {
				ch.Before, ch.After, ch.Redacted = "", "", true
			}
		}
		c.Summary = summarise(c.Changes)
	}
	if m.Record != nil {
		known := map[int64]bool{}
		for _, it := range m.Items {
			known[it.ID] = true
		}
		rec := *m.Record
		rec.Polls = slices.Clone(rec.Polls)
		rec.Keys = slices.Clone(rec.Keys)
		rec.Withheld = slices.Clone(rec.Withheld)
		err := rec.Withhold(func(rp *voting.RecordPoll) bool {
			return exempt[rp.Opening.Item] || !known[rp.Opening.Item]
		})
		if err != nil {
			return nil, fmt.Errorf("public minutes: %w", err)
		}
		p.Record = &rec
	}
	return &p, nil
}
