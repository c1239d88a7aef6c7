package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ProtocolVersion is the version of the signalling protocol in PROTOCOL.md. A client
// names it in its join message.
const ProtocolVersion = 1

// Types of the messages a client sends.
const (
	MsgJoin              = "join"
	MsgLeave             = "leave"
	MsgPing              = "ping"
	MsgPublish           = "publish"
	MsgOffer             = "offer" // also sent by the server
	MsgAnswer            = "answer"
	MsgCandidate         = "candidate"
	MsgMute              = "mute"
	MsgUnmute            = "unmute"
	MsgRaiseHand         = "raise_hand"
	MsgLowerHand         = "lower_hand"
	MsgGrantFloor        = "grant_floor"
	MsgWithdrawFloor     = "withdraw_floor"
	MsgNextSpeaker       = "next_speaker"
	MsgMuteParticipant   = "mute_participant"
	MsgMuteAll           = "mute_all"
	MsgRemoveParticipant = "remove_participant"
	MsgCast              = "cast"
	MsgReceive           = "receive"
)

// Types of the messages the server sends (besides offer, answer and candidate).
const (
	MsgJoined             = "joined"
	MsgClosed             = "closed"
	MsgError              = "error"
	MsgPong               = "pong"
	MsgParticipantJoined  = "participant_joined"
	MsgParticipantLeft    = "participant_left"
	MsgParticipantUpdated = "participant_updated"
	MsgTrackPublished     = "track_published"
	MsgTrackUnpublished   = "track_unpublished"
	MsgTrackUpdated       = "track_updated"
	MsgSpeaking           = "speaking"
	MsgFloor              = "floor"
	MsgHands              = "hands"
	MsgMeetingEvent       = "meeting_event"
	MsgSession            = "session"
	MsgReceipt            = "receipt"
	MsgReceiving          = "receiving"
)

// ClientMessageTypes lists every message type a client may send.
func ClientMessageTypes() []string {
	return []string{
		MsgJoin, MsgLeave, MsgPing, MsgPublish, MsgOffer, MsgAnswer, MsgCandidate, MsgMute, MsgUnmute,
		MsgRaiseHand, MsgLowerHand, MsgGrantFloor, MsgWithdrawFloor, MsgNextSpeaker,
		MsgMuteParticipant, MsgMuteAll, MsgRemoveParticipant, MsgCast, MsgReceive,
	}
}

// ServerMessageTypes lists every message type the server sends.
func ServerMessageTypes() []string {
	return []string{
		MsgJoined, MsgClosed, MsgError, MsgPong, MsgOffer, MsgAnswer, MsgCandidate,
		MsgParticipantJoined, MsgParticipantLeft, MsgParticipantUpdated,
		MsgTrackPublished, MsgTrackUnpublished, MsgTrackUpdated, MsgSpeaking,
		MsgFloor, MsgHands, MsgMeetingEvent, MsgSession, MsgReceipt, MsgReceiving,
	}
}

// Error codes carried by error messages.
const (
	CodeBadMessage         = "bad_message"         // not JSON, unknown type or missing field
	CodeUnsupportedVersion = "unsupported_version" // join named another protocol version
	CodeUnauthorized       = "unauthorized"        // missing, forged or wrong-meeting token
	CodeTokenExpired       = "token_expired"
	CodeResumeFailed       = "resume_failed" // nothing to resume: join again with a token
	CodeNotJoined          = "not_joined"    // the first message must be join
	CodeAlreadyJoined      = "already_joined"
	CodeForbidden          = "forbidden"           // needs the chair's grants
	CodePublishNotAllowed  = "publish_not_allowed" // this participant may not send media
	CodeTooManyTracks      = "too_many_tracks"
	CodeRoomFull           = "room_full"
	CodeNotFound           = "not_found" // no such participant
	CodeItemMismatch       = "item_mismatch"
	CodeGlare              = "glare" // the server's offer is pending: answer it, then offer again
	CodeNegotiation        = "negotiation_failed"
	CodeMessageTooLarge    = "message_too_large"
	CodeRateLimited        = "rate_limited"
	CodeMeetingClosed      = "meeting_closed"
	CodeUnavailable        = "unavailable" // the room cannot start or the server is stopping
	CodeBadOrigin          = "bad_origin"  // HTTP 403 on upgrade
	CodeWrongNode          = "wrong_node"  // the room is hosted by another node: connect to url
)

// Error codes that refuse a cast ballot (voting/BALLOT.md says what is checked).
const (
	CodeBallotMalformed = "ballot_malformed" // the bytes are not a ballot, or a length is wrong
	CodeBadSignature    = "bad_signature"
	CodeWrongKey        = "wrong_key"        // the key is not the signer's
	CodeKeyNotApproved  = "key_not_approved" // not enrolled, or not approved by a clerk
	CodeKeyRevoked      = "key_revoked"
	CodeWrongPoll       = "wrong_poll" // another meeting, item, poll or challenge
	CodeInvalidChoice   = "invalid_choice"
	CodePollClosed      = "poll_closed"
	CodePollOpen        = "poll_open"    // a casting vote while the poll is open
	CodeNotEligible     = "not_eligible" // the reason says why
	CodeReplay          = "replay"       // the nonce was used for another ballot
	CodeNoCastingVote   = "no_casting_vote"
	CodeNotPresiding    = "not_presiding"
	CodeNoTie           = "no_tie"
)

// ErrorCodes lists every error code.
func ErrorCodes() []string {
	return []string{
		CodeBadMessage, CodeUnsupportedVersion, CodeUnauthorized, CodeTokenExpired,
		CodeResumeFailed, CodeNotJoined, CodeAlreadyJoined, CodeForbidden,
		CodePublishNotAllowed, CodeTooManyTracks, CodeRoomFull, CodeNotFound,
		CodeItemMismatch, CodeGlare, CodeNegotiation, CodeMessageTooLarge,
		CodeRateLimited, CodeMeetingClosed, CodeUnavailable, CodeBadOrigin, CodeWrongNode,
		CodeBallotMalformed, CodeBadSignature, CodeWrongKey, CodeKeyNotApproved, CodeKeyRevoked,
		CodeWrongPoll, CodeInvalidChoice, CodePollClosed, CodePollOpen, CodeNotEligible, CodeReplay,
		CodeNoCastingVote, CodeNotPresiding, CodeNoTie,
	}
}

// Reasons carried by closed messages.
const (
	ReasonLeft          = "left"
	ReasonRemoved       = "removed"
	ReasonReplaced      = "replaced"
	ReasonMeetingClosed = "meeting_closed"
	ReasonShutdown      = "shutdown"
	ReasonTimeout       = "timeout"
	ReasonError         = "error"
	ReasonMoved         = "moved" // the room moved to another node
)

// Session states.
const (
	SessionPublic  = "public"
	SessionPrivate = "private"
)

// PrivateSessionMessage is what members of the public are shown in private session.
const PrivateSessionMessage = "The meeting is in private session."

// Media kinds.
const (
	KindAudio = "audio"
	KindVideo = "video"
)

// Candidate is a trickled ICE candidate, as in the browser's RTCIceCandidateInit.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// ClientMessage is any message a client sends; Type says which fields apply.
type ClientMessage struct {
	V         int        `json:"v,omitempty"`         // join: ProtocolVersion
	Type      string     `json:"type"`                // one of ClientMessageTypes
	ID        string     `json:"id,omitempty"`        // echoed as ref in replies and errors
	Token     string     `json:"token,omitempty"`     // join: the join token
	Resume    string     `json:"resume,omitempty"`    // join: a resume token
	LastSeq   int64      `json:"last_seq,omitempty"`  // join: replay journal events after this
	SDP       string     `json:"sdp,omitempty"`       // offer, answer
	Candidate *Candidate `json:"candidate,omitempty"` // candidate
	Kind      string     `json:"kind,omitempty"`      // publish, mute, unmute, mute_participant, mute_all
	Identity  string     `json:"identity,omitempty"`  // the participant a control acts on
	ItemID    int64      `json:"item_id,omitempty"`   // grant_floor: the agenda item
	Reason    string     `json:"reason,omitempty"`    // remove_participant
	// cast: the signed ballot, {"ballot","signature","public_key"} in base64
	Ballot json.RawMessage `json:"ballot,omitempty"`
	// receive: whether to receive audio and video; absent leaves a kind as it is
	Audio *bool `json:"audio,omitempty"`
	Video *bool `json:"video,omitempty"`
}

// Limits on fields of client messages.
const (
	maxIDLen        = 64
	maxIdentityLen  = 128
	maxCandidateLen = 1024
	maxReasonLen    = 256
	maxTokenLen     = 8192
	maxBallotLen    = 2048 // a signed ballot in JSON is under 500 bytes
)

// ErrBadMessage is wrapped by every decoding error.
var ErrBadMessage = errors.New("bad message")

// DecodeClientMessage parses and checks one client message.
func DecodeClientMessage(data []byte) (ClientMessage, error) {
	var m ClientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return ClientMessage{ID: idOf(data)}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if err := m.validate(); err != nil {
		return ClientMessage{ID: idOf(data)}, fmt.Errorf("%w: %s: %v", ErrBadMessage, m.Type, err)
	}
	if m.Ballot != nil {
		// Compact, so that the ballot is passed on as it encodes again.
		var b bytes.Buffer
		if err := json.Compact(&b, m.Ballot); err != nil {
			return ClientMessage{}, fmt.Errorf("%w: %s: %v", ErrBadMessage, m.Type, err)
		}
		m.Ballot = b.Bytes()
	}
	return m, nil
}

// idOf returns the id of a message that does not decode or is not valid, if it has
// one that may be used as the error's ref; else "".
func idOf(data []byte) string {
	var m struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(data, &m) != nil || len(m.ID) > maxIDLen {
		return ""
	}
	return m.ID
}

func (m *ClientMessage) validate() error {
	if len(m.ID) > maxIDLen {
		return errors.New("id too long")
	}
	if len(m.Identity) > maxIdentityLen {
		return errors.New("identity too long")
	}
	if len(m.Reason) > maxReasonLen {
		return errors.New("reason too long")
	}
	if len(m.Token) > maxTokenLen || len(m.Resume) > maxTokenLen {
		return errors.New("token too long")
	}
	if len(m.Ballot) > maxBallotLen {
		return errors.New("ballot too long")
	}
	if m.Ballot != nil && m.Type != MsgCast {
		return errors.New("a ballot is only sent with cast")
	}
	if (m.Audio != nil || m.Video != nil) && m.Type != MsgReceive {
		return errors.New("audio and video are only sent with receive")
	}
	switch m.Type {
	case MsgJoin:
		if m.Token == "" && m.Resume == "" {
			return errors.New("token or resume required")
		}
		if m.LastSeq < 0 {
			return errors.New("negative last_seq")
		}
	case MsgLeave, MsgPing, MsgWithdrawFloor, MsgNextSpeaker, MsgRaiseHand, MsgLowerHand:
	case MsgOffer, MsgAnswer:
		if m.SDP == "" {
			return errors.New("sdp required")
		}
	case MsgCandidate:
		if m.Candidate == nil {
			return errors.New("candidate required")
		}
		if len(m.Candidate.Candidate) > maxCandidateLen {
			return errors.New("candidate too long")
		}
	case MsgMute, MsgUnmute, MsgPublish:
		if m.Kind != KindAudio && m.Kind != KindVideo {
			return fmt.Errorf("kind must be %q or %q", KindAudio, KindVideo)
		}
	case MsgMuteAll:
		if m.Kind != "" && m.Kind != KindAudio && m.Kind != KindVideo {
			return fmt.Errorf("kind must be %q or %q", KindAudio, KindVideo)
		}
	case MsgMuteParticipant:
		if m.Kind != "" && m.Kind != KindAudio && m.Kind != KindVideo {
			return fmt.Errorf("kind must be %q or %q", KindAudio, KindVideo)
		}
		if m.Identity == "" {
			return errors.New("identity required")
		}
	case MsgGrantFloor, MsgRemoveParticipant:
		if m.Identity == "" {
			return errors.New("identity required")
		}
		if m.ItemID < 0 {
			return errors.New("negative item_id")
		}
	case MsgCast:
		if t := bytes.TrimSpace(m.Ballot); len(t) == 0 || t[0] != '{' {
			return errors.New("ballot required: a JSON object")
		}
	case MsgReceive:
		if m.Audio == nil && m.Video == nil {
			return errors.New("audio or video required: true or false")
		}
	case "":
		return errors.New("type required")
	default:
		return fmt.Errorf("unknown type %q", m.Type)
	}
	return nil
}

// Participant describes someone in the room.
type Participant struct {
	Identity   string    `json:"identity"`
	Name       string    `json:"name,omitempty"`
	Role       string    `json:"role"`
	UserID     int64     `json:"user_id,omitempty"`
	Connected  bool      `json:"connected"` // false while waiting to resume
	AudioMuted bool      `json:"audio_muted"`
	VideoMuted bool      `json:"video_muted"`
	HandRaised bool      `json:"hand_raised"`
	HasFloor   bool      `json:"has_floor"`
	JoinedAt   time.Time `json:"joined_at"`
}

// Track describes a published track. ID is also the id of the MediaStreamTrack a
// subscriber receives, and Identity (the publisher) the id of its MediaStream.
type Track struct {
	ID       string `json:"id"`
	Identity string `json:"identity"`
	Kind     string `json:"kind"`
	Codec    string `json:"codec"`
	Muted    bool   `json:"muted"`
}

// Floor says who has the floor, on which item, since when.
type Floor struct {
	Identity string    `json:"identity"`
	ItemID   int64     `json:"item_id,omitempty"`
	Since    time.Time `json:"since"`
}

// Hand is a raised hand in the speakers' queue.
type Hand struct {
	Identity string    `json:"identity"`
	Name     string    `json:"name,omitempty"`
	Since    time.Time `json:"since"`
}

// Speaker is a participant whose audio is loud enough to count as speaking.
type Speaker struct {
	Identity string `json:"identity"`
	Level    int    `json:"level"` // 0 (silence) to 100 (loudest)
}

// Receive says which kinds of media a participant receives.
type Receive struct {
	Audio bool `json:"audio"`
	Video bool `json:"video"`
}

// ICEServer is a STUN or TURN server the client should use.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ServerMessage is any message the server sends; Type says which fields apply. Seq is
// the meeting journal's sequence number when the message was sent.
type ServerMessage struct {
	Type string `json:"type"`
	Seq  int64  `json:"seq"`
	Ref  string `json:"ref,omitempty"` // the id of the client message this answers

	// joined
	V            int           `json:"v,omitempty"`
	Self         *Participant  `json:"self,omitempty"`
	ResumeToken  string        `json:"resume_token,omitempty"`
	ResumeWithin int           `json:"resume_within,omitempty"` // seconds
	Resumed      bool          `json:"resumed,omitempty"`
	ICEServers   []ICEServer   `json:"ice_servers,omitempty"`
	Participants []Participant `json:"participants,omitempty"`
	Tracks       []Track       `json:"tracks,omitempty"`

	// joined, session
	Session string `json:"session,omitempty"`
	// joined, floor
	Floor *Floor `json:"floor,omitempty"`
	// joined, hands
	Hands []Hand `json:"hands,omitempty"`
	// joined, receiving: the kinds of media this participant receives
	Receive *Receive `json:"receive,omitempty"`

	Participant *Participant  `json:"participant,omitempty"` // participant_joined, participant_updated
	Identity    string        `json:"identity,omitempty"`    // participant_left
	Track       *Track        `json:"track,omitempty"`       // track_published, track_updated
	TrackID     string        `json:"track_id,omitempty"`    // track_unpublished
	SDP         string        `json:"sdp,omitempty"`         // offer, answer
	Candidate   *Candidate    `json:"candidate,omitempty"`   // candidate
	Speakers    []Speaker     `json:"speakers,omitempty"`    // speaking
	Event       *MeetingEvent `json:"event,omitempty"`       // meeting_event
	Code        string        `json:"code,omitempty"`        // error
	Message     string        `json:"message,omitempty"`     // error, session
	Reason      string        `json:"reason,omitempty"`      // closed, participant_left; error: why a voter is not eligible
	Time        int64         `json:"time,omitempty"`        // pong: server time, Unix milliseconds
	URL         string        `json:"url,omitempty"`         // error wrong_node: the hosting node's signalling URL
	// receipt: the cast ballot's receipt, {"index","proof","checkpoint"}
	Receipt json.RawMessage `json:"receipt,omitempty"`
}

// DecodeServerMessage parses one server message.
func DecodeServerMessage(data []byte) (ServerMessage, error) {
	var m ServerMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return ServerMessage{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if m.Type == "" {
		return ServerMessage{}, fmt.Errorf("%w: no type", ErrBadMessage)
	}
	return m, nil
}

func encode(m *ServerMessage) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		// Only a meeting event's Data can fail, and events are checked on the way in.
		b, _ = json.Marshal(&ServerMessage{Type: MsgError, Seq: m.Seq, Code: CodeUnavailable,
			Message: "the server could not encode a " + m.Type + " message"})
	}
	return b
}

func errorMessage(ref, code, format string, args ...any) *ServerMessage {
	return &ServerMessage{Type: MsgError, Ref: ref, Code: code, Message: fmt.Sprintf(format, args...)}
}
