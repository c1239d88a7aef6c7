package agenda

import (
	"context"
)

// Journal event types. The data of each is documented beside it.
const (
	EvMeetingCreated   = "meeting.created"   // Meeting
	EvMeetingUpdated   = "meeting.updated"   // Meeting
	EvMeetingStarted   = "meeting.started"   // Meeting
	EvMeetingAdjourned = "meeting.adjourned" // Meeting
	EvMeetingResumed   = "meeting.resumed"   // Meeting
	EvMeetingClosed    = "meeting.closed"    // Meeting
	// EvItemCurrent: the meeting moved to an item; data is ItemRef (public even for
	// exempt items: their number and title are public).
	EvItemCurrent = "item.current"
	// EvSessionPrivate: the meeting resolved to exclude the public; data is SessionChange.
	EvSessionPrivate = "session.private"
	// EvSessionPublic: the public is readmitted; data is SessionChange.
	EvSessionPublic = "session.public"

	EvItemAdded   = "item.added"   // Item without notes (private, with notes, for exempt items)
	EvItemUpdated = "item.updated" // Item without notes (private, with notes, for exempt items)
	EvItemRemoved = "item.removed" // ItemRef
	// EvItemNotes: the clerk's notes on an item changed; data {"item_id", "notes"};
	// always private.
	EvItemNotes       = "item.notes"
	EvAgendaReordered = "agenda.reordered" // {"order": [item ids]}
	EvAgendaImported  = "agenda.imported"  // {"items": n, "replaced": bool}

	EvApologyRecorded      = "apology.recorded"      // Apology
	EvApologyWithdrawn     = "apology.withdrawn"     // Apology
	EvSubstitutionRecorded = "substitution.recorded" // Substitution
	EvSubstitutionRemoved  = "substitution.removed"  // Substitution
	EvDeclarationRecorded  = "declaration.recorded"  // Declaration
	EvMotionProposed       = "motion.proposed"       // Motion (private on exempt items)
	EvMotionUpdated        = "motion.updated"        // Motion (private on exempt items)
	EvAttendanceArrived    = "attendance.arrived"    // Attendance
	EvAttendanceLeft       = "attendance.left"       // Attendance
	EvSpeakerRegistered    = "speaker.registered"    // Speaker without email
	EvSpeakerRemoved       = "speaker.removed"       // Speaker without email
)

// ItemRef names an item without its detail.
type ItemRef struct {
	ID     int64    `json:"id"`
	Number string   `json:"number"`
	Title  string   `json:"title"`
	Kind   ItemKind `json:"kind"`
}

// Ref returns the item's public reference.
func (it Item) Ref() ItemRef {
	return ItemRef{ID: it.ID, Number: it.Number, Title: it.Title, Kind: it.Kind}
}

// SessionChange is the data of session events.
type SessionChange struct {
	Session   SessionState `json:"session"`
	Paragraph int          `json:"paragraph,omitempty"`
	Reason    string       `json:"reason,omitempty"`
	ItemID    int64        `json:"item_id,omitempty"`
}

// MaxEventsPage is the most events returned at once.
const MaxEventsPage = 1000

// Events returns a meeting's journal after seq afterSeq, without private events for
// readers who may not see them. Private events keep their sequence numbers, so a public
// reader sees gaps where they were.
func (s *Service) Events(ctx context.Context, actor Actor, meetingID, afterSeq int64, limit int) ([]Event, error) {
	if limit <= 0 || limit > MaxEventsPage {
		limit = MaxEventsPage
	}
	var out []Event
	err := s.read(ctx, func(tx Tx) error {
		m, err := tx.GetMeeting(ctx, meetingID)
		if err != nil {
			return err
		}
		if !visible(actor, m) {
			return notFound("meeting", meetingID)
		}
		evs, err := tx.Events(ctx, meetingID, afterSeq, limit)
		if err != nil {
			return err
		}
		if actor.CanReadPrivate(m.CouncilID, m.CommitteeID) {
			out = evs
			return nil
		}
		out = evs[:0]
		for _, e := range evs {
			if !e.Private {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// JournalAfter returns every event after afterSeq, private ones included, for the live
// room, which filters per participant.
func (s *Service) JournalAfter(ctx context.Context, meetingID, afterSeq int64) ([]Event, error) {
	var out []Event
	err := s.read(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Events(ctx, meetingID, afterSeq, MaxEventsPage)
		return err
	})
	return out, err
}
