// Package bridge connects the domains to the live room, which knows neither: it
// carries journal and vote events to each meeting's room (Publisher), lets the room
// replay the journal (Journal), records joins and leaves as attendance (Presence) and
// takes ballots cast over the room's WebSocket to the voting service (Ballots). The
// server wires these; tests that build a server use them too.
package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/voting"
)

// The domains do not know about the live room; these adapters tell it what happened,
// and tell the agenda who came and went.

// publishTimeout bounds handing an event to the bus. The write has committed by then,
// so the event must go out even if the request that made it has ended.
const publishTimeout = 5 * time.Second

// Publisher sends journal and vote events to the meeting's room, on any node.
type Publisher struct {
	Bus signaling.Bus
	Log *slog.Logger
}

var (
	_ agenda.Publisher = Publisher{}
	_ voting.Publisher = Publisher{}
)

func (p Publisher) Publish(ctx context.Context, events ...agenda.Event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	for _, e := range events {
		if err := p.Bus.PublishMeetingEvent(ctx, RoomEvent(e)); err != nil {
			// The room fills the gap from the journal when the next event arrives.
			p.Log.Warn("publish meeting event", "meeting", e.MeetingID, "seq", e.Seq, "type", e.Type, "err", err)
		}
	}
}

func (p Publisher) PublishVote(ctx context.Context, e voting.VoteEvent) {
	p.Publish(ctx, e.AgendaEvent())
}

// RoomEvent is a journal event as the room carries it.
func RoomEvent(e agenda.Event) signaling.MeetingEvent {
	return signaling.MeetingEvent{MeetingID: e.MeetingID, Seq: e.Seq, Type: e.Type, At: e.At, Private: e.Private, Data: e.Data}
}

// Journal reads the agenda's journal for the room: all of it, a page at a time.
type Journal struct{ Agenda *agenda.Service }

func (j Journal) EventsAfter(ctx context.Context, meetingID, afterSeq int64) ([]signaling.MeetingEvent, error) {
	var out []signaling.MeetingEvent
	for {
		evs, err := j.Agenda.JournalAfter(ctx, meetingID, afterSeq)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			out = append(out, RoomEvent(e))
		}
		if len(evs) < agenda.MaxEventsPage {
			return out, nil
		}
		afterSeq = evs[len(evs)-1].Seq
	}
}

// Presence records joins and leaves of the live room as attendance.
type Presence struct {
	Agenda *agenda.Service
	Log    *slog.Logger
}

func (p Presence) OnJoin(ctx context.Context, meetingID, userID int64, at time.Time) {
	if err := p.Agenda.OnJoin(ctx, meetingID, userID, at); err != nil {
		p.Log.Error("record arrival from the live room", "meeting", meetingID, "user", userID, "err", err)
	}
}

func (p Presence) OnLeave(ctx context.Context, meetingID, userID int64, at time.Time) {
	if err := p.Agenda.OnLeave(ctx, meetingID, userID, at); err != nil {
		p.Log.Error("record departure from the live room", "meeting", meetingID, "user", userID, "err", err)
	}
}

// Ballots takes ballots cast over the live room: the participant's grants say who
// casts, the agenda says who that is, and the voting service decides, as it does for a
// ballot sent over REST.
type Ballots struct {
	People *agenda.Service
	Votes  *voting.Service
}

var _ signaling.Ballots = Ballots{}

func (b Ballots) Cast(ctx context.Context, g signaling.Grants, raw json.RawMessage) (json.RawMessage, error) {
	var sb voting.SignedBallot
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sb); err != nil {
		return nil, &signaling.CastError{Code: signaling.CodeBallotMalformed,
			Message: fmt.Sprintf("a ballot is {\"ballot\",\"signature\",\"public_key\"}, each in base64: %v", err)}
	}
	ballot, err := voting.ParseBallot(sb.Bytes)
	if err != nil {
		return nil, CastError(err)
	}
	if ballot.Meeting != g.MeetingID {
		return nil, &signaling.CastError{Code: signaling.CodeWrongPoll,
			Message: fmt.Sprintf("a ballot for meeting %d sent to the room of meeting %d", ballot.Meeting, g.MeetingID)}
	}
	// One's own ballot needs no roles: the roll decides who votes. A vote recorded by
	// a clerk needs the clerk's.
	actor := agenda.Actor{UserID: g.UserID}
	if ballot.Recorder != 0 {
		var err error
		actor, err = b.People.Actor(ctx, g.UserID)
		if errors.Is(err, agenda.ErrUnauthenticated) {
			return nil, &signaling.CastError{Code: signaling.CodeForbidden, Message: "the account no longer exists"}
		}
		if err != nil {
			return nil, err
		}
	}
	receipt, err := b.Votes.Cast(ctx, actor, sb)
	if err != nil {
		return nil, CastError(err)
	}
	return json.Marshal(receipt)
}

// castCodes maps the voting service's refusals to the live room's error codes.
var castCodes = []struct {
	err  error
	code string
}{
	{voting.ErrMalformed, signaling.CodeBallotMalformed},
	{voting.ErrBadSignature, signaling.CodeBadSignature},
	{voting.ErrWrongKey, signaling.CodeWrongKey},
	{voting.ErrKeyNotApproved, signaling.CodeKeyNotApproved},
	{voting.ErrKeyRevoked, signaling.CodeKeyRevoked},
	{voting.ErrWrongPoll, signaling.CodeWrongPoll},
	{voting.ErrInvalidChoice, signaling.CodeInvalidChoice},
	{voting.ErrPollClosed, signaling.CodePollClosed},
	{voting.ErrPollOpen, signaling.CodePollOpen},
	{voting.ErrNotEligible, signaling.CodeNotEligible},
	{voting.ErrReplay, signaling.CodeReplay},
	{voting.ErrNoCastingVote, signaling.CodeNoCastingVote},
	{voting.ErrNotPresiding, signaling.CodeNotPresiding},
	{voting.ErrNoTie, signaling.CodeNoTie},
	{voting.ErrForbidden, signaling.CodeForbidden},
	{voting.ErrUnauthenticated, signaling.CodeForbidden},
	{voting.ErrNotFound, signaling.CodeNotFound},
}

// CastError turns a refusal into a *signaling.CastError; other failures stay as
// they are, and the client is told to send the ballot again.
func CastError(err error) error {
	for _, c := range castCodes {
		if !errors.Is(err, c.err) {
			continue
		}
		ce := &signaling.CastError{Code: c.code, Message: err.Error()}
		var ie *voting.IneligibleError
		if errors.As(err, &ie) {
			ce.Reason = string(ie.Reason)
		}
		return ce
	}
	return err
}
