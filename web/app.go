package web

import (
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/signaling"
)

// The live pages: the councillor's room and the clerk's console are server-rendered
// shells that JavaScript modules under static/js bring to life. The modules are plain
// ES modules served from the binary, with no build step and nothing fetched from
// elsewhere.

// contentSecurityPolicy is the policy every page carries: scripts, styles, images and
// connections (fetch and the signalling WebSocket) from this site only; no frames, no
// plugins, no inline script.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; media-src 'self' blob: mediastream:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// scriptFile serves a JavaScript module from static/js.
func (s *Server) scriptFile(c *call) error {
	name := c.r.PathValue("file")
	if name != path.Base(name) || strings.HasPrefix(name, ".") || path.Ext(name) != ".js" {
		return &httpError{kind: probNotFound, detail: "There is no such file."}
	}
	b, err := fs.ReadFile(files, "static/js/"+name)
	if errors.Is(err, fs.ErrNotExist) {
		return &httpError{kind: probNotFound, detail: "There is no such file."}
	}
	if err != nil {
		return err
	}
	h := c.w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	// Modules import each other by path, so a page must not mix versions: revalidate.
	h.Set("Cache-Control", "no-cache")
	c.w.Write(b)
	return nil
}

// liveData is what the room and console pages get.
type liveData struct {
	Meeting   agenda.Meeting
	Committee string
	Items     []agenda.Item
	Current   *agenda.Item
	// SignIn asks the visitor to sign in first.
	SignIn bool
	// UserID and Role say who the signed-in visitor is in the meeting's room.
	UserID int64
	Role   string
	// Runs says the visitor may run the meeting (its clerks and chair).
	Runs bool
	// Paragraphs are those of Schedule 12A under which the public may be excluded.
	Paragraphs []int
	// Rules is what the console shows of the committee's rules for taking the roll.
	Rules *rollRules
	// Kinds are the kinds of interest members declare under the committee's code of
	// conduct, as the declaration forms offer them.
	Kinds []agenda.DeclarationKind
}

// rollRules is what the console needs of a committee's rules profile to take the roll:
// the quorum, and the attendance modes the clerk may record with what each allows.
type rollRules struct {
	Profile string
	// Voting is the committee's voting membership; Quorum how many of them must be
	// present (in a mode that counts) for business to be done.
	Voting, Quorum int
	Modes          []modeRule
}

// modeRule is an attendance mode the rules allow.
type modeRule struct {
	Mode          agenda.AttendanceMode
	Label         string
	Counts, Votes bool
}

// rollRulesFor works out the roll's rules for a committee of the given members.
func rollRulesFor(name string, p agenda.Profile, members []agenda.Membership) *rollRules {
	voting := agenda.Roll{Members: members}.VotingMembers()
	r := &rollRules{Profile: name, Voting: voting, Quorum: p.Quorum.Of(voting)}
	add := func(m agenda.AttendanceMode, label string) {
		counts, votes := p.Can(m)
		r.Modes = append(r.Modes, modeRule{Mode: m, Label: label, Counts: counts, Votes: votes})
	}
	add(agenda.InRoom, "In the room")
	if p.RemoteMayVote {
		add(agenda.RemoteVoting, "Remote")
	}
	add(agenda.RemoteNonVoting, "Remote, no vote")
	if p.ProxiesAllowed {
		add(agenda.ByProxy, "By proxy")
	}
	return r
}

// livePage loads what the room and console pages show.
func (s *Server) livePage(c *call) (liveData, error) {
	id, err := c.id("meeting")
	if err != nil {
		return liveData{}, err
	}
	c.w.Header().Set("Cache-Control", "no-store")
	ctx := c.r.Context()
	m, err := s.svc.GetMeeting(ctx, c.actor, id)
	if err != nil {
		return liveData{}, err
	}
	items, err := s.svc.ListItems(ctx, c.actor, id)
	if err != nil {
		return liveData{}, err
	}
	d := liveData{Meeting: m, Items: items, SignIn: c.actor.Anonymous(), UserID: c.actor.UserID,
		Paragraphs: []int{1, 2, 3, 4, 5, 6, 7}}
	if cm, err := s.svc.GetCommittee(ctx, m.CommitteeID); err == nil {
		d.Committee, d.Kinds = cm.Name, cm.Profile.DeclarationKinds()
	}
	for i := range items {
		if items[i].ID == m.CurrentItemID {
			d.Current = &items[i]
		}
	}
	if !d.SignIn {
		g := grantsFor(c.actor, m)
		d.Role, d.Runs = g.Role, g.CanAdmin
	}
	return d, nil
}

// roomPage is where councillors, officers, the chair and the clerk take part in a
// meeting: camera and microphone, the agenda, declarations and signed votes.
func (s *Server) roomPage(c *call) error {
	d, err := s.livePage(c)
	if err != nil {
		return err
	}
	if !d.SignIn && d.Role == signaling.RoleObserver {
		return &httpError{kind: probForbidden,
			detail: "Only the committee's members, the council's officers and its clerks take part in this meeting; anyone may watch it on its public page."}
	}
	s.render(c.w, c.r, http.StatusOK, "room", c.actor.Name, d)
	return nil
}

// consolePage is where the clerk and the chair run a meeting.
func (s *Server) consolePage(c *call) error {
	d, err := s.livePage(c)
	if err != nil {
		return err
	}
	if !d.SignIn && !d.Runs {
		return &httpError{kind: probForbidden, detail: "Only the meeting's clerks and its chair run the meeting."}
	}
	if !d.SignIn {
		cm, err := s.svc.GetCommittee(c.r.Context(), d.Meeting.CommitteeID)
		if err != nil {
			return err
		}
		members, err := s.svc.ListMembers(c.r.Context(), cm.ID)
		if err != nil {
			return err
		}
		d.Rules = rollRulesFor(cm.ProfileName, cm.Profile, members)
	}
	s.render(c.w, c.r, http.StatusOK, "console", c.actor.Name, d)
	return nil
}
