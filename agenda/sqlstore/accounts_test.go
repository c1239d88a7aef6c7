package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
)

func testUsers(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	var admins int
	e.view(func(ctx context.Context, tx agenda.Tx) (err error) {
		admins, err = tx.CountAdmins(ctx)
		return err
	})
	admin := agenda.User{Email: "admin@example.org", Name: "Admin", Admin: true, CreatedAt: t0}
	invited := agenda.User{Email: "cllr@example.org", Name: "Cllr", CreatedAt: t0}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.CreateUser(ctx, &admin, "admin-hash"); err != nil {
			return err
		}
		return tx.CreateUser(ctx, &invited, "")
	})
	if admin.ID == 0 || invited.ID == 0 || admin.ID == invited.ID {
		t.Fatalf("ids: got %d and %d, want two distinct ids", admin.ID, invited.ID)
	}
	if admin.Invited || !invited.Invited {
		t.Errorf("Invited after create: got %v and %v, want false and true", admin.Invited, invited.Invited)
	}
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetUser(ctx, admin.ID)
		if err != nil {
			return err
		}
		same(t, "GetUser", got, admin)
		got, err = tx.GetUserByEmail(ctx, "cllr@example.org")
		if err != nil {
			return err
		}
		same(t, "GetUserByEmail", got, invited)
		h, err := tx.PasswordHash(ctx, admin.ID)
		if err != nil || h != "admin-hash" {
			t.Errorf("PasswordHash: got %q, %v, want admin-hash", h, err)
		}
		n, err := tx.CountAdmins(ctx)
		if err != nil || n != admins+1 {
			t.Errorf("CountAdmins: got %d, %v, want %d", n, err, admins+1)
		}
		_, err = tx.GetUser(ctx, unknown)
		wantErr(t, "GetUser unknown", err, agenda.ErrNotFound, "")
		_, err = tx.GetUserByEmail(ctx, "nobody@example.org")
		wantErr(t, "GetUserByEmail unknown", err, agenda.ErrNotFound, "")
		_, err = tx.PasswordHash(ctx, unknown)
		wantErr(t, "PasswordHash unknown", err, agenda.ErrNotFound, "")
		return nil
	})

	// Accepting an invitation: the account has a password and is no longer invited.
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		return tx.SetPasswordHash(ctx, invited.ID, "new-hash")
	})
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		u, err := tx.GetUser(ctx, invited.ID)
		if err != nil {
			return err
		}
		if u.Invited {
			t.Error("Invited after a password was set: got true, want false")
		}
		return nil
	})

	err := e.try(func(ctx context.Context, tx agenda.Tx) error {
		u := agenda.User{Email: "admin@example.org", Name: "Twin", CreatedAt: t0}
		return tx.CreateUser(ctx, &u, "")
	})
	wantErr(t, "duplicate email", err, agenda.ErrConflict, "already in use")
	err = e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.SetPasswordHash(ctx, unknown, "x") })
	wantErr(t, "SetPasswordHash unknown", err, agenda.ErrNotFound, "")
}

func testSessions(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	live := agenda.LoginSession{IDHash: "live", UserID: e.user.ID, CSRFToken: "csrf1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	old := agenda.LoginSession{IDHash: "old", UserID: e.user.ID, CSRFToken: "csrf2", CreatedAt: t0.Add(-2 * time.Hour), ExpiresAt: t0}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.CreateSession(ctx, live); err != nil {
			return err
		}
		return tx.CreateSession(ctx, old)
	})
	err := e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.CreateSession(ctx, live) })
	wantErr(t, "duplicate session", err, agenda.ErrConflict, "")
	err = e.try(func(ctx context.Context, tx agenda.Tx) error {
		return tx.CreateSession(ctx, agenda.LoginSession{IDHash: "orphan", UserID: unknown, CreatedAt: t0, ExpiresAt: t0})
	})
	wantErr(t, "session of an unknown user", err, agenda.ErrNotFound, "")

	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetSession(ctx, "live")
		if err != nil {
			return err
		}
		same(t, "GetSession", got, live)
		return nil
	})
	got, err := e.st.SessionByHash(context.Background(), "live")
	if err != nil {
		t.Fatalf("SessionByHash: %v", err)
	}
	same(t, "SessionByHash", got, live)
	// Sessions that expired at or before now are swept.
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteExpiredSessions(ctx, t0) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		_, err := tx.GetSession(ctx, "old")
		wantErr(t, "expired session", err, agenda.ErrNotFound, "")
		_, err = tx.GetSession(ctx, "live")
		if err != nil {
			t.Errorf("live session swept: %v", err)
		}
		return nil
	})
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteSession(ctx, "live") })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		_, err := tx.GetSession(ctx, "live")
		wantErr(t, "deleted session", err, agenda.ErrNotFound, "")
		return nil
	})
	_, err = e.st.SessionByHash(context.Background(), "live")
	wantErr(t, "SessionByHash of a deleted session", err, agenda.ErrNotFound, "")
	// Signing out twice is not an error.
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteSession(ctx, "live") })
}

func testAPITokens(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	exp := t0.Add(24 * time.Hour)
	forever := agenda.APIToken{UserID: e.user.ID, Name: "cli", Hash: "h1", CreatedAt: t0}
	expiring := agenda.APIToken{UserID: e.user.ID, Name: "ci", Hash: "h2", CreatedAt: t0, ExpiresAt: &exp}
	var other agenda.User
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.CreateAPIToken(ctx, &forever); err != nil {
			return err
		}
		if err := tx.CreateAPIToken(ctx, &expiring); err != nil {
			return err
		}
		other = agenda.User{Email: "other@example.org", Name: "Other", CreatedAt: t0}
		return tx.CreateUser(ctx, &other, "x")
	})
	if forever.ID == 0 || expiring.ID <= forever.ID {
		t.Fatalf("ids: got %d, %d, want increasing ids", forever.ID, expiring.ID)
	}
	err := e.try(func(ctx context.Context, tx agenda.Tx) error {
		dup := agenda.APIToken{UserID: e.user.ID, Name: "dup", Hash: "h1", CreatedAt: t0}
		return tx.CreateAPIToken(ctx, &dup)
	})
	wantErr(t, "duplicate token hash", err, agenda.ErrConflict, "")

	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetAPITokenByHash(ctx, "h1")
		if err != nil {
			return err
		}
		same(t, "token without expiry", got, forever)
		got, err = tx.GetAPITokenByHash(ctx, "h2")
		if err != nil {
			return err
		}
		same(t, "token with expiry", got, expiring)
		_, err = tx.GetAPITokenByHash(ctx, "nope")
		wantErr(t, "unknown token", err, agenda.ErrNotFound, "")
		list, err := tx.ListAPITokens(ctx, e.user.ID)
		if err != nil {
			return err
		}
		same(t, "ListAPITokens", list, []agenda.APIToken{forever, expiring})
		return nil
	})

	used := t0.Add(time.Minute)
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.TouchAPIToken(ctx, forever.ID, used) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetAPITokenByHash(ctx, "h1")
		if err != nil {
			return err
		}
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) {
			t.Errorf("LastUsedAt: got %v, want %v", got.LastUsedAt, used)
		}
		return nil
	})
	err = e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.TouchAPIToken(ctx, unknown, used) })
	wantErr(t, "touch unknown token", err, agenda.ErrNotFound, "")

	// A user cannot delete another's token.
	err = e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteAPIToken(ctx, other.ID, forever.ID) })
	wantErr(t, "delete another's token", err, agenda.ErrNotFound, "")
	// The credential check outside a transaction reads what has committed: the token,
	// then its revocation.
	ctx := context.Background()
	got, err := e.st.APITokenByHash(ctx, "h1")
	if err != nil {
		t.Fatalf("APITokenByHash: %v", err)
	}
	same(t, "APITokenByHash", got, agenda.APIToken{ID: forever.ID, UserID: forever.UserID, Name: forever.Name, Hash: forever.Hash,
		CreatedAt: forever.CreatedAt, LastUsedAt: &used})
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteAPIToken(ctx, e.user.ID, forever.ID) })
	_, err = e.st.APITokenByHash(ctx, "h1")
	wantErr(t, "revoked token", err, agenda.ErrNotFound, "")
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		list, err := tx.ListAPITokens(ctx, e.user.ID)
		same(t, "tokens after delete", list, []agenda.APIToken{expiring})
		return err
	})
	err = e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.DeleteAPIToken(ctx, e.user.ID, forever.ID) })
	wantErr(t, "delete twice", err, agenda.ErrNotFound, "")
}

func testLinks(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	invite := agenda.Link{Hash: "inv", UserID: e.user.ID, Purpose: agenda.Invite, Redirect: "/", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	signin := agenda.Link{Hash: "sig", UserID: e.user.ID, Purpose: agenda.SignIn, Redirect: "/meetings/1", Reusable: true,
		CreatedBy: e.user.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.CreateLink(ctx, invite); err != nil {
			return err
		}
		return tx.CreateLink(ctx, signin)
	})
	if !e.isNullKey("links", "created_by", "hash", "inv") {
		t.Error("created_by 0 was not stored as NULL")
	}
	err := e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.CreateLink(ctx, invite) })
	wantErr(t, "duplicate link", err, agenda.ErrConflict, "")
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		for _, want := range []agenda.Link{invite, signin} {
			got, err := tx.GetLink(ctx, want.Hash)
			if err != nil {
				return err
			}
			same(t, "link "+want.Hash, got, want)
		}
		_, err := tx.GetLink(ctx, "nope")
		wantErr(t, "unknown link", err, agenda.ErrNotFound, "")
		return nil
	})
	at := t0.Add(time.Minute)
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.MarkLinkUsed(ctx, "inv", at) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetLink(ctx, "inv")
		if err != nil {
			return err
		}
		if got.UsedAt == nil || !got.UsedAt.Equal(at) {
			t.Errorf("UsedAt: got %v, want %v", got.UsedAt, at)
		}
		return nil
	})
	err = e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.MarkLinkUsed(ctx, "inv", at) })
	wantErr(t, "use a link twice", err, agenda.ErrConflict, "already been used")
	err = e.try(func(ctx context.Context, tx agenda.Tx) error { return tx.MarkLinkUsed(ctx, "nope", at) })
	wantErr(t, "use an unknown link", err, agenda.ErrNotFound, "")
}

// Many credential checks at once, as when everyone votes at once, each get their own
// answer: the sessions and tokens that exist, and ErrNotFound for those that do not.
func testCredentialsAtOnce(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	const n = 60
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		for i := range n {
			if err := tx.CreateSession(ctx, agenda.LoginSession{IDHash: fmt.Sprintf("s-%d", i), UserID: e.user.ID,
				CSRFToken: fmt.Sprintf("csrf-%d", i), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
				return err
			}
			tok := agenda.APIToken{UserID: e.user.ID, Name: fmt.Sprintf("device %d", i), Hash: fmt.Sprintf("t-%d", i), CreatedAt: t0}
			if err := tx.CreateAPIToken(ctx, &tok); err != nil {
				return err
			}
		}
		return nil
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 2 * n { // every other one does not exist
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i / 2
			if i%2 == 1 {
				k += 1000
			}
			sess, err := e.st.SessionByHash(ctx, fmt.Sprintf("s-%d", k))
			tok, terr := e.st.APITokenByHash(ctx, fmt.Sprintf("t-%d", k))
			if k >= 1000 {
				if !errors.Is(err, agenda.ErrNotFound) || !errors.Is(terr, agenda.ErrNotFound) {
					t.Errorf("credentials %d that do not exist: %v, %v; want ErrNotFound", k, err, terr)
				}
				return
			}
			if err != nil || sess.CSRFToken != fmt.Sprintf("csrf-%d", k) {
				t.Errorf("session %d: %+v, %v", k, sess, err)
			}
			if terr != nil || tok.Name != fmt.Sprintf("device %d", k) || tok.UserID != e.user.ID {
				t.Errorf("token %d: %+v, %v", k, tok, terr)
			}
		}()
	}
	wg.Wait()
}
