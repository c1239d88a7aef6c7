package agenda

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// Limits on an agenda.
const (
	MaxItems          = 500
	MaxPapersPerItem  = 50
	maxDescriptionLen = 20000
	maxNotesLen       = 100000
)

// ItemInput creates an agenda item or, in an import, describes one.
type ItemInput struct {
	Number            string   `json:"number,omitempty"`
	Title             string   `json:"title"`
	Description       string   `json:"description,omitempty"`
	Kind              ItemKind `json:"kind,omitempty"`
	ExemptParagraph   int      `json:"exempt_paragraph,omitempty"`
	WholeItemPresence *bool    `json:"whole_item_presence,omitempty"`
	Papers            []Paper  `json:"papers,omitempty"`
	// Position puts the item before the item now at that 1-based position; 0 appends.
	Position int `json:"position,omitempty"`
}

// normalise fills defaults and checks the input, reporting errors on row (0 outside
// imports).
func (in *ItemInput) normalise(c *checker) {
	in.Number = strings.TrimSpace(in.Number)
	in.Title = strings.TrimSpace(in.Title)
	if in.Kind == "" {
		in.Kind = Standard
	}
	c.text("number", in.Number, false, 20)
	c.text("title", in.Title, true, 500)
	c.text("description", in.Description, false, maxDescriptionLen)
	if !in.Kind.Valid() {
		c.add("kind", "must be standard, planning or exempt")
	}
	switch {
	case in.Kind == Exempt && (in.ExemptParagraph < 1 || in.ExemptParagraph > maxParagraph):
		c.add("exempt_paragraph", "an exempt item needs its Schedule 12A paragraph (1–%d)", maxParagraph)
	case in.Kind != Exempt && in.ExemptParagraph != 0:
		c.add("exempt_paragraph", "applies only to exempt items")
	}
	if in.Position < 0 {
		c.add("position", "must not be negative")
	}
	checkPapers(c, in.Papers)
}

func checkPapers(c *checker, papers []Paper) {
	if len(papers) > MaxPapersPerItem {
		c.add("papers", "has more than %d papers", MaxPapersPerItem)
		return
	}
	for i, p := range papers {
		field := "papers[" + strconv.Itoa(i) + "]"
		c.text(field+".title", p.Title, true, 300)
		u, err := url.Parse(p.URL)
		switch {
		case len(p.URL) > 2000:
			c.add(field+".url", "is longer than 2000 bytes")
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			c.add(field+".url", "must be an http or https URL")
		}
	}
}

// wholeItem is the item's whole-item presence flag: as given, else on for planning
// items where the committee's profile asks for it.
func (in ItemInput) wholeItem(p Profile) bool {
	if in.WholeItemPresence != nil {
		return *in.WholeItemPresence
	}
	return in.Kind == Planning && p.WholeItemPresenceForPlanning
}

func (in ItemInput) item(meetingID int64, p Profile) Item {
	papers := in.Papers
	if papers == nil {
		papers = []Paper{}
	}
	return Item{MeetingID: meetingID, Number: in.Number, Title: in.Title, Description: in.Description, Kind: in.Kind,
		ExemptParagraph: in.ExemptParagraph, WholeItemPresence: in.wholeItem(p), Papers: papers, Status: Pending}
}

// AddItem adds an item to a meeting's agenda. Clerks only.
func (s *Service) AddItem(ctx context.Context, actor Actor, meetingID int64, in ItemInput) (Item, error) {
	var it Item
	err := s.write(ctx, actor, func(o *op) error {
		m, err := s.canEditAgenda(o, meetingID)
		if err != nil {
			return err
		}
		var c checker
		in.normalise(&c)
		if err := c.err(); err != nil {
			return err
		}
		cm, err := o.GetCommittee(ctx, m.CommitteeID)
		if err != nil {
			return err
		}
		items, err := o.ListItems(ctx, meetingID)
		if err != nil {
			return err
		}
		if len(items) >= MaxItems {
			return conflict("meeting %d already has %d items", meetingID, MaxItems)
		}
		it = in.item(meetingID, cm.Profile)
		it.CreatedAt = o.now
		pos := in.Position
		if pos == 0 || pos > len(items) {
			pos = len(items) + 1
		}
		it.Position = pos
		if it.Number == "" {
			it.Number = strconv.Itoa(pos)
		}
		// Make room: items at or after pos move down one.
		for i := len(items) - 1; i >= 0; i-- {
			if items[i].Position >= pos {
				items[i].Position++
				if err := o.UpdateItem(ctx, items[i]); err != nil {
					return err
				}
			}
		}
		if err := o.CreateItem(ctx, &it); err != nil {
			return err
		}
		return s.emitItem(o, it, EvItemAdded)
	})
	return it, err
}

// emitItem journals an item. The clerk's working notes are never in a public event: an
// item event is private for exempt business, and otherwise carries the item without its
// notes, which go in a private item.notes event of their own when they change.
func (s *Service) emitItem(o *op, it Item, typ string) error {
	if it.Kind == Exempt {
		return o.emit(it.MeetingID, typ, true, it)
	}
	pub := it
	pub.Notes = ""
	return o.emit(it.MeetingID, typ, false, pub)
}

// saveItem stores an item and journals it.
func (s *Service) saveItem(o *op, _ Meeting, it Item, typ string) error {
	if err := o.UpdateItem(o.ctx, it); err != nil {
		return err
	}
	return s.emitItem(o, it, typ)
}

// ItemPatch changes an item; nil fields stay as they are.
type ItemPatch struct {
	Number            *string   `json:"number,omitempty"`
	Title             *string   `json:"title,omitempty"`
	Description       *string   `json:"description,omitempty"`
	Kind              *ItemKind `json:"kind,omitempty"`
	ExemptParagraph   *int      `json:"exempt_paragraph,omitempty"`
	WholeItemPresence *bool     `json:"whole_item_presence,omitempty"`
	Papers            *[]Paper  `json:"papers,omitempty"`
	Notes             *string   `json:"notes,omitempty"`
	Decision          *string   `json:"decision,omitempty"`
}

// UpdateItem changes an item. Clerks only. An item's kind cannot change once it has been
// taken, and a closed meeting's items change only through the minutes.
func (s *Service) UpdateItem(ctx context.Context, actor Actor, meetingID, itemID int64, p ItemPatch) (Item, error) {
	var it Item
	err := s.write(ctx, actor, func(o *op) error {
		m, err := s.canEditAgenda(o, meetingID)
		if err != nil {
			return err
		}
		if it, err = o.GetItem(ctx, itemID); err != nil || it.MeetingID != meetingID {
			return itemErr(err, itemID)
		}
		in := ItemInput{Number: it.Number, Title: it.Title, Description: it.Description, Kind: it.Kind,
			ExemptParagraph: it.ExemptParagraph, WholeItemPresence: &it.WholeItemPresence, Papers: it.Papers}
		if p.Number != nil {
			in.Number = *p.Number
		}
		if p.Title != nil {
			in.Title = *p.Title
		}
		if p.Description != nil {
			in.Description = *p.Description
		}
		if p.Kind != nil {
			if *p.Kind != it.Kind && it.Status != Pending {
				return conflict("item %s has been taken; its kind cannot change", it.Number)
			}
			in.Kind = *p.Kind
			if in.Kind != Exempt && p.ExemptParagraph == nil {
				in.ExemptParagraph = 0
			}
		}
		if p.ExemptParagraph != nil {
			in.ExemptParagraph = *p.ExemptParagraph
		}
		if p.WholeItemPresence != nil {
			in.WholeItemPresence = p.WholeItemPresence
		}
		if p.Papers != nil {
			in.Papers = *p.Papers
		}
		var c checker
		in.normalise(&c)
		notesChanged := p.Notes != nil && *p.Notes != it.Notes
		if p.Notes != nil {
			c.text("notes", *p.Notes, false, maxNotesLen)
			it.Notes = *p.Notes
		}
		if p.Decision != nil {
			c.text("decision", *p.Decision, false, maxNotesLen)
			it.Decision = *p.Decision
		}
		if err := c.err(); err != nil {
			return err
		}
		if in.Number == "" {
			in.Number = strconv.Itoa(it.Position)
		}
		if in.Kind == Exempt && it.Status == Current && m.Session == PublicSession {
			return conflict("item %s is being taken in public; go into private session first", it.Number)
		}
		it.Number, it.Title, it.Description, it.Kind = in.Number, in.Title, in.Description, in.Kind
		it.ExemptParagraph, it.WholeItemPresence, it.Papers = in.ExemptParagraph, *in.WholeItemPresence, in.Papers
		if it.Papers == nil {
			it.Papers = []Paper{}
		}
		if err := s.saveItem(o, m, it, EvItemUpdated); err != nil {
			return err
		}
		if notesChanged && it.Kind != Exempt {
			return o.emit(meetingID, EvItemNotes, true, map[string]any{"item_id": it.ID, "notes": it.Notes})
		}
		return nil
	})
	return it, err
}

// RemoveItem takes an item off the agenda. Only items not yet taken can be removed.
func (s *Service) RemoveItem(ctx context.Context, actor Actor, meetingID, itemID int64) error {
	return s.write(ctx, actor, func(o *op) error {
		if _, err := s.canEditAgenda(o, meetingID); err != nil {
			return err
		}
		it, err := o.GetItem(ctx, itemID)
		if err != nil || it.MeetingID != meetingID {
			return itemErr(err, itemID)
		}
		if it.Status != Pending {
			return conflict("item %s has been taken and stays on the record", it.Number)
		}
		if err := s.notVotedOn(o, it, "removed"); err != nil {
			return err
		}
		if err := o.DeleteItem(ctx, itemID); err != nil {
			return err
		}
		items, err := o.ListItems(ctx, meetingID)
		if err != nil {
			return err
		}
		if err := renumber(o, items); err != nil {
			return err
		}
		return o.emit(meetingID, EvItemRemoved, it.Kind == Exempt, it.Ref())
	})
}

// renumber gives items consecutive positions in their current order.
func renumber(o *op, items []Item) error {
	for i := range items {
		if items[i].Position != i+1 {
			items[i].Position = i + 1
			if err := o.UpdateItem(o.ctx, items[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReorderItems puts the agenda in the order given, which must name every item once.
func (s *Service) ReorderItems(ctx context.Context, actor Actor, meetingID int64, order []int64) ([]Item, error) {
	var out []Item
	err := s.write(ctx, actor, func(o *op) error {
		if _, err := s.canEditAgenda(o, meetingID); err != nil {
			return err
		}
		items, err := o.ListItems(ctx, meetingID)
		if err != nil {
			return err
		}
		byID := make(map[int64]Item, len(items))
		for _, it := range items {
			byID[it.ID] = it
		}
		if len(order) != len(items) {
			return invalid("order", "must list all %d items once each", len(items))
		}
		out = make([]Item, 0, len(order))
		for _, id := range order {
			it, ok := byID[id]
			if !ok {
				return invalid("order", "item %d is not on this agenda or is listed twice", id)
			}
			delete(byID, id)
			out = append(out, it)
		}
		if err := renumber(o, out); err != nil {
			return err
		}
		return o.emit(meetingID, EvAgendaReordered, false, map[string][]int64{"order": order})
	})
	return out, err
}

// ListItems returns a meeting's agenda in order, redacted for readers who may not see
// exempt business or the clerk's notes.
func (s *Service) ListItems(ctx context.Context, actor Actor, meetingID int64) ([]Item, error) {
	var out []Item
	err := s.read(ctx, func(tx Tx) error {
		m, err := tx.GetMeeting(ctx, meetingID)
		if err != nil {
			return err
		}
		if !visible(actor, m) {
			return notFound("meeting", meetingID)
		}
		if out, err = tx.ListItems(ctx, meetingID); err != nil {
			return err
		}
		if !actor.CanReadPrivate(m.CouncilID, m.CommitteeID) {
			for i := range out {
				out[i] = redactItem(out[i])
			}
		}
		return nil
	})
	if out == nil {
		out = []Item{}
	}
	return out, err
}

// GetItem returns one item, redacted as ListItems does.
func (s *Service) GetItem(ctx context.Context, actor Actor, meetingID, itemID int64) (Item, error) {
	var it Item
	err := s.read(ctx, func(tx Tx) error {
		m, err := tx.GetMeeting(ctx, meetingID)
		if err != nil {
			return err
		}
		if !visible(actor, m) {
			return notFound("meeting", meetingID)
		}
		if it, err = tx.GetItem(ctx, itemID); err != nil || it.MeetingID != meetingID {
			return itemErr(err, itemID)
		}
		if !actor.CanReadPrivate(m.CouncilID, m.CommitteeID) {
			it = redactItem(it)
		}
		return nil
	})
	return it, err
}

// redactItem is what the public sees of an item: never the clerk's working notes, and of
// exempt business only the number and title.
func redactItem(it Item) Item {
	it.Notes = ""
	if it.Kind == Exempt {
		it.Description, it.Papers, it.Decision, it.Redacted = "", []Paper{}, "", true
	}
	return it
}

// ImportResult says what an import did.
type ImportResult struct {
	Items    []Item `json:"items"`
	Replaced bool   `json:"replaced"`
}

// ImportAgenda adds parsed items to a meeting's agenda, or replaces the agenda when
// replace is set (only before the meeting starts). Every item is checked first; any
// error rejects the whole import, naming each row and field.
func (s *Service) ImportAgenda(ctx context.Context, actor Actor, meetingID int64, f AgendaFile, replace bool) (ImportResult, error) {
	rows := f.Items
	res := ImportResult{Replaced: replace}
	err := s.write(ctx, actor, func(o *op) error {
		m, err := s.canEditAgenda(o, meetingID)
		if err != nil {
			return err
		}
		if err := checkImport(f); err != nil {
			return err
		}
		cm, err := o.GetCommittee(ctx, m.CommitteeID)
		if err != nil {
			return err
		}
		existing, err := o.ListItems(ctx, meetingID)
		if err != nil {
			return err
		}
		if replace {
			if m.Status != Scheduled {
				return conflict("meeting %d has started; its agenda can only be added to", meetingID)
			}
			for _, it := range existing {
				if err := o.DeleteItem(ctx, it.ID); err != nil {
					return err
				}
			}
			existing = nil
		}
		if len(existing)+len(rows) > MaxItems {
			return conflict("the agenda would have more than %d items", MaxItems)
		}
		for i, in := range rows {
			it := in.item(meetingID, cm.Profile)
			it.Position = len(existing) + i + 1
			if it.Number == "" {
				it.Number = strconv.Itoa(it.Position)
			}
			it.CreatedAt = o.now
			if err := o.CreateItem(ctx, &it); err != nil {
				return err
			}
			res.Items = append(res.Items, it)
		}
		return o.emit(meetingID, EvAgendaImported, false, map[string]any{"items": len(rows), "replaced": replace})
	})
	return res, err
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// checkImport checks every row of an agenda file, naming each problem's row and field.
func checkImport(f AgendaFile) error {
	rows := f.Items
	var c checker
	if len(rows) == 0 {
		c.add("items", "the file has no items")
	}
	if len(rows) > MaxItems {
		c.add("items", "the file has %d items; at most %d are allowed", len(rows), MaxItems)
	}
	for i := range rows {
		c.row = i + 1
		if len(f.Rows) == len(rows) {
			c.row = f.Rows[i]
		}
		rows[i].normalise(&c)
		if rows[i].Position != 0 {
			c.add("position", "is not used in imports; rows are taken in order")
		}
	}
	return c.err()
}

// itemErr is the error for an item that could not be read, or that belongs to another
// meeting (which, to the caller, does not exist).
func itemErr(err error, itemID int64) error {
	if err != nil && !isNotFound(err) {
		return err
	}
	return notFound("item", itemID)
}
