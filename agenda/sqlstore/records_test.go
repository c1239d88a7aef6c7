package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
)

// addUsers creates councillors named after the letters of names.
func (e *env) addUsers(names ...string) []agenda.User {
	e.t.Helper()
	out := make([]agenda.User, len(names))
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		for i, n := range names {
			out[i] = agenda.User{Email: e.name(n) + "@example.org", Name: n, CreatedAt: t0}
			if err := tx.CreateUser(ctx, &out[i], "x"); err != nil {
				return err
			}
		}
		return nil
	})
	return out
}

// addItems appends items to the env's meeting.
func (e *env) addItems(items ...agenda.Item) []agenda.Item {
	e.t.Helper()
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		for i := range items {
			items[i].MeetingID = e.meeting.ID
			if items[i].Status == "" {
				items[i].Status = agenda.Pending
			}
			if items[i].Kind == "" {
				items[i].Kind = agenda.Standard
			}
			if items[i].Papers == nil {
				items[i].Papers = []agenda.Paper{}
			}
			items[i].CreatedAt = t0
			if err := tx.CreateItem(ctx, &items[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return items
}

func testItems(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	started := t0.Add(time.Hour)
	items := e.addItems(
		agenda.Item{Position: 2, Number: "2", Title: "Application 26/0001", Description: "Erection of a dwelling",
			Kind: agenda.Planning, WholeItemPresence: true,
			Papers: []agenda.Paper{{Title: "Report", URL: "https://example.org/r.pdf"}, {Title: "Plans", URL: "https://example.org/p.pdf"}}},
		agenda.Item{Position: 1, Number: "1", Title: "Apologies", Status: agenda.Current, StartedAt: &started, Notes: "none", Decision: "noted"},
		agenda.Item{Position: 3, Number: "3", Title: "Staffing", Kind: agenda.Exempt, ExemptParagraph: 1},
	)
	if !e.isNull("items", "exempt_paragraph", items[0].ID) || e.isNull("items", "exempt_paragraph", items[2].ID) {
		t.Error("items.exempt_paragraph: want NULL for zero and a value otherwise")
	}
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		for _, want := range items {
			got, err := tx.GetItem(ctx, want.ID)
			if err != nil {
				return err
			}
			same(t, "GetItem "+want.Number, got, want)
		}
		list, err := tx.ListItems(ctx, e.meeting.ID)
		if err != nil {
			return err
		}
		same(t, "ListItems, by position", list, []agenda.Item{items[1], items[0], items[2]})
		_, err = tx.GetItem(ctx, unknown)
		wantErr(t, "unknown item", err, agenda.ErrNotFound, "")
		return nil
	})

	ended := t0.Add(2 * time.Hour)
	it := items[1]
	it.Position, it.Number, it.Title, it.Description = 4, "4", "Apologies for absence", "From members"
	it.Kind, it.ExemptParagraph, it.WholeItemPresence = agenda.Exempt, 7, true
	it.Papers = []agenda.Paper{{Title: "List", URL: "https://example.org/l.pdf"}}
	it.Status, it.EndedAt, it.Notes, it.Decision = agenda.Done, &ended, "two", "noted again"
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.UpdateItem(ctx, it) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetItem(ctx, it.ID)
		same(t, "after UpdateItem", got, it)
		return err
	})
	it.Papers, it.StartedAt, it.EndedAt, it.ExemptParagraph, it.Kind = nil, nil, nil, 0, agenda.Standard
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.UpdateItem(ctx, it) })
	it.Papers = []agenda.Paper{}
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetItem(ctx, it.ID)
		same(t, "after clearing", got, it)
		return err
	})

	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteItem(ctx, items[0].ID) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		_, err := tx.GetItem(ctx, items[0].ID)
		wantErr(t, "deleted item", err, agenda.ErrNotFound, "")
		list, err := tx.ListItems(ctx, e.meeting.ID)
		if len(list) != 2 {
			t.Errorf("items after delete: got %d, want 2", len(list))
		}
		return err
	})
	for name, fn := range map[string]func(ctx context.Context, tx agenda.Tx) error{
		"delete twice": func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteItem(ctx, items[0].ID) },
		"update unknown": func(ctx context.Context, tx agenda.Tx) error {
			x := it
			x.ID = unknown
			return tx.UpdateItem(ctx, x)
		},
		"create in unknown meeting": func(ctx context.Context, tx agenda.Tx) error {
			x := it
			x.MeetingID = unknown
			return tx.CreateItem(ctx, &x)
		},
	} {
		wantErr(t, name, e.try(fn), agenda.ErrNotFound, "")
	}
}

func testApologiesAndSubstitutions(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	u := e.addUsers("ann", "bob", "cat", "dan")
	ann, bob, cat, dan := u[0], u[1], u[2], u[3]
	a1 := agenda.Apology{MeetingID: e.meeting.ID, UserID: bob.ID, Reason: "ill", CreatedAt: t0}
	a2 := agenda.Apology{MeetingID: e.meeting.ID, UserID: ann.ID, Reason: "away", CreatedAt: t0.Add(time.Minute)}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.PutApology(ctx, a1); err != nil {
			return err
		}
		if err := tx.PutApology(ctx, agenda.Apology{MeetingID: e.meeting.ID, UserID: ann.ID, Reason: "first", CreatedAt: t0.Add(time.Minute)}); err != nil {
			return err
		}
		return tx.PutApology(ctx, a2) // replaces the reason
	})
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		list, err := tx.ListApologies(ctx, e.meeting.ID)
		same(t, "ListApologies", list, []agenda.Apology{a1, a2})
		return err
	})
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteApology(ctx, e.meeting.ID, bob.ID) })
	err := e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteApology(ctx, e.meeting.ID, bob.ID) })
	wantErr(t, "delete an apology twice", err, agenda.ErrNotFound, "")
	err = e.try(func(ctx context.Context, tx agenda.Tx) error {
		return tx.PutApology(ctx, agenda.Apology{MeetingID: unknown, UserID: bob.ID, CreatedAt: t0})
	})
	wantErr(t, "apology for an unknown meeting", err, agenda.ErrNotFound, "")

	s1 := agenda.Substitution{MeetingID: e.meeting.ID, SubstituteID: cat.ID, MemberID: ann.ID, CreatedAt: t0}
	s2 := agenda.Substitution{MeetingID: e.meeting.ID, SubstituteID: dan.ID, MemberID: bob.ID, CreatedAt: t0}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.PutSubstitution(ctx, s1); err != nil {
			return err
		}
		return tx.PutSubstitution(ctx, s2)
	})
	err = e.try(func(ctx context.Context, tx agenda.Tx) error {
		return tx.PutSubstitution(ctx, agenda.Substitution{MeetingID: e.meeting.ID, SubstituteID: dan.ID, MemberID: ann.ID, CreatedAt: t0})
	})
	wantErr(t, "a second substitute for a member", err, agenda.ErrConflict, "already has a substitute")
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		list, err := tx.ListSubstitutions(ctx, e.meeting.ID)
		same(t, "ListSubstitutions", list, []agenda.Substitution{s1, s2})
		return err
	})
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteSubstitution(ctx, e.meeting.ID, cat.ID) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		list, err := tx.ListSubstitutions(ctx, e.meeting.ID)
		same(t, "after delete", list, []agenda.Substitution{s2})
		return err
	})
	err = e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteSubstitution(ctx, e.meeting.ID, cat.ID) })
	wantErr(t, "delete a substitution twice", err, agenda.ErrNotFound, "")
}

func testDeclarationsAndMotions(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	u := e.addUsers("ann", "bob")
	ann, bob := u[0], u[1]
	items := e.addItems(agenda.Item{Position: 1, Number: "1", Title: "Report"})
	general := agenda.Declaration{MeetingID: e.meeting.ID, UserID: ann.ID, Kind: agenda.Registrable, Description: "member of the club", CreatedAt: t0}
	onItem := agenda.Declaration{MeetingID: e.meeting.ID, ItemID: items[0].ID, UserID: bob.ID, Kind: agenda.Pecuniary,
		Description: "owns the land", Withdraws: true, Dispensation: "granted 1 May", CreatedAt: t0}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.CreateDeclaration(ctx, &general); err != nil {
			return err
		}
		return tx.CreateDeclaration(ctx, &onItem)
	})
	if !e.isNull("declarations", "item_id", general.ID) {
		t.Error("declarations.item_id: zero was not stored as NULL")
	}
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		list, err := tx.ListDeclarations(ctx, e.meeting.ID)
		same(t, "ListDeclarations", list, []agenda.Declaration{general, onItem})
		return err
	})
	err := e.try(func(ctx context.Context, tx agenda.Tx) error {
		d := onItem
		d.ItemID = unknown
		return tx.CreateDeclaration(ctx, &d)
	})
	wantErr(t, "declaration on an unknown item", err, agenda.ErrNotFound, "")

	motion := agenda.Motion{MeetingID: e.meeting.ID, ItemID: items[0].ID, Text: "That the report be noted", ProposerID: ann.ID,
		Status: agenda.Proposed, CreatedAt: t0, UpdatedAt: t0}
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.CreateMotion(ctx, &motion) })
	amendment := agenda.Motion{MeetingID: e.meeting.ID, ItemID: items[0].ID, AmendsID: motion.ID, Text: "add 'with thanks'",
		ProposerID: bob.ID, SeconderID: ann.ID, Status: agenda.Seconded, CreatedAt: t0, UpdatedAt: t0}
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.CreateMotion(ctx, &amendment) })
	for col, null := range map[string]bool{"amends_id": true, "seconder_id": true, "proposer_id": false} {
		if got := e.isNull("motions", col, motion.ID); got != null {
			t.Errorf("motions.%s IS NULL: got %v, want %v", col, got, null)
		}
	}
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetMotion(ctx, amendment.ID)
		if err != nil {
			return err
		}
		same(t, "GetMotion", got, amendment)
		list, err := tx.ListMotions(ctx, e.meeting.ID)
		same(t, "ListMotions", list, []agenda.Motion{motion, amendment})
		return err
	})
	motion.SeconderID, motion.Status, motion.UpdatedAt, motion.Text = bob.ID, agenda.Carried, t0.Add(time.Hour), "That the report be noted with thanks"
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.UpdateMotion(ctx, motion) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetMotion(ctx, motion.ID)
		same(t, "after UpdateMotion", got, motion)
		return err
	})
	for name, fn := range map[string]func(ctx context.Context, tx agenda.Tx) error{
		"get unknown motion": func(ctx context.Context, tx agenda.Tx) error { _, err := tx.GetMotion(ctx, unknown); return err },
		"update unknown motion": func(ctx context.Context, tx agenda.Tx) error {
			x := motion
			x.ID = unknown
			return tx.UpdateMotion(ctx, x)
		},
		"amend an unknown motion": func(ctx context.Context, tx agenda.Tx) error {
			x := amendment
			x.AmendsID = unknown
			return tx.CreateMotion(ctx, &x)
		},
	} {
		wantErr(t, name, e.try(fn), agenda.ErrNotFound, "")
	}
}

func testAttendance(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	u := e.addUsers("ann", "bob")
	ann, bob := u[0], u[1]
	inRoom := agenda.Attendance{MeetingID: e.meeting.ID, UserID: ann.ID, Mode: agenda.InRoom, Source: agenda.ByClerk, ArrivedAt: t0}
	proxy := agenda.Attendance{MeetingID: e.meeting.ID, UserID: bob.ID, Mode: agenda.ByProxy, ProxyHolderID: ann.ID,
		Source: agenda.ByClerk, ArrivedAt: t0.Add(time.Minute)}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.CreateAttendance(ctx, &inRoom); err != nil {
			return err
		}
		return tx.CreateAttendance(ctx, &proxy)
	})
	if !e.isNull("attendance", "proxy_holder_id", inRoom.ID) || !e.isNull("attendance", "left_at", inRoom.ID) {
		t.Error("attendance: zero proxy holder and absent left_at were not stored as NULL")
	}
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.OpenAttendance(ctx, e.meeting.ID, bob.ID)
		if err != nil {
			return err
		}
		same(t, "OpenAttendance", got, proxy)
		list, err := tx.ListAttendance(ctx, e.meeting.ID)
		same(t, "ListAttendance", list, []agenda.Attendance{inRoom, proxy})
		return err
	})

	// A change of mode: one stretch closes, another opens.
	left := t0.Add(time.Hour)
	remote := agenda.Attendance{MeetingID: e.meeting.ID, UserID: ann.ID, Mode: agenda.RemoteVoting, Source: agenda.ByPresence, ArrivedAt: left}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.CloseAttendance(ctx, inRoom.ID, left); err != nil {
			return err
		}
		return tx.CreateAttendance(ctx, &remote)
	})
	inRoom.LeftAt = &left
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.OpenAttendance(ctx, e.meeting.ID, ann.ID)
		if err != nil {
			return err
		}
		same(t, "open stretch after a change of mode", got, remote)
		list, err := tx.ListAttendance(ctx, e.meeting.ID)
		same(t, "ListAttendance, by arrival", list, []agenda.Attendance{inRoom, proxy, remote})
		return err
	})
	err := e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.CloseAttendance(ctx, inRoom.ID, left) })
	wantErr(t, "close twice", err, agenda.ErrConflict, "")
	err = e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.CloseAttendance(ctx, unknown, left) })
	wantErr(t, "close unknown", err, agenda.ErrNotFound, "")
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		return tx.CloseAttendance(ctx, remote.ID, left.Add(time.Hour))
	})
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		_, err := tx.OpenAttendance(ctx, e.meeting.ID, ann.ID)
		wantErr(t, "open stretch after leaving", err, agenda.ErrNotFound, "")
		return nil
	})
	err = e.try(func(ctx context.Context, tx agenda.Tx) error {
		a := agenda.Attendance{MeetingID: e.meeting.ID, UserID: unknown, Mode: agenda.InRoom, Source: agenda.ByClerk, ArrivedAt: t0}
		return tx.CreateAttendance(ctx, &a)
	})
	wantErr(t, "attendance of an unknown user", err, agenda.ErrNotFound, "")
}

func testSpeakers(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	items := e.addItems(agenda.Item{Position: 2, Number: "2", Title: "Late"}, agenda.Item{Position: 1, Number: "1", Title: "Early"})
	sp := func(item int64, name string, pos int) agenda.Speaker {
		return agenda.Speaker{MeetingID: e.meeting.ID, ItemID: item, Name: name, Capacity: agenda.Objector,
			Organisation: "Residents", Email: name + "@example.org", Seconds: 180, Position: pos, CreatedAt: t0}
	}
	list := []agenda.Speaker{sp(items[0].ID, "late-2", 2), sp(items[0].ID, "late-1", 1), sp(items[1].ID, "early-1", 1)}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		for i := range list {
			if err := tx.CreateSpeaker(ctx, &list[i]); err != nil {
				return err
			}
		}
		return nil
	})
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetSpeaker(ctx, list[0].ID)
		if err != nil {
			return err
		}
		same(t, "GetSpeaker", got, list[0])
		all, err := tx.ListSpeakers(ctx, e.meeting.ID)
		same(t, "ListSpeakers, in agenda order", all, []agenda.Speaker{list[2], list[1], list[0]})
		return err
	})
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteSpeaker(ctx, list[1].ID) })
	for name, fn := range map[string]func(ctx context.Context, tx agenda.Tx) error{
		"get deleted":  func(ctx context.Context, tx agenda.Tx) error { _, err := tx.GetSpeaker(ctx, list[1].ID); return err },
		"delete twice": func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteSpeaker(ctx, list[1].ID) },
		"unknown item": func(ctx context.Context, tx agenda.Tx) error {
			s := sp(unknown, "x", 1)
			return tx.CreateSpeaker(ctx, &s)
		},
		"get unknown id": func(ctx context.Context, tx agenda.Tx) error { _, err := tx.GetSpeaker(ctx, unknown); return err },
	} {
		wantErr(t, name, e.try(fn), agenda.ErrNotFound, "")
	}
	// Deleting an item takes its speakers with it.
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteItem(ctx, items[0].ID) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		all, err := tx.ListSpeakers(ctx, e.meeting.ID)
		same(t, "speakers after their item was deleted", all, []agenda.Speaker{list[2]})
		return err
	})
}

// TestEmptyLists checks that lists of nothing are empty, not errors.
func testEmptyLists(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	const none = unknown
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		lens := map[string]func() (int, error){
			"tokens":        func() (int, error) { l, err := tx.ListAPITokens(ctx, none); return len(l), err },
			"people":        func() (int, error) { l, err := tx.ListPeople(ctx, none); return len(l), err },
			"committees":    func() (int, error) { l, err := tx.ListCommittees(ctx, none); return len(l), err },
			"memberships":   func() (int, error) { l, err := tx.ListMemberships(ctx, none); return len(l), err },
			"items":         func() (int, error) { l, err := tx.ListItems(ctx, none); return len(l), err },
			"apologies":     func() (int, error) { l, err := tx.ListApologies(ctx, none); return len(l), err },
			"substitutions": func() (int, error) { l, err := tx.ListSubstitutions(ctx, none); return len(l), err },
			"declarations":  func() (int, error) { l, err := tx.ListDeclarations(ctx, none); return len(l), err },
			"motions":       func() (int, error) { l, err := tx.ListMotions(ctx, none); return len(l), err },
			"attendance":    func() (int, error) { l, err := tx.ListAttendance(ctx, none); return len(l), err },
			"speakers":      func() (int, error) { l, err := tx.ListSpeakers(ctx, none); return len(l), err },
			"events":        func() (int, error) { l, err := tx.Events(ctx, none, 0, 10); return len(l), err },
		}
		for name, f := range lens {
			if n, err := f(); n != 0 || err != nil {
				t.Errorf("%s: got %d, %v, want 0, nil", name, n, err)
			}
		}
		return nil
	})
}
