package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/chamber/chamber/agenda"
)

// The pages are server-rendered and work without JavaScript. Each page template
// defines "title" and "main" and is rendered inside layout.html. A page's parts, in
// files named after it ("console_votes.html" for the console), are parsed with it.
var pageNames = []string{"home", "meeting", "invite", "message", "problem", "room", "console", "meetings", "minutes"}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"datetime": func(t time.Time) string { return t.UTC().Format("Monday 2 January 2006, 15:04 MST") },
		"isodate":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"human":    func(s string) string { return strings.ReplaceAll(s, "_", " ") },
		// minutesDownloads lists the exports of the latest minutes of a meeting.
		"minutesDownloads": func(meetingID int64) []download { return minutesDownloads(meetingID, 0) },
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	out := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		parts, err := fs.Glob(files, "templates/"+name+"_*.html")
		if err != nil {
			return nil, fmt.Errorf("web: find parts of page %s: %w", name, err)
		}
		t, err := template.Must(base.Clone()).ParseFS(files, append([]string{"templates/" + name + ".html"}, parts...)...)
		if err != nil {
			return nil, fmt.Errorf("web: parse page %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// page is what every page template gets: the signed-in user's name, if any, and the
// page's own data.
type page struct {
	User string
	Data any
}

// render writes a page. Pages carry a strict content security policy: scripts and
// styles from this site only, no inline script, no frames.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, user string, data any) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout.html", page{User: user, Data: data}); err != nil {
		s.log.Error("render page", "request_id", info(r).id, "page", name, "err", err)
		http.Error(w, "Internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "private, no-cache")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type messageData struct {
	Title   string
	Message string
	Type    string // the problem type's URI, when the message is an error
	Status  int
}

// pageError renders an error as a page, with the status of its problem type.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	he := s.report(r, err)
	if he.kind.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chamber"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	msg := he.detail
	if msg == "" {
		msg = he.kind.About
	}
	s.render(w, r, he.kind.Status, "message", "", messageData{Title: he.kind.Title, Message: msg, Type: s.typeURI(he.kind), Status: he.kind.Status})
}

type homeData struct {
	Meetings []meetingRow
	Next     string
}

type meetingRow struct {
	agenda.Meeting
	Committee string
}

// committeeNames looks up committee names for a list of meetings, once each.
func (s *Server) committeeNames(c *call, ms []agenda.Meeting) []meetingRow {
	names := map[int64]string{}
	out := make([]meetingRow, len(ms))
	for i, m := range ms {
		name, ok := names[m.CommitteeID]
		if !ok {
			if cm, err := s.svc.GetCommittee(c.r.Context(), m.CommitteeID); err == nil {
				name = cm.Name
			}
			names[m.CommitteeID] = name
		}
		out[i] = meetingRow{Meeting: m, Committee: name}
	}
	return out
}

func (s *Server) homePage(c *call) error {
	page, err := s.svc.ListMeetings(c.r.Context(), c.actor, agenda.MeetingQuery{Cursor: c.r.URL.Query().Get("cursor")})
	if err != nil {
		return err
	}
	s.render(c.w, c.r, http.StatusOK, "home", c.actor.Name, homeData{Meetings: s.committeeNames(c, page.Items), Next: page.Next})
	return nil
}

type inviteData struct {
	Name, Email string
	Action      string
	Errors      []agenda.FieldError
	MinLength   int
}

func (s *Server) inviteGet(c *call) error {
	c.w.Header().Set("Cache-Control", "no-store")
	return s.invitePage(c, c.r.PathValue("token"), http.StatusOK, nil)
}

// invitePage shows the form to accept an invitation, with errors from a previous try.
func (s *Server) invitePage(c *call, token string, status int, errs []agenda.FieldError) error {
	u, err := s.svc.InvitationUser(c.r.Context(), token)
	if err != nil {
		s.pageError(c.w, c.r, err)
		return nil
	}
	c.w.Header().Set("Cache-Control", "no-store")
	s.render(c.w, c.r, status, "invite", "", inviteData{Name: u.Name, Email: u.Email, Errors: errs,
		Action: "/api/v1/invitations/" + token + "/accept", MinLength: agenda.MinPasswordLength})
	return nil
}

// signInLink signs in with a link's token and goes where the link leads. HEAD (link
// checkers, previews) leaves the link unused.
func (s *Server) signInLink(c *call) error {
	if c.r.Method == http.MethodHead {
		c.w.Header().Set("Cache-Control", "no-store")
		c.w.WriteHeader(http.StatusOK)
		return nil
	}
	u, redirect, err := s.svc.UseSignInLink(c.r.Context(), c.r.PathValue("token"))
	if err != nil {
		return err
	}
	if _, err := s.setSession(c.w, c.r, u.ID); err != nil {
		return err
	}
	info(c.r).userID = u.ID
	if !strings.HasPrefix(redirect, "/") || strings.HasPrefix(redirect, "//") || strings.HasPrefix(redirect, "/\\") {
		redirect = "/"
	}
	c.w.Header().Set("Cache-Control", "no-store")
	http.Redirect(c.w, c.r, redirect, http.StatusSeeOther)
	return nil
}

type problemData struct {
	ProblemType
	URI string
}

func (s *Server) problemPage(c *call) error {
	p, ok := problemType(c.r.PathValue("name"))
	if !ok {
		return &httpError{kind: probNotFound, detail: "There is no such problem type."}
	}
	c.w.Header().Set("Cache-Control", "public, max-age=3600")
	s.render(c.w, c.r, http.StatusOK, "problem", "", problemData{ProblemType: *p, URI: s.typeURI(p)})
	return nil
}

func (s *Server) staticFile(c *call) error {
	name := c.r.PathValue("file")
	if name != path.Base(name) || strings.HasPrefix(name, ".") {
		return &httpError{kind: probNotFound}
	}
	b, err := fs.ReadFile(files, "static/"+name)
	if errors.Is(err, fs.ErrNotExist) {
		return &httpError{kind: probNotFound, detail: "There is no such file."}
	}
	if err != nil {
		return err
	}
	h := c.w.Header()
	switch path.Ext(name) {
	case ".css":
		h.Set("Content-Type", "text/css; charset=utf-8")
	default:
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Cache-Control", "public, max-age=3600")
	c.w.Write(b)
	return nil
}
