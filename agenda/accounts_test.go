package agenda_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
)

func TestPasswords(t *testing.T) {
	h := agenda.HashPassword("correct horse battery", cheap)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash: got %q, want an argon2id PHC string with the parameters", h)
	}
	if h2 := agenda.HashPassword("correct horse battery", cheap); h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		name, hash, password string
		want                 bool
	}{
		{"right password", h, "correct horse battery", true},
		{"wrong password", h, "correct horse batterY", false},
		{"empty hash", "", "", false},
		{"another scheme", "$2a$10$abcdefghijklmnopqrstuv", "x", false},
		{"mangled parameters", strings.Replace(h, "m=64", "m=x", 1), "correct horse battery", false},
	}
	for _, tt := range tests {
		if got := agenda.CheckPassword(tt.hash, tt.password); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func testAdminAndLogin(t *testing.T, w *world) {
	t.Run("creating an admin checks its input", func(t *testing.T) {
		_, err := w.svc.CreateAdmin(w.ctx, "not an email", "", "short")
		same(t, "fields", fieldErrors(err), []string{"email", "name", "password"})
		_, err = w.svc.CreateAdmin(w.ctx, " "+strings.ToUpper(w.mail("admin"))+" ", "Another", "long enough password")
		if !is(err, agenda.ErrConflict) || !strings.Contains(err.Error(), "already in use") {
			t.Errorf("an email in use, differently written: got %v, want a conflict saying it is in use", err)
		}
		u, err := w.svc.CreateAdmin(w.ctx, " Second@"+strings.ToUpper(w.tag)+".Example.org", "Second Admin", "long enough password")
		w.must(err)
		if u.Email != w.mail("second") || !u.Admin || u.Invited || !u.CreatedAt.Equal(start) {
			t.Errorf("admin: got %+v", u)
		}
	})

	t.Run("passwords wait their turn to be hashed", func(t *testing.T) {
		release := w.svc.HoldHashTurns()
		ctx, cancel := context.WithTimeout(w.ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := w.svc.Login(ctx, w.mail("admin"), "correct horse battery"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a sign-in while every turn is taken: got %v, want it to give up as its request ends", err)
		}
		if _, err := w.svc.CreateAdmin(ctx, w.mail("third"), "Third Admin", "long enough password"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a new admin while every turn is taken: got %v, want it to give up as its request ends", err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := w.svc.Login(w.ctx, w.mail("admin"), "correct horse battery")
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("a sign-in went ahead while every turn was taken: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		release()
		if err := <-done; err != nil {
			t.Errorf("the sign-in that waited: %v", err)
		}
	})

	tests := []struct {
		name, email, password string
		want                  error
	}{
		{"right password", w.mail("admin"), "correct horse battery", nil},
		{"email in another case", strings.ToUpper(w.mail("admin")) + " ", "correct horse battery", nil},
		{"wrong password", w.mail("admin"), "wrong horse battery", agenda.ErrBadCredentials},
		{"unknown email", w.mail("nobody"), "correct horse battery", agenda.ErrBadCredentials},
		{"invited, no password yet", w.mail("mo.member"), "", agenda.ErrBadCredentials},
	}
	for _, tt := range tests {
		t.Run("login: "+tt.name, func(t *testing.T) {
			u, err := w.svc.Login(w.ctx, tt.email, tt.password)
			if !is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err == nil && u.ID != w.admin.UserID {
				t.Errorf("user: got %d, want %d", u.ID, w.admin.UserID)
			}
		})
	}
}

func testSessionsAndTokens(t *testing.T, w *world) {
	t.Run("browser sessions expire", func(t *testing.T) {
		cookie, csrf, err := w.svc.NewSession(w.ctx, w.clerk.UserID)
		w.must(err)
		if !strings.HasPrefix(cookie, "chs_") || csrf == "" {
			t.Errorf("cookie %q, csrf %q", cookie, csrf)
		}
		s, err := w.svc.SessionFor(w.ctx, cookie)
		w.must(err)
		if s.UserID != w.clerk.UserID || s.CSRFToken != csrf || !s.ExpiresAt.Equal(w.clock.Now().Add(agenda.SessionTTL)) {
			t.Errorf("session: got %+v", s)
		}
		for _, bad := range []string{"", "chs_unknown", "chm_" + cookie[4:], cookie + "x"} {
			if _, err := w.svc.SessionFor(w.ctx, bad); !is(err, agenda.ErrBadCredentials) {
				t.Errorf("cookie %q: got %v, want bad credentials", bad, err)
			}
		}
		w.clock.Advance(agenda.SessionTTL - time.Second)
		if _, err := w.svc.SessionFor(w.ctx, cookie); err != nil {
			t.Errorf("a second before expiry: %v", err)
		}
		w.clock.Advance(time.Second)
		if _, err := w.svc.SessionFor(w.ctx, cookie); !is(err, agenda.ErrBadCredentials) {
			t.Errorf("at expiry: got %v, want bad credentials", err)
		}
		// Signing out ends a session at once; signing out twice is harmless.
		cookie, _, err = w.svc.NewSession(w.ctx, w.clerk.UserID)
		w.must(err)
		w.must(w.svc.EndSession(w.ctx, cookie))
		if _, err := w.svc.SessionFor(w.ctx, cookie); !is(err, agenda.ErrBadCredentials) {
			t.Errorf("after signing out: got %v, want bad credentials", err)
		}
		w.must(w.svc.EndSession(w.ctx, cookie))
	})

	t.Run("API tokens", func(t *testing.T) {
		if _, _, err := w.svc.NewAPIToken(w.ctx, public, "cli", 0); !is(err, agenda.ErrUnauthenticated) {
			t.Errorf("token for the public: got %v, want unauthenticated", err)
		}
		if _, _, err := w.svc.NewAPIToken(w.ctx, w.clerk, "", -time.Hour); !is(err, agenda.ErrInvalid) {
			t.Errorf("token without a name: got %v, want invalid", err)
		}
		forever, tok, err := w.svc.NewAPIToken(w.ctx, w.clerk, "laptop", 0)
		w.must(err)
		if !strings.HasPrefix(forever, agenda.APITokenPrefix) || tok.ExpiresAt != nil || tok.Hash != agenda.HashToken(forever) {
			t.Errorf("token: %q, %+v", forever, tok)
		}
		brief, _, err := w.svc.NewAPIToken(w.ctx, w.clerk, "ci", time.Hour)
		w.must(err)
		for _, tk := range []string{forever, brief} {
			got, err := w.svc.APITokenUser(w.ctx, tk)
			if err != nil || got.UserID != w.clerk.UserID || got.Hash != agenda.HashToken(tk) {
				t.Errorf("token user: got %+v, %v, want user %d", got, err, w.clerk.UserID)
			}
		}
		list, err := w.svc.ListAPITokens(w.ctx, w.clerk)
		w.must(err)
		if len(list) != 2 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(w.clock.Now()) {
			t.Errorf("tokens after use: got %+v, want two, used now", list)
		}
		w.clock.Advance(time.Hour)
		if _, err := w.svc.APITokenUser(w.ctx, brief); !is(err, agenda.ErrBadCredentials) {
			t.Errorf("expired token: got %v, want bad credentials", err)
		}
		if _, err := w.svc.APITokenUser(w.ctx, forever); err != nil {
			t.Errorf("token without expiry after an hour: %v", err)
		}
		for _, bad := range []string{"", "chm_unknown", "Bearer " + forever} {
			if _, err := w.svc.APITokenUser(w.ctx, bad); !is(err, agenda.ErrBadCredentials) {
				t.Errorf("token %q: got %v, want bad credentials", bad, err)
			}
		}
		if err := w.svc.RevokeAPIToken(w.ctx, w.member, tok.ID); !is(err, agenda.ErrNotFound) {
			t.Errorf("revoking another's token: got %v, want not found", err)
		}
		w.must(w.svc.RevokeAPIToken(w.ctx, w.clerk, tok.ID))
		if _, err := w.svc.APITokenUser(w.ctx, forever); !is(err, agenda.ErrBadCredentials) {
			t.Errorf("revoked token: got %v, want bad credentials", err)
		}
	})
}

func testInvitationsAndSignInLinks(t *testing.T, w *world) {
	t.Run("an invitation is accepted once", func(t *testing.T) {
		p, err := w.svc.AddPerson(w.ctx, w.clerk, w.council.ID, agenda.PersonInput{Name: "Nina New", Email: "Nina@Example.org",
			Role: agenda.RoleCouncillor, Title: "Cllr", Party: "Independent"})
		w.must(err)
		if p.InviteToken == "" || !p.Invited || p.Email != "nina@example.org" {
			t.Fatalf("new person: got %+v", p)
		}
		u, err := w.svc.InvitationUser(w.ctx, p.InviteToken)
		if err != nil || u.ID != p.UserID || !u.Invited {
			t.Errorf("invitation user: got %+v, %v", u, err)
		}
		if _, err := w.svc.AcceptInvitation(w.ctx, p.InviteToken, "short"); !is(err, agenda.ErrInvalid) {
			t.Errorf("a short password: got %v, want invalid", err)
		}
		u, err = w.svc.AcceptInvitation(w.ctx, p.InviteToken, "a long new password")
		w.must(err)
		if u.Invited {
			t.Error("still invited after accepting")
		}
		if _, err := w.svc.Login(w.ctx, "nina@example.org", "a long new password"); err != nil {
			t.Errorf("login after accepting: %v", err)
		}
		if _, err := w.svc.AcceptInvitation(w.ctx, p.InviteToken, "another password"); !is(err, agenda.ErrBadCredentials) {
			t.Errorf("accepting twice: got %v, want bad credentials", err)
		}
		if _, err := w.svc.Reinvite(w.ctx, w.clerk, w.council.ID, p.UserID); !is(err, agenda.ErrConflict) {
			t.Errorf("reinviting someone who accepted: got %v, want a conflict", err)
		}
		// Adding the same person to another council makes no new account or invitation.
		again, err := w.svc.AddPerson(w.ctx, w.admin, w.otherCouncil.ID, agenda.PersonInput{Name: "N", Email: "nina@example.org", Role: agenda.RoleOfficer})
		w.must(err)
		if again.UserID != p.UserID || again.InviteToken != "" || again.Name != "Nina New" {
			t.Errorf("existing account added: got %+v", again)
		}
	})

	t.Run("an invitation expires and can be renewed", func(t *testing.T) {
		p, err := w.svc.AddPerson(w.ctx, w.clerk, w.council.ID, agenda.PersonInput{Name: "Late Larry", Email: "larry@example.org", Role: agenda.RoleOfficer})
		w.must(err)
		w.clock.Advance(agenda.InviteTTL)
		if _, err := w.svc.AcceptInvitation(w.ctx, p.InviteToken, "a long new password"); !is(err, agenda.ErrBadCredentials) {
			t.Errorf("an expired invitation: got %v, want bad credentials", err)
		}
		if _, err := w.svc.Reinvite(w.ctx, w.otherClerk, w.council.ID, p.UserID); !is(err, agenda.ErrForbidden) {
			t.Errorf("reinvite by another council's clerk: got %v, want forbidden", err)
		}
		token, err := w.svc.Reinvite(w.ctx, w.clerk, w.council.ID, p.UserID)
		w.must(err)
		if _, err := w.svc.AcceptInvitation(w.ctx, token, "a long new password"); err != nil {
			t.Errorf("the renewed invitation: %v", err)
		}
	})

	t.Run("sign-in links", func(t *testing.T) {
		once, err := w.svc.NewSignInLink(w.ctx, w.clerk, w.member.UserID, "/meetings/1", false)
		w.must(err)
		always, err := w.svc.NewSignInLink(w.ctx, w.clerk, w.chair.UserID, "/", true)
		w.must(err)
		u, redirect, err := w.svc.UseSignInLink(w.ctx, once)
		if err != nil || u.ID != w.member.UserID || redirect != "/meetings/1" {
			t.Errorf("single-use link: got %d %q %v", u.ID, redirect, err)
		}
		if _, _, err := w.svc.UseSignInLink(w.ctx, once); !is(err, agenda.ErrBadCredentials) {
			t.Errorf("single-use link again: got %v, want bad credentials", err)
		}
		for i := range 3 {
			if u, _, err := w.svc.UseSignInLink(w.ctx, always); err != nil || u.ID != w.chair.UserID {
				t.Errorf("reusable link, use %d: got %d, %v", i+1, u.ID, err)
			}
		}
		w.clock.Advance(agenda.SignInTTL)
		if _, _, err := w.svc.UseSignInLink(w.ctx, always); !is(err, agenda.ErrBadCredentials) {
			t.Errorf("reusable link after expiry: got %v, want bad credentials", err)
		}
		invite, err := w.svc.Reinvite(w.ctx, w.clerk, w.council.ID, w.member3.UserID)
		w.must(err)
		if _, _, err := w.svc.UseSignInLink(w.ctx, invite); !is(err, agenda.ErrBadCredentials) {
			t.Errorf("an invitation used as a sign-in link: got %v, want bad credentials", err)
		}

		refusals := []struct {
			name     string
			by       agenda.Actor
			user     int64
			redirect string
			want     error
		}{
			{"another council's clerk", w.otherClerk, w.member.UserID, "/", agenda.ErrForbidden},
			{"the chair", w.chair, w.member.UserID, "/", agenda.ErrForbidden},
			{"the public", public, w.member.UserID, "/", agenda.ErrUnauthenticated},
			{"an unknown user", w.admin, 9999, "/", agenda.ErrNotFound},
			{"a redirect off the site", w.clerk, w.member.UserID, "//evil.example", agenda.ErrInvalid},
			{"an absolute redirect", w.clerk, w.member.UserID, "https://evil.example/", agenda.ErrInvalid},
		}
		for _, r := range refusals {
			if _, err := w.svc.NewSignInLink(w.ctx, r.by, r.user, r.redirect, false); !is(err, r.want) {
				t.Errorf("%s: got %v, want %v", r.name, err, r.want)
			}
		}
	})

	t.Run("actors", func(t *testing.T) {
		a, err := w.svc.Actor(w.ctx, w.chair.UserID)
		w.must(err)
		if a.Councils[w.council.ID] != agenda.RoleCouncillor || a.Committees[w.committee.ID] != agenda.Chair || a.Admin {
			t.Errorf("chair's roles: got %+v", a)
		}
		if _, err := w.svc.Actor(w.ctx, 9999); !is(err, agenda.ErrUnauthenticated) {
			t.Errorf("unknown user: got %v, want unauthenticated", err)
		}
		me, err := w.svc.Me(w.ctx, w.chair)
		if err != nil || me.ID != w.chair.UserID {
			t.Errorf("Me: got %+v, %v", me, err)
		}
		if _, err := w.svc.Me(w.ctx, public); !is(err, agenda.ErrUnauthenticated) {
			t.Errorf("Me for the public: got %v, want unauthenticated", err)
		}
	})
}
