package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/voting"
)

// ProblemType is one kind of error the API answers with. Its type URI is the server's
// public URL followed by /problems/ and the name; GET on that URI shows a page
// explaining it.
type ProblemType struct {
	Name   string // last segment of the type URI: "validation"
	Title  string // the problem's title, the same for every occurrence
	Status int
	// About explains, for the problem's page, when it happens and what to do.
	About string
}

// The problem types. Their names are stable: clients may switch on them.
var (
	probMalformed = &ProblemType{"malformed-request", "The request is malformed", http.StatusBadRequest,
		"The request body is not valid JSON, has a value of the wrong type, a field the operation does not know, or a body where none is taken. The errors member names the field when it can. Fix the request before sending it again."}
	probUnauthenticated = &ProblemType{"unauthenticated", "Sign-in required", http.StatusUnauthorized,
		"The operation needs a signed-in user: send the session cookie (browsers) or an Authorization: Bearer token (the command line and integrations). A token that is unknown, expired or revoked is answered the same way."}
	probBadCredentials = &ProblemType{"bad-credentials", "Wrong email, password or link", http.StatusUnauthorized,
		"The email and password do not match an account, or an invitation or sign-in link is unknown, expired or already used. Ask the clerk for a new link if yours has expired."}
	probForbidden = &ProblemType{"forbidden", "Not allowed", http.StatusForbidden,
		"You are signed in but your roles do not allow this: only the council's clerks change its committees and meetings, only the chair or a clerk runs a meeting, only admins create councils."}
	probCSRF = &ProblemType{"csrf", "Missing or wrong CSRF token", http.StatusForbidden,
		"A browser write authenticated by the session cookie must carry the X-CSRF-Token header with the token returned at sign-in (and by GET /api/v1/me). Bearer-token requests need no CSRF token."}
	probCrossOrigin = &ProblemType{"cross-origin", "Cross-origin request refused", http.StatusForbidden,
		"Browsers may only write to Chamber from Chamber's own pages. The request came from another origin (its Origin or Sec-Fetch-Site header said so) and was refused."}
	probNotFound = &ProblemType{"not-found", "Not found", http.StatusNotFound,
		"There is no such resource, or it is not published and you may not see it. Identifiers in paths are positive whole numbers."}
	probMethod = &ProblemType{"method-not-allowed", "Method not allowed", http.StatusMethodNotAllowed,
		"The path exists but does not take this method. The Allow header lists the methods it takes."}
	probConflict = &ProblemType{"conflict", "Not possible in the current state", http.StatusConflict,
		"The request is well formed but what it asks cannot happen now: starting a meeting that has already started, removing an item that has been taken, adding an email address that is already in use. The detail says why."}
	probTooLarge = &ProblemType{"too-large", "Request body too large", http.StatusRequestEntityTooLarge,
		"JSON bodies may be at most 64 KiB, agenda imports at most 5 MiB."}
	probMediaType = &ProblemType{"unsupported-media-type", "Unsupported media type", http.StatusUnsupportedMediaType,
		"The request body's Content-Type is not one the operation takes: application/json for most, application/json or text/csv for agenda imports."}
	probValidation = &ProblemType{"validation", "The request is not valid", http.StatusUnprocessableEntity,
		"The request is well formed but some values are not acceptable. The errors member lists each problem with its field (and, for imported files, its row) and a message."}
	probRateLimited = &ProblemType{"rate-limited", "Too many attempts", http.StatusTooManyRequests,
		"Too many sign-in attempts came from your address. Wait for the number of seconds in the Retry-After header before trying again."}
	probNotReady = &ProblemType{"not-ready", "Not ready", http.StatusServiceUnavailable,
		"A service Chamber depends on (the database, Redis) is not answering. The checks member names which."}
	probInternal = &ProblemType{"internal", "Internal server error", http.StatusInternalServerError,
		"Something went wrong on the server. It has been logged with the request id; quote it when you report the problem."}
)

// The problem types of signed votes (voting/BALLOT.md says what the server checks).
var (
	probBallotMalformed = &ProblemType{"malformed-ballot", "The ballot is malformed", http.StatusBadRequest,
		"The ballot's bytes are not a version 1 ballot as voting/BALLOT.md lays them out (a wrong tag or length, a zero id, unknown flags, trailing bytes), or its signature or public key has the wrong length. Encode it again; sending the same bytes again will not help."}
	probNotEligible = &ProblemType{"not-eligible", "Not eligible to vote", http.StatusForbidden,
		"The voter may not vote in this poll under the committee's rules: not a voting member or substitute in place, not present (or not in a mode that votes) when the poll opened or now, barred by a declared interest, or not present for the whole of an item that requires it. The reason member says which (such as absent, interest or not_present_throughout); the refusal is kept for the clerk."}
	probWrongKey = &ProblemType{"wrong-key", "The key does not belong to the signer", http.StatusForbidden,
		"The key that signed the ballot belongs to someone other than its signer (the voter, or the clerk who recorded the vote). Sign with your own approved device key."}
	probKeyNotApproved = &ProblemType{"key-not-approved", "The key is not approved", http.StatusForbidden,
		"The device key is not enrolled, or a clerk has not approved it yet. Enrol it (POST /api/v1/me/keys) and ask the clerk to approve it; ballots it signs count only after that."}
	probKeyRevoked = &ProblemType{"key-revoked", "The key is revoked", http.StatusForbidden,
		"The device key was revoked (a lost device, say) and signs nothing from then on. Enrol a new key and have it approved."}
	probNotPresiding = &ProblemType{"not-presiding", "Not the person presiding", http.StatusForbidden,
		"Only the member presiding over the poll gives its casting vote."}
	probPollClosed = &ProblemType{"poll-closed", "The poll is not open", http.StatusConflict,
		"The poll has closed, its closing time has passed, or (for a casting vote, or a declaration that none will come) its result has been declared. Ballots arriving after the close are refused and kept for the clerk."}
	probPollOpen = &ProblemType{"poll-open", "The poll is still open", http.StatusConflict,
		"What was asked needs a closed poll, such as a casting vote, which is given (or declared not to come) only once the poll has closed on an equality."}
	probReplay = &ProblemType{"replay", "The nonce has been used before", http.StatusConflict,
		"The voter has already used this ballot's nonce in the poll for a different ballot. A new ballot (a changed vote) needs fresh random bytes; the very same ballot sent again is not refused but answered with its first receipt."}
	probInquorate = &ProblemType{"inquorate", "The quorum is not present", http.StatusConflict,
		"The poll cannot open because fewer members are present (in a mode that counts) than the quorum the committee's rules require."}
	probNoTie = &ProblemType{"no-tie", "There is no equality to resolve", http.StatusConflict,
		"A casting vote resolves an equality of votes, and only an equality awaiting one can be left standing without it: the poll did not close on one, or the option chosen is not one of those in the equality."}
	probBadSignature = &ProblemType{"bad-signature", "The signature does not verify", http.StatusUnprocessableEntity,
		"The Ed25519 signature does not verify over the ballot's bytes with the public key sent. Sign the exact bytes with the key whose public half you send."}
	probWrongPoll = &ProblemType{"wrong-poll", "The ballot is for another poll", http.StatusUnprocessableEntity,
		"The ballot names another meeting, item or poll than the one it was sent to, or carries another poll's challenge. Take the challenge from the poll (GET …/polls/{poll}) when you make the ballot."}
	probInvalidChoice = &ProblemType{"invalid-choice", "The choice is not an option of the poll", http.StatusUnprocessableEntity,
		"The ballot chooses an option key the poll does not offer. The poll lists its options."}
	probInvalidPoll = &ProblemType{"invalid-poll", "The poll cannot be decided as defined", http.StatusUnprocessableEntity,
		"The poll's definition is not valid: an unknown method, missing, invalid or repeated options, a closing time that has passed, a motion of another item, an override without a reason, or nobody to preside where the rules give a casting vote. The detail says which."}
	probNoCastingVote = &ProblemType{"no-casting-vote", "The rules give no casting vote", http.StatusUnprocessableEntity,
		"The committee's rules do not give the person presiding a casting vote, so none is taken, nor declared not to come."}
	probBadProof = &ProblemType{"bad-proof", "The proof does not verify", http.StatusUnprocessableEntity,
		"An inclusion or consistency proof, or a checkpoint, does not verify against the log."}
	probNamedVote = &ProblemType{"named-vote", "A recorded vote takes names, not a count", http.StatusConflict,
		"A show of hands counted in the room is recorded by its numbers only in a poll that is not a recorded (named) vote. In a recorded vote, record each member's vote by name (POST …/polls/{poll}/in-room)."}
	probOverCount = &ProblemType{"over-count", "More votes than members who may give them", http.StatusConflict,
		"A count of hands may not be larger than the number of eligible members present who have not voted on their own devices; and once the clerk has counted hands, a member who had not voted may vote on their device only if the count left room for them. Count again (the last count replaces the one before)."}
)

// The problem types of the minutes and webhooks: what they refuse as invalid, with the
// domain's reason in the detail.
var (
	probMinutesInvalid = &ProblemType{"invalid-minutes", "The minutes cannot be changed as asked", http.StatusUnprocessableEntity,
		"The request names an item that is not in the minutes, gives an item neither notes nor a decision, gives text longer than 100,000 characters or not in UTF-8, asks for a correction without a reason (at most 2,000 characters) or one that changes nothing, or approves the minutes at a meeting that is not a later meeting of the same committee. The detail says which."}
	probWebhookInvalid = &ProblemType{"invalid-webhook", "The webhook is not valid", http.StatusUnprocessableEntity,
		"The webhook's URL is not https (http is allowed for localhost only) or has no host, an event type is not one webhooks deliver (GET /api/v1/webhook-event-types lists them), the description is longer than 500 characters, or a rotated secret's grace period is negative or longer than seven days. The detail says which."}
)

// ProblemTypes lists every problem type, for the documentation pages and the OpenAPI
// description.
func ProblemTypes() []ProblemType {
	out := make([]ProblemType, len(problemTypes))
	for i, p := range problemTypes {
		out[i] = *p
	}
	return out
}

var problemTypes = []*ProblemType{
	probMalformed, probUnauthenticated, probBadCredentials, probForbidden, probCSRF, probCrossOrigin,
	probNotFound, probMethod, probConflict, probTooLarge, probMediaType, probValidation,
	probRateLimited, probNotReady, probInternal,
	probBallotMalformed, probNotEligible, probWrongKey, probKeyNotApproved, probKeyRevoked, probNotPresiding,
	probPollClosed, probPollOpen, probReplay, probInquorate, probNoTie,
	probBadSignature, probWrongPoll, probInvalidChoice, probInvalidPoll, probNoCastingVote, probBadProof,
	probNamedVote, probOverCount,
	probMinutesInvalid, probWebhookInvalid,
}

func problemType(name string) (*ProblemType, bool) {
	for _, p := range problemTypes {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// errorTable maps the domain packages' errors to problem types; the first match wins.
// It is the only place where a domain error becomes an HTTP status.
var errorTable = []struct {
	err  error
	kind *ProblemType
}{
	{agenda.ErrInvalid, probValidation},
	{agenda.ErrNotFound, probNotFound},
	{agenda.ErrConflict, probConflict},
	{agenda.ErrUnauthenticated, probUnauthenticated},
	{agenda.ErrBadCredentials, probBadCredentials},
	{agenda.ErrForbidden, probForbidden},

	{voting.ErrNotEligible, probNotEligible},
	{voting.ErrWrongKey, probWrongKey},
	{voting.ErrKeyNotApproved, probKeyNotApproved},
	{voting.ErrKeyRevoked, probKeyRevoked},
	{voting.ErrNotPresiding, probNotPresiding},
	{voting.ErrPollClosed, probPollClosed},
	{voting.ErrPollOpen, probPollOpen},
	{voting.ErrReplay, probReplay},
	{voting.ErrInquorate, probInquorate},
	{voting.ErrNoTie, probNoTie},
	{voting.ErrBadSignature, probBadSignature},
	{voting.ErrWrongPoll, probWrongPoll},
	{voting.ErrInvalidChoice, probInvalidChoice},
	{voting.ErrInvalidPoll, probInvalidPoll},
	{voting.ErrNoCastingVote, probNoCastingVote},
	{voting.ErrBadProof, probBadProof},
	{voting.ErrNamedVote, probNamedVote},
	{voting.ErrOverCount, probOverCount},
	{voting.ErrMalformed, probBallotMalformed},
	{voting.ErrNotFound, probNotFound},
	{voting.ErrConflict, probConflict},
	{voting.ErrUnauthenticated, probUnauthenticated},
	{voting.ErrForbidden, probForbidden},

	{minutes.ErrInvalid, probMinutesInvalid},
	{minutes.ErrNotFound, probNotFound},
	{minutes.ErrConflict, probConflict},
	{minutes.ErrUnauthenticated, probUnauthenticated},
	{minutes.ErrForbidden, probForbidden},

	{webhooks.ErrInvalid, probWebhookInvalid},
	{webhooks.ErrNotFound, probNotFound},
	{webhooks.ErrConflict, probConflict},
	{webhooks.ErrUnauthenticated, probUnauthenticated},
	{webhooks.ErrForbidden, probForbidden},
}

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Errors lists what is wrong with each field (validation and malformed requests).
	Errors []agenda.FieldError `json:"errors,omitempty"`
	// Checks names the readiness checks and their state (not-ready).
	Checks map[string]string `json:"checks,omitempty"`
	// Reason is, for a voter who may not vote (not-eligible), why: a stable code such
	// as absent, interest or not_present_throughout.
	Reason string `json:"reason,omitempty"`
	// RequestID is the id the server logged the request under.
	RequestID string `json:"request_id,omitempty"`
}

// httpError is an error the web layer raises itself, with its problem type.
type httpError struct {
	kind   *ProblemType
	reason string
	detail string
	fields []agenda.FieldError
	checks map[string]string
}

func (e *httpError) Error() string {
	if e.detail != "" {
		return e.kind.Title + ": " + e.detail
	}
	return e.kind.Title
}

// classify finds the problem for an error: the web layer's own, or the domain's through
// errorTable. Anything else is internal, reported without detail.
func classify(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &httpError{kind: probTooLarge}
	}
	for _, row := range errorTable {
		if !errors.Is(err, row.err) {
			continue
		}
		out := &httpError{kind: row.kind}
		var ve *agenda.ValidationError
		if errors.As(err, &ve) {
			out.fields = ve.Fields
			out.detail = "See errors for each problem."
			return out
		}
		out.detail = detailOf(err, row.err)
		var ie *voting.IneligibleError
		if errors.As(err, &ie) {
			out.reason = string(ie.Reason)
		}
		return out
	}
	return &httpError{kind: probInternal}
}

// detailOf is the human part of a domain error: "meeting 3 is closed: conflict" says
// "meeting 3 is closed". A bare sentinel has no detail beyond the title.
func detailOf(err, sentinel error) string {
	msg := err.Error()
	if msg == sentinel.Error() {
		return ""
	}
	msg = strings.TrimSuffix(msg, ": "+sentinel.Error())
	if msg == "" {
		return ""
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (s *Server) typeURI(p *ProblemType) string {
	return s.public + "/problems/" + p.Name
}

// problem answers with the problem for err as application/problem+json. Internal errors
// are logged with the request id; the answer carries no detail.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	he := s.report(r, err)
	p := Problem{
		Type:      s.typeURI(he.kind),
		Title:     he.kind.Title,
		Status:    he.kind.Status,
		Detail:    he.detail,
		Instance:  r.URL.Path,
		Errors:    he.fields,
		Reason:    he.reason,
		Checks:    he.checks,
		RequestID: info(r).id,
	}
	if he.kind.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chamber"`)
	}
	if info(r).route != nil && info(r).route.secretPath {
		p.Instance = "" // the path holds a token
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(p)
}

// report classifies err and logs what the server should know about.
func (s *Server) report(r *http.Request, err error) *httpError {
	he := classify(err)
	if he.kind == probInternal && !errors.As(err, new(*httpError)) {
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			s.log.Debug("request cancelled", "request_id", info(r).id, "err", err)
		} else {
			s.log.Error("internal error", "request_id", info(r).id, "err", err)
		}
	}
	return he
}
