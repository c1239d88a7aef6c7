package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// Signed votes: device keys, polls, ballots with their receipts, and the meeting's
// verifiable log and record. The handlers only translate between HTTP and
// voting.Service, which makes every decision.

// EnrolKeyRequest enrols one of the caller's device keys.
type EnrolKeyRequest struct {
	// PublicKey is the standard base64 of the Ed25519 public key's 32 raw bytes (what
	// WebCrypto's exportKey("raw") gives).
	PublicKey string `json:"public_key"`
	// Label tells the caller's devices apart, such as "laptop" or "CLI".
	Label string `json:"label,omitempty"`
}

// OpenPollRequest opens a poll on the meeting's current item (or one of its motions).
type OpenPollRequest struct {
	// ItemID is the item put to the vote; the meeting's current item when left out. It
	// must be the current item.
	ItemID   int64 `json:"item_id,omitempty"`
	MotionID int64 `json:"motion_id,omitempty"`
	// Question is what is put to the vote; by default the item's number and title.
	Question string `json:"question,omitempty"`
	// Options are the option keys; for, against and abstain by default.
	Options []string `json:"options,omitempty"`
	// Method is how the poll is decided.
	Method voting.Method `json:"method,omitempty" jsonschema:"enum=majority,enum=two_thirds,enum=absolute,enum=plurality"`
	// Recorded makes it a recorded (named) vote.
	Recorded bool `json:"recorded,omitempty"`
	// ShowLiveTally shows running counts per option to everyone while the poll is open.
	ShowLiveTally bool `json:"show_live_tally,omitempty"`
	// ClosesAt closes the poll at that time; without it the poll is closed by hand.
	ClosesAt time.Time `json:"closes_at,omitzero"`
	// Presiding names the member presiding where neither the chair nor a vice-chair
	// may vote on the item.
	Presiding int64 `json:"presiding,omitempty"`
	// Overrides let members vote who were not present for the whole of an item that
	// requires it, each with the chair's reason.
	Overrides []voting.OverrideInput `json:"overrides,omitempty"`
}

// NoCastingVoteRequest records that no casting vote will come in a poll that closed
// on an equality: the member presiding has left, or declines to use it.
type NoCastingVoteRequest struct {
	// Reason says why, for the log and the minutes: at most 500 characters.
	Reason string `json:"reason"`
}

// InRoomRequest carries votes the clerk records: a show of hands by name, or proxy
// votes, each a ballot naming its voter and signed with the clerk's own key.
type InRoomRequest struct {
	Ballots []voting.SignedBallot `json:"ballots"`
}

// ReceiptResponse answers a ballot (or a count of hands): its receipt (leaf index,
// inclusion proof and the signed checkpoint the proof is against) and the SHA-256 of
// the signed bytes, in hex.
type ReceiptResponse struct {
	voting.Receipt
	Ballot string `json:"ballot_hash"`
	// first: the ballot was taken now (201), not before (200).
	first bool
}

func (r ReceiptResponse) statusCode() int {
	if r.first {
		return http.StatusCreated
	}
	return http.StatusOK
}

// InRoomResponse lists the receipts of the votes the clerk recorded, in order.
type InRoomResponse struct {
	Receipts []ReceiptResponse `json:"receipts"`
}

// ServerKeyResponse is the server's log key, which the council publishes: every
// meeting's checkpoints are signed with it.
type ServerKeyResponse struct {
	// PublicKey is the standard base64 of the Ed25519 public key.
	PublicKey string `json:"public_key"`
	// VerifierKeyFormat says how a meeting's note verifier key derives from it.
	VerifierKeyFormat string `json:"verifier_key_format"`
}

// LogResponse describes a meeting's vote log: its name, the verifier key that checks
// its checkpoints, and the latest signed checkpoint.
type LogResponse struct {
	Origin      string `json:"origin"`
	VerifierKey string `json:"verifier_key"`
	Size        int64  `json:"size"`
	Checkpoint  string `json:"checkpoint"`
}

// ConsistencyResponse proves that the log at size To extends the log at size From.
type ConsistencyResponse struct {
	From  int64          `json:"from"`
	To    int64          `json:"to"`
	Proof tlog.TreeProof `json:"proof"`
}

// InclusionResponse proves that entry Index is in the log at size Size.
type InclusionResponse struct {
	Index int64            `json:"index"`
	Size  int64            `json:"size"`
	Proof tlog.RecordProof `json:"proof"`
}

// keyQuery filters a list of keys by status.
var keyQuery = []Param{{Name: "status", Type: "string", Enum: []string{"pending", "approved", "revoked"},
	Description: "Only keys in this state."}}

// voteRoutes are the routes of signed votes.
func (s *Server) voteRoutes() []Route {
	const (
		meeting = "/api/v1/meetings/{meeting}"
		poll    = meeting + "/polls/{poll}"
	)
	return []Route{
		// Device keys.
		op(get, "/api/v1/me/keys", SignedIn, s.listMyKeys).doc("listMyKeys", "votes", "List your device keys for signing ballots").query(keyQuery...),
		jsonOp(post, "/api/v1/me/keys", SignedIn, s.enrolKey).doc("enrolKey", "votes",
			"Enrol a device key (its public half) for signing your ballots; a clerk approves it before it counts").status(http.StatusCreated),
		op(get, "/api/v1/users/{user}/keys", SignedIn, s.listUserKeys).doc("listUserKeys", "votes",
			"List a person's device keys (their own, or clerks of their council)").query(keyQuery...),
		op(get, "/api/v1/councils/{council}/keys", SignedIn, s.listCouncilKeys).doc("listCouncilKeys", "votes",
			"List the device keys of a council's people, such as those awaiting approval (clerks)").query(keyQuery...),
		op(get, "/api/v1/keys/{key}", SignedIn, s.getKey).doc("getKey", "votes", "Get a device key (its owner, or clerks of their council)"),
		op(post, "/api/v1/keys/{key}/approve", SignedIn, s.approveKey).doc("approveKey", "votes",
			"Approve a device key (clerks of its owner's council; a clerk's own key by another clerk or an admin)"),
		op(post, "/api/v1/keys/{key}/revoke", SignedIn, s.revokeKey).doc("revokeKey", "votes",
			"Revoke a device key (its owner, say for a lost device, or clerks); ballots it signed before stay"),
		op(get, "/api/v1/log-key", Public, s.serverKey).doc("getServerKey", "votes",
			"The server's public log key, which signs every meeting's checkpoints"),

		// Polls and ballots.
		op(get, meeting+"/polls", Public, s.listPolls).doc("listPolls", "votes", "A meeting's polls in the order they opened (the public: none on exempt business)"),
		jsonOp(post, meeting+"/polls", SignedIn, s.openPoll).doc("openPoll", "votes",
			"Open a poll on the current item (chair or clerk): the roll is taken now and the quorum checked").status(http.StatusCreated),
		op(get, poll, Public, s.getPoll).doc("getPoll", "votes", "Get a poll, with the challenge its ballots carry, and its result once closed"),
		op(post, poll+"/close", SignedIn, s.closePoll).doc("closePoll", "votes",
			"Close a poll (chair or clerk) and decide it; on an equality it awaits the casting vote"),
		op(get, poll+"/progress", Public, s.pollProgress).doc("pollProgress", "votes",
			"How many have voted; the chair and clerk also see who has not; counts per option where shown"),
		jsonOp(post, poll+"/ballots", SignedIn, s.castBallot).doc("castBallot", "votes",
			"Cast a signed ballot (voting/BALLOT.md) and get its receipt once it is committed; the same ballot again gets the same receipt (200)").
			status(http.StatusCreated).alsoStatus(http.StatusOK).identityOnly(),
		jsonOp(post, poll+"/casting-vote", SignedIn, s.castCastingVote).doc("castCastingVote", "votes",
			"The presiding member's signed casting vote on a poll that closed on an equality").
			status(http.StatusCreated).alsoStatus(http.StatusOK).identityOnly(),
		jsonOp(post, poll+"/no-casting-vote", SignedIn, s.declineCasting).doc("declineCastingVote", "votes",
			"Record that no casting vote will come on a poll that closed on an equality (the member presiding, the chair or a clerk), and why: the equality stands, so a motion is lost and a choice is not made"),
		jsonOp(post, poll+"/in-room", SignedIn, s.recordInRoom).doc("recordInRoom", "votes",
			"Record votes given in the room or by proxy, each signed with the clerk's key (clerks); the same list again gets the same receipts").
			status(http.StatusCreated),
		jsonOp(post, poll+"/room-count", SignedIn, s.recordCount).doc("recordRoomCount", "votes",
			"Record a show of hands counted in the room, by its numbers, signed with the clerk's key (clerks; not in a recorded vote); the last count replaces the one before; the same count again gets the same receipt (200)").
			status(http.StatusCreated).alsoStatus(http.StatusOK),
		op(get, "/api/v1/polls/{poll}/refusals", SignedIn, s.pollRefusals).doc("listPollRefusals", "votes",
			"The ballots and counts refused in a poll: who sent each, the member it named, the reason and when (chair or clerk)"),

		// The verifiable log and record.
		op(get, meeting+"/log", Public, s.meetingLog).doc("getVoteLog", "votes", "The meeting's vote log: its origin, verifier key and latest signed checkpoint"),
		rawOp(get, meeting+"/log/checkpoint", Public, "text/plain", s.checkpoint).doc("getCheckpoint", "votes",
			"The latest checkpoint of the meeting's vote log, as a signed note"),
		op(get, meeting+"/log/consistency", Public, s.consistency).doc("getConsistencyProof", "votes",
			"Proof that the log at one size extends the log at a smaller one").
			query(Param{Name: "from", Type: "integer", Format: "int64", Description: "The smaller size."},
				Param{Name: "to", Type: "integer", Format: "int64", Description: "The larger size (default: the log's size)."}),
		op(get, meeting+"/log/inclusion", Public, s.inclusion).doc("getInclusionProof", "votes",
			"Proof that an entry is in the log at a size").
			query(Param{Name: "index", Type: "integer", Format: "int64", Description: "The entry's leaf index."},
				Param{Name: "size", Type: "integer", Format: "int64", Description: "The tree size (default: the log's size)."}),
		op(get, meeting+"/record", Public, s.voteRecord).doc("getVoteRecord", "votes",
			"The meeting's verifiable vote record, for chamber verify (exempt business withheld from the public)"),
	}
}

// Keys.

// keysWith filters keys by the status query parameter.
func (s *Server) keysWith(c *call, keys []voting.Key, err error) ([]voting.Key, error) {
	if err != nil {
		return nil, err
	}
	status := c.r.URL.Query().Get("status")
	switch status {
	case "":
		return nonNil(keys), nil
	case string(voting.KeyPending), string(voting.KeyApproved), string(voting.KeyRevoked):
	default:
		return nil, &agenda.ValidationError{Fields: []agenda.FieldError{{Field: "status", Message: "must be pending, approved or revoked"}}}
	}
	now := s.now()
	out := []voting.Key{}
	for _, k := range keys {
		if string(k.Status(now)) == status {
			out = append(out, k)
		}
	}
	return out, nil
}

func (s *Server) listMyKeys(c *call) ([]voting.Key, error) {
	keys, err := s.votes.ListKeys(c.r.Context(), c.actor, c.actor.UserID)
	return s.keysWith(c, keys, err)
}

func (s *Server) listUserKeys(c *call) ([]voting.Key, error) {
	user, err := c.id("user")
	if err != nil {
		return nil, err
	}
	keys, err := s.votes.ListKeys(c.r.Context(), c.actor, user)
	return s.keysWith(c, keys, err)
}

func (s *Server) listCouncilKeys(c *call) ([]voting.Key, error) {
	council, err := c.id("council")
	if err != nil {
		return nil, err
	}
	if _, err := s.svc.GetCouncil(c.r.Context(), council); err != nil {
		return nil, err
	}
	keys, err := s.votes.CouncilKeys(c.r.Context(), c.actor, council)
	return s.keysWith(c, keys, err)
}

// enrolKey checks the key and label here, so that a mistake is answered field by
// field; the service checks them again.
func (s *Server) enrolKey(c *call, in EnrolKeyRequest) (voting.Key, error) {
	var fields []agenda.FieldError
	pub, err := voting.ParsePublicKey(strings.TrimSpace(in.PublicKey))
	if err != nil {
		fields = append(fields, agenda.FieldError{Field: "public_key",
			Message: "must be the standard base64 of an Ed25519 public key's 32 raw bytes"})
	}
	label := strings.TrimSpace(in.Label)
	if len(label) > voting.MaxKeyLabel || !utf8.ValidString(label) {
		fields = append(fields, agenda.FieldError{Field: "label", Message: fmt.Sprintf("must be at most %d bytes of text", voting.MaxKeyLabel)})
	}
	if len(fields) > 0 {
		return voting.Key{}, &agenda.ValidationError{Fields: fields}
	}
	return s.votes.EnrolKey(c.r.Context(), c.actor, pub, label)
}

// keyID reads a key id from the path: 32 lowercase hex digits, else not found.
func (c *call) keyID() (voting.KeyID, error) {
	v := c.r.PathValue("key")
	ok := len(v) == 32
	for i := 0; ok && i < len(v); i++ {
		ok = '0' <= v[i] && v[i] <= '9' || 'a' <= v[i] && v[i] <= 'f'
	}
	if !ok {
		return "", &httpError{kind: probNotFound, detail: fmt.Sprintf("%q is not a key id.", v)}
	}
	return voting.KeyID(v), nil
}

func (s *Server) keyAction(f func(context.Context, agenda.Actor, voting.KeyID) (voting.Key, error)) func(*call) (voting.Key, error) {
	return func(c *call) (voting.Key, error) {
		id, err := c.keyID()
		if err != nil {
			return voting.Key{}, err
		}
		return f(c.r.Context(), c.actor, id)
	}
}

func (s *Server) getKey(c *call) (voting.Key, error)     { return s.keyAction(s.votes.Key)(c) }
func (s *Server) approveKey(c *call) (voting.Key, error) { return s.keyAction(s.votes.ApproveKey)(c) }
func (s *Server) revokeKey(c *call) (voting.Key, error)  { return s.keyAction(s.votes.RevokeKey)(c) }

func (s *Server) serverKey(c *call) (ServerKeyResponse, error) {
	return ServerKeyResponse{PublicKey: s.votes.ServerKey(),
		VerifierKeyFormat: "<origin>+<8 hex digits of the key hash>+<base64 of 0x01 and the public key> (C2SP signed-note), origin <deployment>/meetings/<meeting id>"}, nil
}

// Polls.

func (s *Server) listPolls(c *call) ([]voting.PollView, error) {
	id, err := c.id("meeting")
	if err != nil {
		return nil, err
	}
	if _, err := s.svc.GetMeeting(c.r.Context(), c.actor, id); err != nil {
		return nil, err
	}
	return s.votes.MeetingPolls(c.r.Context(), c.actor, id)
}

func (s *Server) openPoll(c *call, in OpenPollRequest) (voting.PollView, error) {
	id, err := c.id("meeting")
	if err != nil {
		return voting.PollView{}, err
	}
	ctx := c.r.Context()
	if in.ItemID == 0 {
		m, err := s.svc.GetMeeting(ctx, c.actor, id)
		if err != nil {
			return voting.PollView{}, err
		}
		if m.CurrentItemID == 0 {
			return voting.PollView{}, fmt.Errorf("open a poll: meeting %d has no current item: %w", id, agenda.ErrConflict)
		}
		in.ItemID = m.CurrentItemID
	}
	return s.votes.OpenPoll(ctx, c.actor, voting.PollInput{
		MeetingID: id, ItemID: in.ItemID, MotionID: in.MotionID, Question: in.Question, Options: in.Options,
		Method: in.Method, Recorded: in.Recorded, ShowLiveTally: in.ShowLiveTally, ClosesAt: in.ClosesAt,
		Presiding: in.Presiding, Overrides: in.Overrides,
	})
}

// poll reads the poll named by the path, as not found unless it is the meeting's and
// the caller may see it.
func (s *Server) poll(c *call) (voting.PollView, error) {
	m, id, err := c.meetingAnd("poll")
	if err != nil {
		return voting.PollView{}, err
	}
	p, err := s.votes.Poll(c.r.Context(), c.actor, id)
	if err != nil {
		return voting.PollView{}, err
	}
	if p.Meeting != m {
		return voting.PollView{}, fmt.Errorf("poll %d of meeting %d: %w", id, m, voting.ErrNotFound)
	}
	return p, nil
}

func (s *Server) getPoll(c *call) (voting.PollView, error) { return s.poll(c) }

func (s *Server) closePoll(c *call) (voting.PollView, error) {
	p, err := s.poll(c)
	if err != nil {
		return voting.PollView{}, err
	}
	return s.votes.Close(c.r.Context(), c.actor, p.ID)
}

func (s *Server) pollProgress(c *call) (voting.Progress, error) {
	m, id, err := c.meetingAnd("poll")
	if err != nil {
		return voting.Progress{}, err
	}
	pr, err := s.votes.Progress(c.r.Context(), c.actor, id)
	if err != nil {
		return voting.Progress{}, err
	}
	if pr.Meeting != m {
		return voting.Progress{}, fmt.Errorf("poll %d of meeting %d: %w", id, m, voting.ErrNotFound)
	}
	return pr, nil
}

// Ballots.

// ballotFor checks that a ballot is for the poll the path names. A ballot that names
// another poll is refused as such, unless the path's poll does not exist (for the
// caller), which is not found.
func (s *Server) ballotFor(c *call, sb voting.SignedBallot) error {
	m, id, err := c.meetingAnd("poll")
	if err != nil {
		return err
	}
	b, err := voting.ParseBallot(sb.Bytes)
	if err != nil {
		return err
	}
	if b.Recorder != 0 {
		// A vote recorded by a clerk: the clerk's roles are checked.
		if err := c.loadRoles(); err != nil {
			return err
		}
	}
	if b.Meeting == m && b.Poll == id {
		return nil
	}
	if err := c.loadRoles(); err != nil {
		return err
	}
	if _, err := s.poll(c); err != nil {
		return err
	}
	return fmt.Errorf("a ballot for meeting %d poll %d sent to meeting %d poll %d: %w", b.Meeting, b.Poll, m, id, voting.ErrWrongPoll)
}

// submit casts a ballot with f and answers its receipt. A ballot for a poll that
// does not exist is not found.
func (s *Server) submit(c *call, sb voting.SignedBallot,
	f func(context.Context, agenda.Actor, voting.Credential, voting.SignedBallot) (voting.Receipt, bool, error)) (ReceiptResponse, error) {
	if err := s.ballotFor(c, sb); err != nil {
		return ReceiptResponse{}, err
	}
	r, first, err := f(c.r.Context(), c.actor, c.cred, sb)
	if errors.Is(err, voting.ErrUnauthenticated) {
		// The token was revoked, or the session ended, since it was read.
		s.held.forget(c.held)
		return ReceiptResponse{}, &httpError{kind: probUnauthenticated, detail: "The sign-in this ballot was sent with has ended or been revoked; sign in again."}
	}
	if errors.Is(err, voting.ErrWrongPoll) {
		if err := c.loadRoles(); err != nil {
			return ReceiptResponse{}, err
		}
		if _, perr := s.poll(c); perr != nil {
			return ReceiptResponse{}, perr
		}
	}
	if err != nil {
		return ReceiptResponse{}, err
	}
	return receiptOf(r, sb, first), nil
}

func receiptOf(r voting.Receipt, sb voting.SignedBallot, first bool) ReceiptResponse {
	h := sb.Hash()
	return ReceiptResponse{Receipt: r, Ballot: fmt.Sprintf("%x", h[:]), first: first}
}

func (s *Server) castBallot(c *call, sb voting.SignedBallot) (ReceiptResponse, error) {
	return s.submit(c, sb, s.votes.Submit)
}

func (s *Server) castCastingVote(c *call, sb voting.SignedBallot) (ReceiptResponse, error) {
	return s.submit(c, sb, s.votes.SubmitCasting)
}

func (s *Server) declineCasting(c *call, in NoCastingVoteRequest) (voting.PollView, error) {
	p, err := s.poll(c)
	if err != nil {
		return voting.PollView{}, err
	}
	return s.votes.DeclineCasting(c.r.Context(), c.actor, p.ID, in.Reason)
}

func (s *Server) recordInRoom(c *call, in InRoomRequest) (InRoomResponse, error) {
	if len(in.Ballots) == 0 {
		return InRoomResponse{}, &agenda.ValidationError{Fields: []agenda.FieldError{{Field: "ballots", Message: "must list at least one ballot"}}}
	}
	for _, sb := range in.Ballots {
		if err := s.ballotFor(c, sb); err != nil {
			return InRoomResponse{}, err
		}
	}
	receipts, err := s.votes.RecordInRoom(c.r.Context(), c.actor, in.Ballots)
	if err != nil {
		return InRoomResponse{}, err
	}
	out := InRoomResponse{Receipts: make([]ReceiptResponse, len(receipts))}
	for i, r := range receipts {
		out.Receipts[i] = receiptOf(r, in.Ballots[i], true)
	}
	return out, nil
}

func (s *Server) recordCount(c *call, sc voting.SignedCount) (ReceiptResponse, error) {
	m, id, err := c.meetingAnd("poll")
	if err != nil {
		return ReceiptResponse{}, err
	}
	n, err := voting.ParseCount(sc.Bytes)
	if err != nil {
		return ReceiptResponse{}, err
	}
	if n.Meeting != m || n.Poll != id {
		if _, err := s.poll(c); err != nil {
			return ReceiptResponse{}, err
		}
		return ReceiptResponse{}, fmt.Errorf("a count for meeting %d poll %d sent to meeting %d poll %d: %w", n.Meeting, n.Poll, m, id, voting.ErrWrongPoll)
	}
	r, first, err := s.votes.RecordCount(c.r.Context(), c.actor, sc)
	if errors.Is(err, voting.ErrWrongPoll) {
		if _, perr := s.poll(c); perr != nil {
			return ReceiptResponse{}, perr
		}
	}
	if err != nil {
		return ReceiptResponse{}, err
	}
	h := sc.Hash()
	return ReceiptResponse{Receipt: r, Ballot: fmt.Sprintf("%x", h[:]), first: first}, nil
}

func (s *Server) pollRefusals(c *call) ([]voting.Refusal, error) {
	id, err := c.id("poll")
	if err != nil {
		return nil, err
	}
	return s.votes.Refusals(c.r.Context(), c.actor, id)
}

// The log and the record.

// visibleMeeting checks that the caller may see the meeting the path names.
func (s *Server) visibleMeeting(c *call) (int64, error) {
	id, err := c.id("meeting")
	if err != nil {
		return 0, err
	}
	if _, err := s.svc.GetMeeting(c.r.Context(), c.actor, id); err != nil {
		return 0, err
	}
	return id, nil
}

func (s *Server) meetingLog(c *call) (LogResponse, error) {
	id, err := s.visibleMeeting(c)
	if err != nil {
		return LogResponse{}, err
	}
	ctx := c.r.Context()
	signed, err := s.votes.Checkpoint(ctx, id)
	if err != nil {
		return LogResponse{}, err
	}
	vkey, err := s.votes.VerifierKey(ctx, id)
	if err != nil {
		return LogResponse{}, err
	}
	cp, err := voting.OpenCheckpoint(signed, vkey)
	if err != nil {
		return LogResponse{}, err
	}
	return LogResponse{Origin: cp.Origin, VerifierKey: vkey, Size: cp.Size, Checkpoint: string(signed)}, nil
}

func (s *Server) checkpoint(c *call) error {
	id, err := s.visibleMeeting(c)
	if err != nil {
		return err
	}
	signed, err := s.votes.Checkpoint(c.r.Context(), id)
	if err != nil {
		return err
	}
	h := c.w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(signed)
	return nil
}

// logSize is the size the query names, or the log's size now.
func (s *Server) logSize(c *call, id, given int64) (int64, error) {
	if given > 0 {
		return given, nil
	}
	ctx := c.r.Context()
	signed, err := s.votes.Checkpoint(ctx, id)
	if err != nil {
		return 0, err
	}
	vkey, err := s.votes.VerifierKey(ctx, id)
	if err != nil {
		return 0, err
	}
	cp, err := voting.OpenCheckpoint(signed, vkey)
	if err != nil {
		return 0, err
	}
	return cp.Size, nil
}

func (s *Server) consistency(c *call) (ConsistencyResponse, error) {
	id, err := s.visibleMeeting(c)
	if err != nil {
		return ConsistencyResponse{}, err
	}
	q := query{c: c}
	from, to := q.int("from"), q.int("to")
	if err := q.err(); err != nil {
		return ConsistencyResponse{}, err
	}
	if to, err = s.logSize(c, id, to); err != nil {
		return ConsistencyResponse{}, err
	}
	proof, err := s.votes.ConsistencyProof(c.r.Context(), id, from, to)
	if err != nil {
		return ConsistencyResponse{}, err
	}
	return ConsistencyResponse{From: from, To: to, Proof: nonNil(proof)}, nil
}

func (s *Server) inclusion(c *call) (InclusionResponse, error) {
	id, err := s.visibleMeeting(c)
	if err != nil {
		return InclusionResponse{}, err
	}
	q := query{c: c}
	index, size := q.int("index"), q.int("size")
	if err := q.err(); err != nil {
		return InclusionResponse{}, err
	}
	if size, err = s.logSize(c, id, size); err != nil {
		return InclusionResponse{}, err
	}
	proof, err := s.votes.InclusionProof(c.r.Context(), id, index, size)
	if err != nil {
		return InclusionResponse{}, err
	}
	return InclusionResponse{Index: index, Size: size, Proof: nonNil(proof)}, nil
}

func (s *Server) voteRecord(c *call) (*voting.Record, error) {
	id, err := s.visibleMeeting(c)
	if err != nil {
		return nil, err
	}
	return s.votes.Record(c.r.Context(), c.actor, id)
}
