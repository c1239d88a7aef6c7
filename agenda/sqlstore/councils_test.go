package sqlstore_test

import (
	"context"
	"testing"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
)

func testCouncilsAndPeople(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	south := agenda.Council{Slug: e.name("south"), Name: "South Council", CreatedAt: t0}
	var ann, bob agenda.User
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.CreateCouncil(ctx, &south); err != nil {
			return err
		}
		ann = agenda.User{Email: e.name("ann") + "@example.org", Name: "Ann", CreatedAt: t0}
		if err := tx.CreateUser(ctx, &ann, ""); err != nil {
			return err
		}
		bob = agenda.User{Email: e.name("bob") + "@example.org", Name: "Bob", CreatedAt: t0}
		return tx.CreateUser(ctx, &bob, "x")
	})
	err := e.try(func(ctx context.Context, tx agenda.Tx) error {
		c := agenda.Council{Slug: e.name("south"), Name: "Another South", CreatedAt: t0}
		return tx.CreateCouncil(ctx, &c)
	})
	wantErr(t, "duplicate council slug", err, agenda.ErrConflict, `"`+e.name("south")+`" already exists`)

	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetCouncil(ctx, south.ID)
		if err != nil {
			return err
		}
		same(t, "GetCouncil", got, south)
		list, err := tx.ListCouncils(ctx)
		if err != nil {
			return err
		}
		var mine []agenda.Council
		for _, c := range list {
			if c.ID == e.council.ID || c.ID == south.ID {
				mine = append(mine, c)
			}
		}
		same(t, "ListCouncils, this test's", mine, []agenda.Council{e.council, south})
		_, err = tx.GetCouncil(ctx, unknown)
		wantErr(t, "unknown council", err, agenda.ErrNotFound, "")
		return nil
	})

	annP := agenda.Person{UserID: ann.ID, CouncilID: e.council.ID, Name: "Ann", Email: ann.Email, Role: agenda.RoleCouncillor,
		Title: "Cllr", Party: "Green", Invited: true}
	bobP := agenda.Person{UserID: bob.ID, CouncilID: e.council.ID, Name: "Bob", Email: bob.Email, Role: agenda.RoleOfficer}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.PutPerson(ctx, agenda.Person{UserID: ann.ID, CouncilID: e.council.ID, Role: agenda.RoleOfficer}); err != nil {
			return err
		}
		// Putting again replaces role, title and party.
		if err := tx.PutPerson(ctx, annP); err != nil {
			return err
		}
		if err := tx.PutPerson(ctx, bobP); err != nil {
			return err
		}
		return tx.PutPerson(ctx, agenda.Person{UserID: bob.ID, CouncilID: south.ID, Role: agenda.RoleClerk})
	})
	err = e.try(func(ctx context.Context, tx agenda.Tx) error {
		return tx.PutPerson(ctx, agenda.Person{UserID: unknown, CouncilID: e.council.ID, Role: agenda.RoleClerk})
	})
	wantErr(t, "person with an unknown user", err, agenda.ErrNotFound, "")

	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetPerson(ctx, e.council.ID, ann.ID)
		if err != nil {
			return err
		}
		same(t, "GetPerson", got, annP)
		_, err = tx.GetPerson(ctx, south.ID, ann.ID)
		wantErr(t, "person in another council", err, agenda.ErrNotFound, "")
		list, err := tx.ListPeople(ctx, e.council.ID)
		if err != nil {
			return err
		}
		same(t, "ListPeople", list, []agenda.Person{annP, bobP})
		roles, err := tx.CouncilRoles(ctx, bob.ID)
		if err != nil {
			return err
		}
		same(t, "CouncilRoles", roles, map[int64]agenda.CouncilRole{e.council.ID: agenda.RoleOfficer, south.ID: agenda.RoleClerk})
		roles, err = tx.CouncilRoles(ctx, e.user.ID)
		if err != nil {
			return err
		}
		if len(roles) != 0 {
			t.Errorf("CouncilRoles of a user with none: got %v, want none", roles)
		}
		return nil
	})
}

func testCommittees(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	yes, two := true, 2
	over := agenda.ProfileOverrides{ProxiesAllowed: &yes, MaxProxiesPerHolder: &two}
	prof, err := agenda.ResolveProfile("wales", over)
	if err != nil {
		t.Fatal(err)
	}
	audit := agenda.Committee{CouncilID: e.council.ID, Slug: "audit", Name: "Audit", ProfileName: "wales", Profile: prof,
		Overrides: over, CreatedAt: t0}
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.CreateCommittee(ctx, &audit) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetCommittee(ctx, audit.ID)
		if err != nil {
			return err
		}
		same(t, "GetCommittee", got, audit)
		list, err := tx.ListCommittees(ctx, e.council.ID)
		if err != nil {
			return err
		}
		same(t, "ListCommittees", list, []agenda.Committee{e.committee, audit})
		_, err = tx.GetCommittee(ctx, unknown)
		wantErr(t, "unknown committee", err, agenda.ErrNotFound, "")
		return nil
	})

	tests := []struct {
		name string
		fn   func(ctx context.Context, tx agenda.Tx) error
		want error
		msg  string
	}{
		{"duplicate slug in the council", func(ctx context.Context, tx agenda.Tx) error {
			c := audit
			c.ID = 0
			return tx.CreateCommittee(ctx, &c)
		}, agenda.ErrConflict, `"audit"`},
		{"update to a slug taken", func(ctx context.Context, tx agenda.Tx) error {
			c := audit
			c.Slug = "planning"
			return tx.UpdateCommittee(ctx, c)
		}, agenda.ErrConflict, `"planning"`},
		{"unknown council", func(ctx context.Context, tx agenda.Tx) error {
			c := audit
			c.CouncilID, c.Slug = unknown, "other"
			return tx.CreateCommittee(ctx, &c)
		}, agenda.ErrNotFound, ""},
		{"update unknown committee", func(ctx context.Context, tx agenda.Tx) error {
			c := audit
			c.ID, c.Slug = unknown, "other"
			return tx.UpdateCommittee(ctx, c)
		}, agenda.ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.name, e.try(tt.fn), tt.want, tt.msg)
		})
	}

	// The same slug in another council is fine.
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		south := agenda.Council{Slug: e.name("south"), Name: "South", CreatedAt: t0}
		if err := tx.CreateCouncil(ctx, &south); err != nil {
			return err
		}
		c := audit
		c.ID, c.CouncilID = 0, south.ID
		return tx.CreateCommittee(ctx, &c)
	})

	audit.Name, audit.ProfileName, audit.Overrides = "Audit and Governance", "england", agenda.ProfileOverrides{}
	audit.Profile, _ = agenda.Preset("england")
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.UpdateCommittee(ctx, audit) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetCommittee(ctx, audit.ID)
		same(t, "after UpdateCommittee", got, audit)
		return err
	})
}

func testMemberships(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	var zed, amy agenda.User
	var other agenda.Committee
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		zed = agenda.User{Email: "zed@example.org", Name: "Zed", CreatedAt: t0}
		amy = agenda.User{Email: "amy@example.org", Name: "Amy", CreatedAt: t0}
		if err := tx.CreateUser(ctx, &zed, ""); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, &amy, ""); err != nil {
			return err
		}
		other = e.committee
		other.ID, other.Slug = 0, "licensing"
		if err := tx.CreateCommittee(ctx, &other); err != nil {
			return err
		}
		for _, m := range []agenda.Membership{
			{CommitteeID: e.committee.ID, UserID: zed.ID, Role: agenda.Member},
			{CommitteeID: e.committee.ID, UserID: zed.ID, Role: agenda.Chair}, // replaces
			{CommitteeID: e.committee.ID, UserID: amy.ID, Role: agenda.Substitute},
			{CommitteeID: other.ID, UserID: zed.ID, Role: agenda.Member},
		} {
			if err := tx.PutMembership(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		list, err := tx.ListMemberships(ctx, e.committee.ID)
		if err != nil {
			return err
		}
		same(t, "ListMemberships", list, []agenda.Membership{
			{CommitteeID: e.committee.ID, UserID: amy.ID, Name: "Amy", Role: agenda.Substitute},
			{CommitteeID: e.committee.ID, UserID: zed.ID, Name: "Zed", Role: agenda.Chair},
		})
		roles, err := tx.CommitteeRoles(ctx, zed.ID)
		if err != nil {
			return err
		}
		same(t, "CommitteeRoles", roles, map[int64]agenda.CommitteeRole{e.committee.ID: agenda.Chair, other.ID: agenda.Member})
		return nil
	})
	err := e.try(func(ctx context.Context, tx agenda.Tx) error {
		return tx.PutMembership(ctx, agenda.Membership{CommitteeID: unknown, UserID: zed.ID, Role: agenda.Member})
	})
	wantErr(t, "membership of an unknown committee", err, agenda.ErrNotFound, "")

	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteMembership(ctx, e.committee.ID, zed.ID) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		roles, err := tx.CommitteeRoles(ctx, zed.ID)
		same(t, "CommitteeRoles after delete", roles, map[int64]agenda.CommitteeRole{other.ID: agenda.Member})
		return err
	})
	err = e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteMembership(ctx, e.committee.ID, zed.ID) })
	wantErr(t, "delete a membership twice", err, agenda.ErrNotFound, "")
}
