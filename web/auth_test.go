package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/web"
)

// TestCSRF: a cookie-authenticated write needs the session's CSRF token and must come
// from this site; a refused write changes nothing. Bearer tokens need no CSRF token.
func TestCSRF(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		browser := e.login("member@north.example", "member password")
		apology := path("/api/v1/meetings/%d/apologies", w.meeting)
		body := []byte(`{"user_id":` + strconv.FormatInt(w.memberID, 10) + `,"reason":"Away"}`)
		post := func(h http.Header) request {
			return request{method: "POST", path: apology, body: body, contentType: "application/json", header: h}
		}
		noCSRF := &client{e: e, cookie: browser.cookie}
		wrongCSRF := &client{e: e, cookie: browser.cookie, csrf: "not-the-token"}
		before := e.snapshot()
		for _, tc := range []struct {
			name    string
			c       *client
			req     request
			problem string
		}{
			{"no CSRF token", noCSRF, post(nil), "csrf"},
			{"wrong CSRF token", wrongCSRF, post(nil), "csrf"},
			{"foreign Origin", browser, post(http.Header{"Origin": {"https://evil.example"}}), "cross-origin"},
			{"cross-site fetch", browser, post(http.Header{"Sec-Fetch-Site": {"cross-site"}}), "cross-origin"},
			{"bearer from a foreign Origin", w.member, post(http.Header{"Origin": {"https://evil.example"}}), "cross-origin"},
		} {
			tc.c.send(tc.req).problem(http.StatusForbidden, tc.problem)
		}
		// Reads need no token, and an expired session reads as the public.
		noCSRF.get("/api/v1/me").want(http.StatusOK)
		if d := diffSnapshots(before, e.snapshot()); d != "" {
			t.Errorf("refused writes wrote:\n%s", d)
		}

		// The browser's own requests pass: same origin (by Sec-Fetch-Site, by Origin,
		// and the trusted public URL) with the token.
		browser.send(post(http.Header{"Sec-Fetch-Site": {"same-origin"}})).want(http.StatusCreated)
		browser.do("DELETE", path("/api/v1/meetings/%d/apologies/%d", w.meeting, w.memberID), nil).want(http.StatusNoContent)
		browser.send(post(http.Header{"Origin": {e.ts.URL}})).want(http.StatusCreated)
		browser.do("DELETE", path("/api/v1/meetings/%d/apologies/%d", w.meeting, w.memberID), nil).want(http.StatusNoContent)
		browser.send(post(http.Header{"Origin": {publicURL}, "Sec-Fetch-Site": {"cross-site"}})).want(http.StatusCreated)
		// A bearer token needs no CSRF token.
		w.member.do("DELETE", path("/api/v1/meetings/%d/apologies/%d", w.meeting, w.memberID), nil).want(http.StatusNoContent)
	})
}

// TestLoginRateLimit: sign-in attempts beyond the allowance get 429 with Retry-After,
// until time passes.
func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	if _, err := e.svc.CreateAdmin(context.Background(), "admin@example.org", "Ada Admin", "admin password 1"); err != nil {
		t.Fatal(err)
	}
	attempt := func(password string) *response {
		return e.public().do("POST", "/api/v1/auth/login", map[string]string{"email": "admin@example.org", "password": password})
	}
	for i := range 10 {
		if r := attempt("guess " + strconv.Itoa(i)); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i+1, r.status)
		}
	}
	r := attempt("admin password 1")
	r.problem(http.StatusTooManyRequests, "rate-limited")
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	// Only sign-in is limited.
	e.public().get("/api/v1/meetings").want(http.StatusOK)
	e.clock.Advance(time.Duration(secs) * time.Second)
	attempt("admin password 1").want(http.StatusOK)
	attempt("admin password 1").problem(http.StatusTooManyRequests, "rate-limited")
}

// TestSignInLink: a link signs its holder in and leads to its page, once.
func TestSignInLink(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	var link web.LinkResponse
	w.clerk.do("POST", path("/api/v1/users/%d/sign-in-links", w.chairID), map[string]string{"redirect": path("/meetings/%d", w.meeting)}).
		want(http.StatusCreated).into(&link)
	u, err := url.Parse(link.URL)
	if err != nil || !strings.HasPrefix(link.URL, publicURL+"/login/link/chl_") {
		t.Fatalf("link %q", link.URL)
	}
	e.public().send(request{method: "HEAD", path: u.Path}).want(http.StatusOK) // does not use the link
	r := e.public().get(u.Path).want(http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != path("/meetings/%d", w.meeting) {
		t.Errorf("Location %q", loc)
	}
	var session string
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == web.SessionCookie && ck.Secure && ck.HttpOnly && ck.SameSite == http.SameSiteLaxMode {
			session = ck.Value
		}
	}
	if session == "" {
		t.Fatalf("no secure session cookie: %v", r.header["Set-Cookie"])
	}
	var me web.MeResponse
	(&client{e: e, cookie: session}).get("/api/v1/me").want(http.StatusOK).into(&me)
	if me.ID != w.chairID || me.CSRFToken == "" {
		t.Errorf("signed in as %+v", me)
	}
	again := e.public().get(u.Path)
	if again.status != http.StatusUnauthorized || !strings.HasPrefix(again.header.Get("Content-Type"), "text/html") {
		t.Errorf("second use: %d %s", again.status, again.header.Get("Content-Type"))
	}
	e.checkLogs(session, link.URL)
}

// TestInvitationPage: the invitation page's form works without JavaScript.
func TestInvitationPage(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, migrations.SQLite))
	w := newWorld(t, e)
	page := e.public().get("/invite/" + w.inviteToken).want(http.StatusOK)
	body := string(page.body)
	for _, want := range []string{"Cllr Pending", `action="/api/v1/invitations/` + w.inviteToken + `/accept"`, `<label for="password">`, `autocomplete="new-password"`} {
		if !strings.Contains(body, want) {
			t.Errorf("invitation page lacks %q:\n%s", want, body)
		}
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if page.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("the page with a token in its address may leak it in Referer")
	}
	form := func(v url.Values) *response {
		return e.public().send(request{method: "POST", path: "/api/v1/invitations/" + w.inviteToken + "/accept",
			body: []byte(v.Encode()), contentType: "application/x-www-form-urlencoded"})
	}
	r := form(url.Values{"password": {"a long password"}, "password_confirm": {"another one"}}).want(http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "does not match") {
		t.Errorf("mismatch not explained:\n%s", r.body)
	}
	r = form(url.Values{"password": {"short"}, "password_confirm": {"short"}}).want(http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.body), "at least 10 characters") {
		t.Errorf("short password not explained:\n%s", r.body)
	}
	r = form(url.Values{"password": {"a long password"}, "password_confirm": {"a long password"}}).want(http.StatusSeeOther)
	if r.header.Get("Location") != "/" || !strings.Contains(r.header.Get("Set-Cookie"), web.SessionCookie+"=chs_") {
		t.Errorf("after accepting: Location %q, Set-Cookie %q", r.header.Get("Location"), r.header.Get("Set-Cookie"))
	}
	e.public().get("/invite/" + w.inviteToken).want(http.StatusUnauthorized)
	e.login("pending@north.example", "a long password")
	e.checkLogs(w.inviteToken, "a long password")
}

// TestBearerLogout: logging out with a bearer token revokes that token, and only it.
func TestBearerLogout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		w := newWorld(t, e)
		var spare struct {
			Token string `json:"token"`
		}
		w.clerk.do("POST", "/api/v1/me/tokens", map[string]any{"name": "spare"}).want(http.StatusCreated).into(&spare)
		other := e.bearer(spare.Token)
		w.clerk.do("POST", "/api/v1/auth/logout", nil).want(http.StatusNoContent)
		w.clerk.get("/api/v1/me").problem(http.StatusUnauthorized, "unauthenticated")
		other.get("/api/v1/me").want(http.StatusOK)
	})
}
