package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/chamber/chamber/agenda"
)

// Request and response bodies the API adds to the agenda's own types.

// MeResponse is the signed-in user with their roles. CSRFToken is set for browser
// sessions: the token to send in X-CSRF-Token with every write.
type MeResponse struct {
	agenda.User
	Councils   map[int64]agenda.CouncilRole   `json:"councils"`
	Committees map[int64]agenda.CommitteeRole `json:"committees"`
	CSRFToken  string                         `json:"csrf_token,omitempty"`
}

// TokenRequest creates an API token.
type TokenRequest struct {
	Name string `json:"name"`
	// TTLSeconds is how long the token lasts; 0 means until revoked.
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
}

// TokenResponse is a new API token: its value, shown only now, and its record.
type TokenResponse struct {
	Token    string          `json:"token"`
	APIToken agenda.APIToken `json:"api_token"`
}

// SignInLinkRequest makes a sign-in link for a user.
type SignInLinkRequest struct {
	// Redirect is the path on this site the link leads to, such as "/meetings/3".
	Redirect string `json:"redirect"`
	// Reusable links work until they expire (demos, training); others work once.
	Reusable bool `json:"reusable,omitempty"`
}

// LinkResponse carries a link to send to someone.
type LinkResponse struct {
	URL string `json:"url"`
}

// InvitationResponse says whom an invitation is for.
type InvitationResponse struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// AcceptInvitationRequest sets the invited user's password.
type AcceptInvitationRequest struct {
	Password string `json:"password"`
}

// PersonResponse is a person added to a council, with the link inviting them to set a
// password when their account is new.
type PersonResponse struct {
	agenda.Person
	InvitationURL string `json:"invitation_url,omitempty"`
}

// MemberRequest puts a councillor on a committee.
type MemberRequest struct {
	Role agenda.CommitteeRole `json:"role" jsonschema:"enum=chair,enum=vice_chair,enum=member,enum=substitute"`
}

// CurrentItemRequest moves a meeting to an item.
type CurrentItemRequest struct {
	ItemID int64 `json:"item_id"`
}

// SessionRequest takes a meeting into private session (under a Schedule 12A paragraph)
// or back into public session.
type SessionRequest struct {
	Private   bool   `json:"private"`
	Paragraph int    `json:"paragraph,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// ReorderRequest lists every item of the agenda once, in the new order.
type ReorderRequest struct {
	Order []int64 `json:"order"`
}

// AgendaFileJSON is an agenda import in JSON. A bare array of items is also accepted.
type AgendaFileJSON struct {
	Items []agenda.ItemInput `json:"items"`
}

// ApologyRequest records a member's apology for absence.
type ApologyRequest struct {
	UserID int64  `json:"user_id"`
	Reason string `json:"reason,omitempty"`
}

// SubstitutionRequest records a substitute sitting for a member.
type SubstitutionRequest struct {
	SubstituteID int64 `json:"substitute_id"`
	MemberID     int64 `json:"member_id"`
}

func (s *Server) inviteURL(token string) string {
	if token == "" {
		return ""
	}
	return s.public + "/invite/" + token
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// Accounts.

func (s *Server) me(c *call) (MeResponse, error) {
	u, err := s.svc.Me(c.r.Context(), c.actor)
	if err != nil {
		return MeResponse{}, err
	}
	out := MeResponse{User: u, Councils: c.actor.Councils, Committees: c.actor.Committees, CSRFToken: c.csrf}
	if out.Councils == nil {
		out.Councils = map[int64]agenda.CouncilRole{}
	}
	if out.Committees == nil {
		out.Committees = map[int64]agenda.CommitteeRole{}
	}
	return out, nil
}

func (s *Server) listTokens(c *call) ([]agenda.APIToken, error) {
	out, err := s.svc.ListAPITokens(c.r.Context(), c.actor)
	return nonNil(out), err
}

func (s *Server) createToken(c *call, in TokenRequest) (TokenResponse, error) {
	if in.TTLSeconds < 0 || in.TTLSeconds > math.MaxInt64/int64(time.Second) {
		return TokenResponse{}, &agenda.ValidationError{Fields: []agenda.FieldError{{Field: "ttl_seconds", Message: "must be a positive number of seconds, or 0"}}}
	}
	token, t, err := s.svc.NewAPIToken(c.r.Context(), c.actor, in.Name, time.Duration(in.TTLSeconds)*time.Second)
	return TokenResponse{Token: token, APIToken: t}, err
}

func (s *Server) revokeToken(c *call) (noContent, error) {
	id, err := c.id("id")
	if err != nil {
		return noContent{}, err
	}
	if err := s.svc.RevokeAPIToken(c.r.Context(), c.actor, id); err != nil {
		return noContent{}, err
	}
	s.held.forgetToken(id)
	return noContent{}, nil
}

func (s *Server) createSignInLink(c *call, in SignInLinkRequest) (LinkResponse, error) {
	user, err := c.id("user")
	if err != nil {
		return LinkResponse{}, err
	}
	token, err := s.svc.NewSignInLink(c.r.Context(), c.actor, user, in.Redirect, in.Reusable)
	if err != nil {
		return LinkResponse{}, err
	}
	return LinkResponse{URL: s.public + "/login/link/" + token}, nil
}

func (s *Server) invitation(c *call) (InvitationResponse, error) {
	u, err := s.svc.InvitationUser(c.r.Context(), c.r.PathValue("token"))
	if err != nil {
		return InvitationResponse{}, err
	}
	return InvitationResponse{Name: u.Name, Email: u.Email}, nil
}

// acceptInvitation takes JSON (answering the user) or, from the invitation page's form,
// application/x-www-form-urlencoded: then the new user is signed in and sent home, and
// a mistake shows the form again.
func (s *Server) acceptInvitation(c *call) error {
	mt, err := c.requireType()
	if err != nil {
		return err
	}
	token := c.r.PathValue("token")
	if mt == mediaJSON {
		var in AcceptInvitationRequest
		if err := c.decode(&in); err != nil {
			return err
		}
		u, err := s.svc.AcceptInvitation(c.r.Context(), token, in.Password)
		if err != nil {
			return err
		}
		c.json(http.StatusOK, u)
		return nil
	}
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxJSONBody)
	if err := c.r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &httpError{kind: probTooLarge}
		}
		return &httpError{kind: probMalformed, detail: "The form could not be read."}
	}
	password := c.r.PostForm.Get("password")
	if confirm, ok := c.r.PostForm["password_confirm"]; ok && confirm[0] != password {
		return s.invitePage(c, token, http.StatusUnprocessableEntity, []agenda.FieldError{{Field: "password_confirm", Message: "does not match the password"}})
	}
	u, err := s.svc.AcceptInvitation(c.r.Context(), token, password)
	var ve *agenda.ValidationError
	switch {
	case errors.As(err, &ve):
		return s.invitePage(c, token, http.StatusUnprocessableEntity, ve.Fields)
	case err != nil:
		s.pageError(c.w, c.r, err)
		return nil
	}
	if _, err := s.setSession(c.w, c.r, u.ID); err != nil {
		return err
	}
	http.Redirect(c.w, c.r, "/", http.StatusSeeOther)
	return nil
}

// Councils, people and committees.

func (s *Server) listCouncils(c *call) ([]agenda.Council, error) {
	out, err := s.svc.ListCouncils(c.r.Context())
	return nonNil(out), err
}

func (s *Server) createCouncil(c *call, in agenda.CouncilInput) (agenda.Council, error) {
	return s.svc.CreateCouncil(c.r.Context(), c.actor, in)
}

func (s *Server) getCouncil(c *call) (agenda.Council, error) {
	id, err := c.id("council")
	if err != nil {
		return agenda.Council{}, err
	}
	return s.svc.GetCouncil(c.r.Context(), id)
}

func (s *Server) listPeople(c *call) ([]agenda.Person, error) {
	id, err := c.id("council")
	if err != nil {
		return nil, err
	}
	out, err := s.svc.ListPeople(c.r.Context(), c.actor, id)
	return nonNil(out), err
}

func (s *Server) addPerson(c *call, in agenda.PersonInput) (PersonResponse, error) {
	id, err := c.id("council")
	if err != nil {
		return PersonResponse{}, err
	}
	p, err := s.svc.AddPerson(c.r.Context(), c.actor, id, in)
	if err != nil {
		return PersonResponse{}, err
	}
	return PersonResponse{Person: p.Person, InvitationURL: s.inviteURL(p.InviteToken)}, nil
}

func (s *Server) reinvite(c *call) (LinkResponse, error) {
	council, err := c.id("council")
	if err != nil {
		return LinkResponse{}, err
	}
	user, err := c.id("user")
	if err != nil {
		return LinkResponse{}, err
	}
	token, err := s.svc.Reinvite(c.r.Context(), c.actor, council, user)
	if err != nil {
		return LinkResponse{}, err
	}
	return LinkResponse{URL: s.inviteURL(token)}, nil
}

func (s *Server) listCommittees(c *call) ([]agenda.Committee, error) {
	id, err := c.id("council")
	if err != nil {
		return nil, err
	}
	out, err := s.svc.ListCommittees(c.r.Context(), id)
	return nonNil(out), err
}

func (s *Server) createCommittee(c *call, in agenda.CommitteeInput) (agenda.Committee, error) {
	id, err := c.id("council")
	if err != nil {
		return agenda.Committee{}, err
	}
	return s.svc.CreateCommittee(c.r.Context(), c.actor, id, in)
}

func (s *Server) getCommittee(c *call) (agenda.Committee, error) {
	id, err := c.id("committee")
	if err != nil {
		return agenda.Committee{}, err
	}
	return s.svc.GetCommittee(c.r.Context(), id)
}

func (s *Server) updateCommittee(c *call, in agenda.CommitteePatch) (agenda.Committee, error) {
	id, err := c.id("committee")
	if err != nil {
		return agenda.Committee{}, err
	}
	return s.svc.UpdateCommittee(c.r.Context(), c.actor, id, in)
}

func (s *Server) listMembers(c *call) ([]agenda.Membership, error) {
	id, err := c.id("committee")
	if err != nil {
		return nil, err
	}
	out, err := s.svc.ListMembers(c.r.Context(), id)
	return nonNil(out), err
}

func (s *Server) putMember(c *call, in MemberRequest) (agenda.Membership, error) {
	committee, err := c.id("committee")
	if err != nil {
		return agenda.Membership{}, err
	}
	user, err := c.id("user")
	if err != nil {
		return agenda.Membership{}, err
	}
	return s.svc.SetMember(c.r.Context(), c.actor, committee, user, in.Role)
}

func (s *Server) removeMember(c *call) (noContent, error) {
	committee, err := c.id("committee")
	if err != nil {
		return noContent{}, err
	}
	user, err := c.id("user")
	if err != nil {
		return noContent{}, err
	}
	return noContent{}, s.svc.RemoveMember(c.r.Context(), c.actor, committee, user)
}

func (s *Server) profiles(*call) ([]agenda.Profile, error) { return agenda.Presets(), nil }

// Meetings.

// query collects the errors of a request's query parameters.
type query struct {
	c    *call
	errs []agenda.FieldError
}

func (q *query) int(name string) int64 {
	v := q.c.r.URL.Query().Get(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		q.errs = append(q.errs, agenda.FieldError{Field: name, Message: "must be a whole number, 0 or more"})
	}
	return n
}

// limit reads a page size: absent is 0 (the default), otherwise 1 to most.
func (q *query) limit(most int) int {
	if !q.c.r.URL.Query().Has("limit") {
		return 0
	}
	n, err := strconv.Atoi(q.c.r.URL.Query().Get("limit"))
	if err != nil || n < 1 || n > most {
		q.errs = append(q.errs, agenda.FieldError{Field: "limit", Message: fmt.Sprintf("must be between 1 and %d", most)})
		return 0
	}
	return n
}

// time reads an RFC 3339 date-time or a date (midnight UTC).
func (q *query) time(name string) time.Time {
	v := q.c.r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t
	}
	q.errs = append(q.errs, agenda.FieldError{Field: name, Message: "must be a date (2026-12-01) or an RFC 3339 date and time"})
	return time.Time{}
}

func (q *query) err() error {
	if len(q.errs) == 0 {
		return nil
	}
	return &agenda.ValidationError{Fields: q.errs}
}

var meetingQuery = []Param{
	{Name: "council", Type: "integer", Format: "int64", Description: "Only this council's meetings."},
	{Name: "committee", Type: "integer", Format: "int64", Description: "Only this committee's meetings."},
	{Name: "status", Type: "string", Enum: []string{"scheduled", "in_progress", "adjourned", "closed"}},
	{Name: "from", Type: "string", Description: "Meetings starting at or after this date (2026-12-01) or RFC 3339 time."},
	{Name: "to", Type: "string", Description: "Meetings starting before this date or RFC 3339 time."},
	{Name: "limit", Type: "integer", Description: fmt.Sprintf("Page size, 1–%d (default %d).", agenda.MaxPageSize, agenda.DefaultPageSize)},
	{Name: "cursor", Type: "string", Description: "The next member of the previous page."},
}

func (s *Server) meetingQuery(c *call) (agenda.MeetingQuery, error) {
	q := query{c: c}
	mq := agenda.MeetingQuery{
		CouncilID:   q.int("council"),
		CommitteeID: q.int("committee"),
		Status:      agenda.MeetingStatus(c.r.URL.Query().Get("status")),
		From:        q.time("from"),
		To:          q.time("to"),
		Cursor:      c.r.URL.Query().Get("cursor"),
		Limit:       q.limit(agenda.MaxPageSize),
	}
	return mq, q.err()
}

func (s *Server) listMeetings(c *call) (agenda.Page[agenda.Meeting], error) {
	q, err := s.meetingQuery(c)
	if err != nil {
		return agenda.Page[agenda.Meeting]{}, err
	}
	return s.svc.ListMeetings(c.r.Context(), c.actor, q)
}

func (s *Server) createMeeting(c *call, in agenda.MeetingInput) (agenda.Meeting, error) {
	return s.svc.CreateMeeting(c.r.Context(), c.actor, in)
}

func (s *Server) getMeeting(c *call) (agenda.Meeting, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Meeting{}, err
	}
	return s.svc.GetMeeting(c.r.Context(), c.actor, id)
}

func (s *Server) updateMeeting(c *call, in agenda.MeetingPatch) (agenda.Meeting, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Meeting{}, err
	}
	return s.svc.UpdateMeeting(c.r.Context(), c.actor, id, in)
}

// meetingAction adapts a Service method that acts on a meeting.
func meetingAction(f func(context.Context, agenda.Actor, int64) (agenda.Meeting, error)) func(*call) (agenda.Meeting, error) {
	return func(c *call) (agenda.Meeting, error) {
		id, err := c.id("meeting")
		if err != nil {
			return agenda.Meeting{}, err
		}
		return f(c.r.Context(), c.actor, id)
	}
}

func (s *Server) setCurrentItem(c *call, in CurrentItemRequest) (agenda.Meeting, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Meeting{}, err
	}
	return s.svc.SetCurrentItem(c.r.Context(), c.actor, id, in.ItemID)
}

func (s *Server) setSessionState(c *call, in SessionRequest) (agenda.Meeting, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Meeting{}, err
	}
	return s.svc.SetSession(c.r.Context(), c.actor, id, in.Private, in.Paragraph, in.Reason)
}

// Items.

func (s *Server) listItems(c *call) ([]agenda.Item, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	return s.svc.ListItems(c.r.Context(), c.actor, id)
}

func (s *Server) addItem(c *call, in agenda.ItemInput) (agenda.Item, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Item{}, err
	}
	return s.svc.AddItem(c.r.Context(), c.actor, id, in)
}

func (c *call) meetingAnd(name string) (int64, int64, error) {
	m, err := c.id("meeting")
	if err != nil {
		return 0, 0, err
	}
	n, err := c.id(name)
	return m, n, err
}

func (s *Server) getItem(c *call) (agenda.Item, error) {
	m, it, err := c.meetingAnd("item")
	if err != nil {
		return agenda.Item{}, err
	}
	return s.svc.GetItem(c.r.Context(), c.actor, m, it)
}

func (s *Server) updateItem(c *call, in agenda.ItemPatch) (agenda.Item, error) {
	m, it, err := c.meetingAnd("item")
	if err != nil {
		return agenda.Item{}, err
	}
	return s.svc.UpdateItem(c.r.Context(), c.actor, m, it, in)
}

func (s *Server) removeItem(c *call) (noContent, error) {
	m, it, err := c.meetingAnd("item")
	if err != nil {
		return noContent{}, err
	}
	return noContent{}, s.svc.RemoveItem(c.r.Context(), c.actor, m, it)
}

func (s *Server) reorderItems(c *call, in ReorderRequest) ([]agenda.Item, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	out, err := s.svc.ReorderItems(c.r.Context(), c.actor, id, in.Order)
	return nonNil(out), err
}

// importAgenda reads an agenda file (JSON or CSV, by Content-Type) and adds its items,
// or replaces the agenda with them when replace=true. The whole file is checked before
// anything is written; every problem is reported with its row and field.
func (s *Server) importAgenda(c *call) (agenda.ImportResult, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.ImportResult{}, err
	}
	var replace bool
	switch v := c.r.URL.Query().Get("replace"); v {
	case "", "false":
	case "true":
		replace = true
	default:
		return agenda.ImportResult{}, &agenda.ValidationError{Fields: []agenda.FieldError{{Field: "replace", Message: "must be true or false"}}}
	}
	mt, err := c.requireType()
	if err != nil {
		return agenda.ImportResult{}, err
	}
	b, err := c.readBody()
	if err != nil {
		return agenda.ImportResult{}, err
	}
	var f agenda.AgendaFile
	if mt == mediaJSON {
		if err := checkJSON(b); err != nil {
			return agenda.ImportResult{}, err
		}
		f, err = agenda.ParseAgendaJSON(bytes.NewReader(b))
	} else {
		f, err = agenda.ParseAgendaCSV(bytes.NewReader(b))
	}
	if err != nil {
		return agenda.ImportResult{}, err
	}
	res, err := s.svc.ImportAgenda(c.r.Context(), c.actor, id, f, replace)
	res.Items = nonNil(res.Items)
	return res, err
}

// checkJSON rejects a body that is not JSON at all as malformed; what is wrong inside
// well-formed JSON is the parser's to report, row by row.
func checkJSON(b []byte) error {
	if json.Valid(b) {
		return nil
	}
	var v any
	if err := decodeJSON(b, &v); err != nil {
		return err
	}
	return &httpError{kind: probMalformed, detail: "The body is not valid JSON."}
}

// Records of the meeting.

func (s *Server) listApologies(c *call) ([]agenda.Apology, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	return s.svc.ListApologies(c.r.Context(), c.actor, id)
}

func (s *Server) recordApology(c *call, in ApologyRequest) (agenda.Apology, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Apology{}, err
	}
	return s.svc.RecordApology(c.r.Context(), c.actor, id, in.UserID, in.Reason)
}

func (s *Server) withdrawApology(c *call) (noContent, error) {
	m, u, err := c.meetingAnd("user")
	if err != nil {
		return noContent{}, err
	}
	return noContent{}, s.svc.WithdrawApology(c.r.Context(), c.actor, m, u)
}

func (s *Server) listSubstitutions(c *call) ([]agenda.Substitution, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	return s.svc.ListSubstitutions(c.r.Context(), c.actor, id)
}

func (s *Server) recordSubstitution(c *call, in SubstitutionRequest) (agenda.Substitution, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Substitution{}, err
	}
	return s.svc.RecordSubstitution(c.r.Context(), c.actor, id, in.SubstituteID, in.MemberID)
}

func (s *Server) removeSubstitution(c *call) (noContent, error) {
	m, u, err := c.meetingAnd("user")
	if err != nil {
		return noContent{}, err
	}
	return noContent{}, s.svc.RemoveSubstitution(c.r.Context(), c.actor, m, u)
}

func (s *Server) listDeclarations(c *call) ([]agenda.Declaration, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	return s.svc.ListDeclarations(c.r.Context(), c.actor, id)
}

func (s *Server) declare(c *call, in agenda.DeclarationInput) (agenda.Declaration, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Declaration{}, err
	}
	return s.svc.Declare(c.r.Context(), c.actor, id, in)
}

func (s *Server) listMotions(c *call) ([]agenda.Motion, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	return s.svc.ListMotions(c.r.Context(), c.actor, id)
}

func (s *Server) proposeMotion(c *call, in agenda.MotionInput) (agenda.Motion, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Motion{}, err
	}
	return s.svc.ProposeMotion(c.r.Context(), c.actor, id, in)
}

func (s *Server) updateMotion(c *call, in agenda.MotionPatch) (agenda.Motion, error) {
	m, mo, err := c.meetingAnd("motion")
	if err != nil {
		return agenda.Motion{}, err
	}
	return s.svc.UpdateMotion(c.r.Context(), c.actor, m, mo, in)
}

func (s *Server) listAttendance(c *call) ([]agenda.Attendance, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	return s.svc.ListAttendance(c.r.Context(), c.actor, id)
}

func (s *Server) recordArrival(c *call, in agenda.AttendanceInput) (agenda.Attendance, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Attendance{}, err
	}
	return s.svc.RecordArrival(c.r.Context(), c.actor, id, in)
}

func (s *Server) recordDeparture(c *call) (agenda.Attendance, error) {
	m, u, err := c.meetingAnd("user")
	if err != nil {
		return agenda.Attendance{}, err
	}
	return s.svc.RecordDeparture(c.r.Context(), c.actor, m, u)
}

func (s *Server) listSpeakers(c *call) ([]agenda.Speaker, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	return s.svc.ListSpeakers(c.r.Context(), c.actor, id)
}

func (s *Server) registerSpeaker(c *call, in agenda.SpeakerInput) (agenda.Speaker, error) {
	id, err := c.id("meeting")
	if err != nil {
		return agenda.Speaker{}, err
	}
	return s.svc.RegisterSpeaker(c.r.Context(), c.actor, id, in)
}

func (s *Server) removeSpeaker(c *call) (noContent, error) {
	m, sp, err := c.meetingAnd("speaker")
	if err != nil {
		return noContent{}, err
	}
	return noContent{}, s.svc.RemoveSpeaker(c.r.Context(), c.actor, m, sp)
}

func (s *Server) events(c *call) ([]agenda.Event, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	q := query{c: c}
	after, limit := q.int("after"), q.limit(agenda.MaxEventsPage)
	if err := q.err(); err != nil {
		return nil, err
	}
	out, err := s.svc.Events(c.r.Context(), c.actor, id, after, limit)
	return nonNil(out), err
}
