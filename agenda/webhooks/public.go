package webhooks

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/voting"
)

// EventType is an event type endpoints may subscribe to.
type EventType struct {
	Type string `json:"type"`
	// Data names the form of the payload's data.
	Data        string `json:"data"`
	Description string `json:"description"`
	// Default types are those an endpoint receives unless it says otherwise.
	Default bool `json:"default"`
}

// DefaultEventTypes are what a new endpoint receives unless it names its own: a meeting
// starting and closing, a vote's result, and minutes published or corrected.
var DefaultEventTypes = []string{
	agenda.EvMeetingStarted, agenda.EvMeetingClosed, voting.EventPollResult,
	minutes.EvMinutesPublished, minutes.EvMinutesCorrected,
}

// entry is an event type and the function that rebuilds an event's data in public
// form; ok false withholds the event.
type entry struct {
	EventType
	public func(raw json.RawMessage) (data any, ok bool, err error)
}

// catalogue is every event type that may be delivered, with the function that rebuilds
// its data in public form. An event type not here is never delivered.
var catalogue = []entry{
	{EventType{agenda.EvMeetingCreated, "Meeting", "A meeting was scheduled.", false}, publicMeeting},
	{EventType{agenda.EvMeetingUpdated, "Meeting", "A meeting's title, time or place changed.", false}, publicMeeting},
	{EventType{agenda.EvMeetingStarted, "Meeting", "A meeting started.", true}, publicMeeting},
	{EventType{agenda.EvMeetingAdjourned, "Meeting", "A meeting was adjourned.", false}, publicMeeting},
	{EventType{agenda.EvMeetingResumed, "Meeting", "An adjourned meeting resumed.", false}, publicMeeting},
	{EventType{agenda.EvMeetingClosed, "Meeting", "A meeting closed.", true}, publicMeeting},
	{EventType{agenda.EvItemAdded, "Item", "An item was added to the agenda.", false}, publicItem},
	{EventType{agenda.EvItemUpdated, "Item", "An agenda item changed (its decision, for instance).", false}, publicItem},
	{EventType{agenda.EvItemRemoved, "ItemRef", "An item was taken off the agenda.", false}, publicItemRef},
	{EventType{agenda.EvItemCurrent, "ItemRef", "The meeting moved to an item.", false}, publicItemRef},
	{EventType{agenda.EvSessionPrivate, "Session", "The public was excluded for exempt business.", false}, publicSession},
	{EventType{agenda.EvSessionPublic, "Session", "The public was readmitted.", false}, publicSession},
	{EventType{voting.EventPollResult, "VoteResult", "A vote closed with its result (after the casting vote on a tie).", true}, publicPollResult},
	{EventType{minutes.EvMinutesApproved, "Minutes", "Minutes were approved at a later meeting.", false}, publicMinutes},
	{EventType{minutes.EvMinutesPublished, "Minutes", "Minutes were published.", true}, publicMinutes},
	{EventType{minutes.EvMinutesCorrected, "Minutes", "A correction to published minutes was published.", true}, publicMinutes},
}

// EventTypes lists every event type an endpoint may subscribe to.
func EventTypes() []EventType {
	out := make([]EventType, len(catalogue))
	for i, c := range catalogue {
		out[i] = c.EventType
	}
	return out
}

func knownType(typ string) bool {
	return slices.ContainsFunc(catalogue, func(c entry) bool { return c.Type == typ })
}

// publicData returns the data of a journal event as the public may see it; ok is false
// when the event must not be delivered at all: it is private, of a type not in the
// catalogue, or about exempt business.
func publicData(e agenda.Event) (data json.RawMessage, ok bool, err error) {
	if e.Private {
		return nil, false, nil
	}
	for _, c := range catalogue {
		if c.Type != e.Type {
			continue
		}
		v, ok, err := c.public(e.Data)
		if err != nil || !ok {
			return nil, false, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, false, fmt.Errorf("encode %s data: %w", e.Type, err)
		}
		return b, true, nil
	}
	return nil, false, nil
}

func decode(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode event data: %w", err)
	}
	return nil
}

// Meeting is the data of meeting events.
type Meeting struct {
	ID               int64                `json:"id"`
	CouncilID        int64                `json:"council_id"`
	CommitteeID      int64                `json:"committee_id"`
	Title            string               `json:"title"`
	StartsAt         time.Time            `json:"starts_at"`
	Location         string               `json:"location"`
	Status           agenda.MeetingStatus `json:"status"`
	Session          agenda.SessionState  `json:"session"`
	PrivateParagraph int                  `json:"private_paragraph,omitempty"`
	CurrentItemID    int64                `json:"current_item_id,omitempty"`
	StartedAt        *time.Time           `json:"started_at,omitempty"`
	ClosedAt         *time.Time           `json:"closed_at,omitempty"`
}

func publicMeeting(raw json.RawMessage) (any, bool, error) {
	var m agenda.Meeting
	if err := decode(raw, &m); err != nil {
		return nil, false, err
	}
	return Meeting{ID: m.ID, CouncilID: m.CouncilID, CommitteeID: m.CommitteeID, Title: m.Title, StartsAt: m.StartsAt,
		Location: m.Location, Status: m.Status, Session: m.Session, PrivateParagraph: m.PrivateParagraph,
		CurrentItemID: m.CurrentItemID, StartedAt: m.StartedAt, ClosedAt: m.ClosedAt}, true, nil
}

// Item is the data of item.added and item.updated: the item as the public sees it,
// never with the clerk's notes.
type Item struct {
	ID                int64             `json:"id"`
	MeetingID         int64             `json:"meeting_id"`
	Position          int               `json:"position"`
	Number            string            `json:"number"`
	Title             string            `json:"title"`
	Description       string            `json:"description"`
	Kind              agenda.ItemKind   `json:"kind"`
	WholeItemPresence bool              `json:"whole_item_presence"`
	Papers            []agenda.Paper    `json:"papers"`
	Status            agenda.ItemStatus `json:"status"`
	StartedAt         *time.Time        `json:"started_at,omitempty"`
	EndedAt           *time.Time        `json:"ended_at,omitempty"`
	Decision          string            `json:"decision"`
}

func publicItem(raw json.RawMessage) (any, bool, error) {
	var it agenda.Item
	if err := decode(raw, &it); err != nil {
		return nil, false, err
	}
	if it.Kind == agenda.Exempt || it.Redacted {
		// Exempt items are journalled privately; should one come public, it goes no
		// further than its reference.
		return it.Ref(), true, nil
	}
	papers := it.Papers
	if papers == nil {
		papers = []agenda.Paper{}
	}
	return Item{ID: it.ID, MeetingID: it.MeetingID, Position: it.Position, Number: it.Number, Title: it.Title,
		Description: it.Description, Kind: it.Kind, WholeItemPresence: it.WholeItemPresence, Papers: papers,
		Status: it.Status, StartedAt: it.StartedAt, EndedAt: it.EndedAt, Decision: it.Decision}, true, nil
}

func publicItemRef(raw json.RawMessage) (any, bool, error) {
	var r agenda.ItemRef
	if err := decode(raw, &r); err != nil {
		return nil, false, err
	}
	return agenda.ItemRef{ID: r.ID, Number: r.Number, Title: r.Title, Kind: r.Kind}, true, nil
}

// Session is the data of session events. The reason given for excluding the public is
// not public; the Schedule 12A paragraph is.
type Session struct {
	Session   agenda.SessionState `json:"session"`
	Paragraph int                 `json:"paragraph,omitempty"`
	ItemID    int64               `json:"item_id,omitempty"`
}

func publicSession(raw json.RawMessage) (any, bool, error) {
	var c agenda.SessionChange
	if err := decode(raw, &c); err != nil {
		return nil, false, err
	}
	return Session{Session: c.Session, Paragraph: c.Paragraph, ItemID: c.ItemID}, true, nil
}

// VoteResult is the data of poll.result: how a vote was put and decided. Votes, each
// member's vote, are given for a recorded vote only, as the minutes give them.
type VoteResult struct {
	PollID           int64                `json:"poll_id"`
	ItemID           int64                `json:"item_id"`
	MotionID         int64                `json:"motion_id,omitempty"`
	Question         string               `json:"question"`
	Options          []string             `json:"options"`
	Method           voting.Method        `json:"method"`
	Recorded         bool                 `json:"recorded"`
	OpenedAt         time.Time            `json:"opened_at"`
	ClosedAt         *time.Time           `json:"closed_at,omitempty"`
	Counts           []voting.OptionCount `json:"counts"`
	VotesCast        int                  `json:"votes_cast"`
	Abstentions      int                  `json:"abstentions"`
	NotVoting        int                  `json:"not_voting"`
	Outcome          voting.Outcome       `json:"outcome"`
	Winner           string               `json:"winner,omitempty"`
	CastingVote      string               `json:"casting_vote,omitempty"`
	PreponderantVote string               `json:"preponderant_vote,omitempty"`
	Votes            []MemberVote         `json:"votes,omitempty"`
}

// MemberVote is one member's final vote in a recorded vote.
type MemberVote struct {
	UserID  int64  `json:"user_id"`
	Choice  string `json:"choice"`
	Casting bool   `json:"casting,omitempty"`
}

func publicPollResult(raw json.RawMessage) (any, bool, error) {
	var v voting.PollView
	if err := decode(raw, &v); err != nil {
		return nil, false, err
	}
	if v.Private || v.Result == nil {
		return nil, false, nil
	}
	r := v.Result
	out := VoteResult{PollID: v.ID, ItemID: v.Item, MotionID: v.Motion, Question: v.Question,
		Options: slices.Clone(v.Options), Method: v.Method, Recorded: v.Named, OpenedAt: v.OpenedAt,
		Counts: slices.Clone(r.Counts), VotesCast: r.VotesCast, Abstentions: r.Abstentions, NotVoting: r.NotVoting,
		Outcome: r.Outcome, Winner: r.Winner, CastingVote: r.CastingVote, PreponderantVote: r.PreponderantVote}
	if out.Counts == nil {
		out.Counts = []voting.OptionCount{}
	}
	if v.Closing != nil {
		t := v.Closing.ClosedAt
		out.ClosedAt = &t
	}
	if v.Named {
		out.Votes = []MemberVote{}
		for _, mv := range r.Votes {
			out.Votes = append(out.Votes, MemberVote{UserID: mv.Voter, Choice: mv.Choice, Casting: mv.Casting})
		}
	}
	return out, true, nil
}

// Minutes is the data of minutes events.
type Minutes struct {
	MeetingID int64          `json:"meeting_id"`
	Version   int            `json:"version"`
	Status    minutes.Status `json:"status"`
	// ApprovedAt is the meeting at which the minutes were approved.
	ApprovedAt *minutes.MeetingRef `json:"approved_at,omitempty"`
	// Supersedes, Reason and Summary describe a correction.
	Supersedes int    `json:"supersedes,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Summary    string `json:"summary,omitempty"`
}

func publicMinutes(raw json.RawMessage) (any, bool, error) {
	var e minutes.Event
	if err := decode(raw, &e); err != nil {
		return nil, false, err
	}
	return Minutes{MeetingID: e.Meeting, Version: e.Version, Status: e.Status, ApprovedAt: e.ApprovedAt,
		Supersedes: e.Supersedes, Reason: e.Reason, Summary: e.Summary}, true, nil
}
