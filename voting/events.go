package voting

import (
	"context"
	"encoding/json"
	"time"

	"github.com/chamber/chamber/agenda"
)

// Types of the events a poll reports to the live room. Opened, closed, casting and
// result are also journal events: each is appended to the meeting's journal in the
// transaction that makes the change it reports, and carries its sequence number.
// Progress is ephemeral: published only, with Seq 0.
const (
	// EventPollOpened: a poll opened; data is a PollView (with the challenge that
	// ballots must carry).
	EventPollOpened = "poll.opened"
	// EventPollProgress: ballots are arriving; data is a Progress in the form anyone
	// may see (counts only; counts per option only when the poll shows a live tally).
	EventPollProgress = "poll.progress"
	// EventPollClosed: a poll closed; data is a PollView with its closing.
	EventPollClosed = "poll.closed"
	// EventPollCasting: the poll closed on an equality and awaits the presiding
	// member's casting vote; data is a CastingAwaited.
	EventPollCasting = "poll.casting"
	// EventPollResult: a poll's final result; data is a PollView with its result.
	EventPollResult = "poll.result"
)

// A VoteEvent is something that happened to a poll, for the live room and, except
// for progress, for the meeting's journal. Private marks events of a poll on exempt
// business, which the public does not receive.
type VoteEvent struct {
	Meeting int64           `json:"meeting"`
	Seq     int64           `json:"seq"` // in the meeting's journal; 0 for progress
	Type    string          `json:"type"`
	At      time.Time       `json:"at"`
	Actor   int64           `json:"actor,omitempty"` // 0: the server (a poll closed at its time)
	Private bool            `json:"private"`
	Data    json.RawMessage `json:"data"`
}

// AgendaEvent returns e as an entry of the agenda's journal, which it is (progress
// aside).
func (e VoteEvent) AgendaEvent() agenda.Event {
	return agenda.Event{MeetingID: e.Meeting, Seq: e.Seq, Type: e.Type, At: e.At, ActorID: e.Actor, Private: e.Private, Data: e.Data}
}

// Publisher tells the live room what happened to polls. The Service calls it only
// after the change has committed; it must not block for long.
type Publisher interface {
	PublishVote(ctx context.Context, e VoteEvent)
}

// CastingAwaited is the data of a poll.casting event.
type CastingAwaited struct {
	Poll      int64 `json:"poll"`
	Item      int64 `json:"item"`
	Presiding int64 `json:"presiding"`
	// Options are those in the equality, one of which the casting vote chooses.
	Options []string `json:"options"`
}
