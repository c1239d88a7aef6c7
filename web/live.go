package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/signaling"
)

// Live-room admission.
const (
	// joinTTL is how long a join token is good for: long enough to open the WebSocket.
	joinTTL = 2 * time.Minute
	// Observers joining from one address: a burst, then one every joinEvery.
	joinBurst = 20
	joinEvery = 3 * time.Second
	// passGrace is how long after a meeting's start a speaker's pass still works.
	passGrace = 24 * time.Hour
)

// JoinResponse admits its holder to a meeting's live room: open the WebSocket at URL,
// that of the node hosting the room, and send the token in the join message.
type JoinResponse struct {
	Token     string    `json:"token"`
	URL       string    `json:"url"`
	Role      string    `json:"role"`
	Identity  string    `json:"identity"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SpeakerJoinRequest exchanges a public speaker's pass for a join token.
type SpeakerJoinRequest struct {
	Pass string `json:"pass"`
}

// SpeakerPassResponse is a public speaker's pass and the link that carries it.
type SpeakerPassResponse struct {
	Pass      string    `json:"pass"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// grantsFor works out what a person may do in a meeting's room from their roles: the
// council's clerks and the committee's chair run it; members and officers take part;
// anyone else watches, hidden from the participant list.
func grantsFor(a agenda.Actor, m agenda.Meeting) signaling.Grants {
	g := signaling.Grants{MeetingID: m.ID, Name: a.Name, UserID: a.UserID, CanSubscribe: true}
	switch {
	case a.IsClerk(m.CouncilID):
		g.Role, g.CanPublish, g.CanAdmin = signaling.RoleClerk, true, true
	case a.IsChair(m.CommitteeID):
		g.Role, g.CanPublish, g.CanAdmin = signaling.RoleChair, true, true
	case a.InCommittee(m.CommitteeID):
		g.Role, g.CanPublish = signaling.RoleMember, true
	case a.Councils[m.CouncilID] == agenda.RoleOfficer:
		g.Role, g.CanPublish = signaling.RoleOfficer, true
	default:
		// Signed in or not, a watcher is a member of the public: no identity to record.
		return signaling.Grants{MeetingID: m.ID, Identity: "observer-" + randomID(), Name: "Observer",
			Role: signaling.RoleObserver, CanSubscribe: true, Hidden: true}
	}
	g.Identity = fmt.Sprintf("user-%d", a.UserID)
	return g
}

// consoleGrants are the grants of the meeting console of someone who runs the meeting
// (g, from grantsFor): the chair's controls with the authority of their role, but a
// connection of its own, hidden, that never publishes, is sent no media unless it asks
// and leaves attendance alone. Each console gets its own identity, so a chair may sit
// in the room on camera and run it from the console at once, and two consoles (two
// tabs) are two connections, neither closing the other.
func consoleGrants(g signaling.Grants) signaling.Grants {
	g.Identity += "/console-" + randomID()
	g.Console, g.Hidden, g.CanPublish = true, true, false
	return g
}

func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// SignallingURL is the WebSocket address of the signalling endpoint of the server
// reached at publicURL (http:// becomes ws://, https:// wss://).
func SignallingURL(publicURL string) string {
	u := strings.TrimRight(publicURL, "/")
	switch {
	case strings.HasPrefix(u, "https://"):
		u = "wss://" + strings.TrimPrefix(u, "https://")
	case strings.HasPrefix(u, "http://"):
		u = "ws://" + strings.TrimPrefix(u, "http://")
	}
	return u + "/api/v1/rtc"
}

// roomLocator is what the signalling handler (Config.RTC) offers when a meeting's room
// may be hosted by another node of the deployment: the signalling URL of the node
// hosting it, which it chooses if no node does yet. *signaling.Hub satisfies it.
type roomLocator interface {
	RoomURL(ctx context.Context, meetingID int64) (string, error)
}

// roomURL is the WebSocket address at which to join meetingID's room: that of the node
// hosting it, or this server's own.
func (s *Server) roomURL(ctx context.Context, meetingID int64) (string, error) {
	if l, ok := s.rtc.(roomLocator); ok {
		u, err := l.RoomURL(ctx, meetingID)
		if err != nil {
			s.log.Error("find the node hosting a live room", "meeting", meetingID, "err", err)
			return "", &httpError{kind: probNotReady, detail: "The node hosting the meeting's live room cannot be found now; try again shortly."}
		}
		if u != "" {
			return u, nil
		}
	}
	return SignallingURL(s.public), nil
}

// joinRoom admits the caller to a meeting's live room with the grants their role gives.
// The public may watch published meetings that have not closed; each address may join
// only so often.
func (s *Server) joinRoom(c *call) (JoinResponse, error) {
	m, err := s.liveMeeting(c)
	if err != nil {
		return JoinResponse{}, err
	}
	g := grantsFor(c.actor, m)
	if g.Role == signaling.RoleObserver {
		if err := c.rateLimit(s.joins); err != nil {
			return JoinResponse{}, err
		}
	}
	return s.issueJoin(c.r.Context(), g)
}

// joinConsole admits the meeting console to the meeting's live room, for the council's
// clerks and the committee's chair and vice-chair only (consoleGrants).
func (s *Server) joinConsole(c *call) (JoinResponse, error) {
	m, err := s.liveMeeting(c)
	if err != nil {
		return JoinResponse{}, err
	}
	if !c.actor.CanRun(m.CouncilID, m.CommitteeID) {
		return JoinResponse{}, fmt.Errorf("console of meeting %d: %w", m.ID, agenda.ErrForbidden)
	}
	return s.issueJoin(c.r.Context(), consoleGrants(grantsFor(c.actor, m)))
}

// liveMeeting reads the route's meeting as the caller may see it, refusing one that
// has closed: its room is gone.
func (s *Server) liveMeeting(c *call) (agenda.Meeting, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Meeting{}, err
	}
	m, err := s.svc.GetMeeting(c.r.Context(), c.actor, id)
	if err != nil {
		return agenda.Meeting{}, err
	}
	if m.Status == agenda.Closed {
		return agenda.Meeting{}, fmt.Errorf("meeting %d has closed: %w", id, agenda.ErrConflict)
	}
	return m, nil
}

// issueJoin makes a join token for g and names the node to use it at.
func (s *Server) issueJoin(ctx context.Context, g signaling.Grants) (JoinResponse, error) {
	url, err := s.roomURL(ctx, g.MeetingID)
	if err != nil {
		return JoinResponse{}, err
	}
	token, err := s.tokens.Issue(g, joinTTL)
	if err != nil {
		return JoinResponse{}, err
	}
	return JoinResponse{Token: token, URL: url, Role: g.Role, Identity: g.Identity, ExpiresAt: s.now().Add(joinTTL).UTC()}, nil
}

// speakerPass makes a registered public speaker's pass, for the clerk to send them: it
// lets them join the room and speak on their item when the chair gives them the floor,
// until a day after the meeting starts.
func (s *Server) speakerPass(c *call) (SpeakerPassResponse, error) {
	meetingID, speakerID, err := c.meetingAnd("speaker")
	if err != nil {
		return SpeakerPassResponse{}, err
	}
	ctx := c.r.Context()
	m, err := s.svc.GetMeeting(ctx, c.actor, meetingID)
	if err != nil {
		return SpeakerPassResponse{}, err
	}
	if !c.actor.IsClerk(m.CouncilID) {
		if c.actor.Anonymous() {
			return SpeakerPassResponse{}, agenda.ErrUnauthenticated
		}
		return SpeakerPassResponse{}, agenda.ErrForbidden
	}
	if m.Status == agenda.Closed {
		return SpeakerPassResponse{}, fmt.Errorf("meeting %d has closed: %w", meetingID, agenda.ErrConflict)
	}
	speakers, err := s.svc.ListSpeakers(ctx, c.actor, meetingID)
	if err != nil {
		return SpeakerPassResponse{}, err
	}
	for _, sp := range speakers {
		if sp.ID != speakerID {
			continue
		}
		expires := m.StartsAt.Add(passGrace)
		if min := s.now().Add(time.Hour); expires.Before(min) {
			expires = min
		}
		g := signaling.Grants{Identity: fmt.Sprintf("speaker-%d", sp.ID), Name: sp.Name, MeetingID: meetingID,
			Role: signaling.RoleSpeaker, CanSubscribe: true, SpeakerItemID: sp.ItemID}
		pass, err := s.tokens.IssuePass(g, expires.Sub(s.now()))
		if err != nil {
			return SpeakerPassResponse{}, err
		}
		return SpeakerPassResponse{Pass: pass, URL: s.public + "/speak/" + pass, ExpiresAt: expires.UTC()}, nil
	}
	return SpeakerPassResponse{}, fmt.Errorf("speaker %d: %w", speakerID, agenda.ErrNotFound)
}

// speakerJoin exchanges a speaker's pass for a join token, while the meeting is open.
func (s *Server) speakerJoin(c *call, in SpeakerJoinRequest) (JoinResponse, error) {
	g, err := s.tokens.VerifyPass(strings.TrimSpace(in.Pass))
	if err != nil {
		if errors.Is(err, signaling.ErrTokenExpired) {
			return JoinResponse{}, &httpError{kind: probBadCredentials, detail: "This speaker's pass has expired; ask the clerk for a new one."}
		}
		return JoinResponse{}, &httpError{kind: probBadCredentials, detail: "This is not a speaker's pass from this server."}
	}
	m, err := s.svc.GetMeeting(c.r.Context(), agenda.Anyone, g.MeetingID)
	if err != nil {
		return JoinResponse{}, err
	}
	if m.Status == agenda.Closed {
		return JoinResponse{}, fmt.Errorf("meeting %d has closed: %w", m.ID, agenda.ErrConflict)
	}
	return s.issueJoin(c.r.Context(), g)
}
