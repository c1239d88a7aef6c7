// Package agenda is the domain clerks work in: councils, people and committees with their
// rules profiles; meetings and their state; agenda items, motions, declarations of
// interest, apologies, substitutions, public speakers and attendance; and each meeting's
// append-only event journal.
//
// Service holds the rules and is the only way in. It persists through Store (implemented
// for PostgreSQL and SQLite by agenda/sqlstore) and tells the live room what happened
// through Publisher, after each change has committed.
package agenda

import (
	"encoding/json"
	"time"
)

// Council is a local authority: a county, district, city or parish council.
type Council struct {
	ID        int64     `json:"id" db:"id"`
	Slug      string    `json:"slug" db:"slug"`
	Name      string    `json:"name" db:"name"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
}

// User is an account: anyone who signs in. Admins run the installation.
type User struct {
	ID        int64     `json:"id" db:"id"`
	Email     string    `json:"email" db:"email"`
	Name      string    `json:"name" db:"name"`
	Admin     bool      `json:"admin" db:"is_admin"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
	// Invited is true while the account has no password: its owner has not yet
	// accepted the invitation.
	Invited bool `json:"invited" db:"invited"`
}

// CouncilRole is what a person is to a council.
type CouncilRole string

// Council roles.
const (
	RoleClerk      CouncilRole = "clerk"
	RoleOfficer    CouncilRole = "officer"
	RoleCouncillor CouncilRole = "councillor"
)

// Valid reports whether r is a known council role.
func (r CouncilRole) Valid() bool {
	return r == RoleClerk || r == RoleOfficer || r == RoleCouncillor
}

// Person is a user in one council, with their role there.
type Person struct {
	UserID    int64       `json:"id" db:"user_id"`
	CouncilID int64       `json:"council_id" db:"council_id"`
	Name      string      `json:"name" db:"name"`
	Email     string      `json:"email" db:"email"`
	Role      CouncilRole `json:"role" db:"role"`
	Title     string      `json:"title" db:"title"` // "Cllr", "Head of Planning"
	Party     string      `json:"party" db:"party"`
	Invited   bool        `json:"invited" db:"invited"`
}

// Committee is a council's committee (or the full council meeting as a committee).
type Committee struct {
	ID          int64            `json:"id"`
	CouncilID   int64            `json:"council_id"`
	Slug        string           `json:"slug"`
	Name        string           `json:"name"`
	ProfileName string           `json:"profile_name"`
	Profile     Profile          `json:"profile"`   // the preset with Overrides applied
	Overrides   ProfileOverrides `json:"overrides"` // what the committee changed
	CreatedAt   time.Time        `json:"created_at"`
}

// CommitteeRole is a councillor's place on a committee.
type CommitteeRole string

// Committee roles.
const (
	Chair      CommitteeRole = "chair"
	ViceChair  CommitteeRole = "vice_chair"
	Member     CommitteeRole = "member"
	Substitute CommitteeRole = "substitute"
)

// Valid reports whether r is a known committee role.
func (r CommitteeRole) Valid() bool {
	return r == Chair || r == ViceChair || r == Member || r == Substitute
}

// Voting reports whether a member with this role votes by right (a substitute votes only
// when substituting for a member).
func (r CommitteeRole) Voting() bool { return r == Chair || r == ViceChair || r == Member }

// Membership is one councillor's seat on one committee.
type Membership struct {
	CommitteeID int64         `json:"committee_id" db:"committee_id"`
	UserID      int64         `json:"user_id" db:"user_id"`
	Name        string        `json:"name" db:"name"`
	Role        CommitteeRole `json:"role" db:"role"`
}

// MeetingStatus is where a meeting is in its life.
type MeetingStatus string

// Meeting statuses: scheduled → in_progress ⇄ adjourned → closed.
const (
	Scheduled  MeetingStatus = "scheduled"
	InProgress MeetingStatus = "in_progress"
	Adjourned  MeetingStatus = "adjourned"
	Closed     MeetingStatus = "closed"
)

// SessionState says whether the public is admitted.
type SessionState string

// Session states. Private session excludes the public for exempt business (LGA 1972
// s.100A, Schedule 12A).
const (
	PublicSession  SessionState = "public"
	PrivateSession SessionState = "private"
)

// Meeting is one sitting of a committee.
type Meeting struct {
	ID          int64         `json:"id" db:"id"`
	CommitteeID int64         `json:"committee_id" db:"committee_id"`
	CouncilID   int64         `json:"council_id" db:"council_id"`
	Title       string        `json:"title" db:"title"`
	StartsAt    time.Time     `json:"starts_at" db:"starts_at"`
	Location    string        `json:"location" db:"location"`
	Published   bool          `json:"published" db:"published"`
	Status      MeetingStatus `json:"status" db:"status"`
	Session     SessionState  `json:"session" db:"session"`
	// PrivateParagraph is the Schedule 12A paragraph relied on while in private session.
	PrivateParagraph int        `json:"private_paragraph,omitempty" db:"private_paragraph"`
	CurrentItemID    int64      `json:"current_item_id,omitempty" db:"current_item_id"`
	LastSeq          int64      `json:"last_seq" db:"last_seq"`
	StartedAt        *time.Time `json:"started_at,omitempty" db:"started_at"`
	ClosedAt         *time.Time `json:"closed_at,omitempty" db:"closed_at"`
	CreatedAt        time.Time  `json:"created_at" db:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at" db:"updated_at"`
}

// ItemKind says what rules an agenda item follows.
type ItemKind string

// Item kinds.
const (
	Standard ItemKind = "standard"
	// Planning is a planning application: public speakers, and (where the profile says
	// so) only members present for the whole item may vote.
	Planning ItemKind = "planning"
	// Exempt is business taken in private session under a Schedule 12A paragraph.
	Exempt ItemKind = "exempt"
)

// Valid reports whether k is a known item kind.
func (k ItemKind) Valid() bool { return k == Standard || k == Planning || k == Exempt }

// ItemStatus is where an item is in the meeting.
type ItemStatus string

// Item statuses.
const (
	Pending ItemStatus = "pending"
	Current ItemStatus = "current"
	Done    ItemStatus = "done"
)

// Paper is a document linked from an agenda item: a report, plans, an appendix.
type Paper struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Item is one item of business on a meeting's agenda.
type Item struct {
	ID          int64    `json:"id"`
	MeetingID   int64    `json:"meeting_id"`
	Position    int      `json:"position"`
	Number      string   `json:"number"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Kind        ItemKind `json:"kind"`
	// ExemptParagraph is the Schedule 12A paragraph (1–7) for exempt items.
	ExemptParagraph int `json:"exempt_paragraph,omitempty"`
	// WholeItemPresence: only members present for the whole item may vote on it.
	WholeItemPresence bool       `json:"whole_item_presence"`
	Papers            []Paper    `json:"papers"`
	Status            ItemStatus `json:"status"`
	StartedAt         *time.Time `json:"started_at,omitempty"`
	EndedAt           *time.Time `json:"ended_at,omitempty"`
	Notes             string     `json:"notes"`    // the clerk's notes for the minutes
	Decision          string     `json:"decision"` // the decision as minuted
	CreatedAt         time.Time  `json:"created_at"`
	// Redacted is true when detail was withheld from this reader (an exempt item seen by
	// the public): only the number and title are real.
	Redacted bool `json:"redacted,omitempty"`
}

// Apology is a member's apology for absence.
type Apology struct {
	MeetingID int64     `json:"meeting_id" db:"meeting_id"`
	UserID    int64     `json:"user_id" db:"user_id"`
	Reason    string    `json:"reason" db:"reason"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
}

// Substitution records a substitute sitting for a member at one meeting.
type Substitution struct {
	MeetingID    int64     `json:"meeting_id" db:"meeting_id"`
	SubstituteID int64     `json:"substitute_id" db:"substitute_id"`
	MemberID     int64     `json:"member_id" db:"member_id"`
	CreatedAt    time.Time `json:"created_at" db:"created_at"`
}

// MotionStatus is where a motion stands.
type MotionStatus string

// Motion statuses.
const (
	Proposed  MotionStatus = "proposed"
	Seconded  MotionStatus = "seconded"
	Carried   MotionStatus = "carried"
	Lost      MotionStatus = "lost"
	Withdrawn MotionStatus = "withdrawn"
	// Fallen is a motion or amendment that falls because another was carried.
	Fallen MotionStatus = "fallen"
)

// Valid reports whether s is a known motion status.
func (s MotionStatus) Valid() bool {
	switch s {
	case Proposed, Seconded, Carried, Lost, Withdrawn, Fallen:
		return true
	}
	return false
}

// Final reports whether the motion has been decided or withdrawn.
func (s MotionStatus) Final() bool { return s == Carried || s == Lost || s == Withdrawn || s == Fallen }

// Motion is a motion on an item, or an amendment to one (AmendsID).
type Motion struct {
	ID         int64        `json:"id" db:"id"`
	MeetingID  int64        `json:"meeting_id" db:"meeting_id"`
	ItemID     int64        `json:"item_id" db:"item_id"`
	AmendsID   int64        `json:"amends_id,omitempty" db:"amends_id"`
	Text       string       `json:"text" db:"text"`
	ProposerID int64        `json:"proposer_id,omitempty" db:"proposer_id"`
	SeconderID int64        `json:"seconder_id,omitempty" db:"seconder_id"`
	Status     MotionStatus `json:"status" db:"status"`
	CreatedAt  time.Time    `json:"created_at" db:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at" db:"updated_at"`
}

// AttendanceMode is how a person attends.
type AttendanceMode string

// Attendance modes. Which of them count towards the quorum and may vote depends on the
// committee's rules profile.
const (
	InRoom          AttendanceMode = "in_room"
	RemoteVoting    AttendanceMode = "remote_voting"
	RemoteNonVoting AttendanceMode = "remote_non_voting"
	ByProxy         AttendanceMode = "proxy"
)

// Valid reports whether m is a known attendance mode.
func (m AttendanceMode) Valid() bool {
	return m == InRoom || m == RemoteVoting || m == RemoteNonVoting || m == ByProxy
}

// AttendanceSource says who recorded an attendance.
type AttendanceSource string

// Attendance sources.
const (
	// ByClerk: recorded by the clerk (roll call, in-room arrivals).
	ByClerk AttendanceSource = "clerk"
	// ByPresence: recorded when the person joined or left the live room.
	ByPresence AttendanceSource = "presence"
)

// Attendance is one continuous stretch of a person's presence in one mode. A change of
// mode closes one stretch and opens another.
type Attendance struct {
	ID            int64            `json:"id" db:"id"`
	MeetingID     int64            `json:"meeting_id" db:"meeting_id"`
	UserID        int64            `json:"user_id" db:"user_id"`
	Mode          AttendanceMode   `json:"mode" db:"mode"`
	ProxyHolderID int64            `json:"proxy_holder_id,omitempty" db:"proxy_holder_id"`
	Source        AttendanceSource `json:"source" db:"source"`
	ArrivedAt     time.Time        `json:"arrived_at" db:"arrived_at"`
	LeftAt        *time.Time       `json:"left_at,omitempty" db:"left_at"`
}

// Covers reports whether the stretch includes instant t.
func (a Attendance) Covers(t time.Time) bool {
	return !a.ArrivedAt.After(t) && (a.LeftAt == nil || a.LeftAt.After(t))
}

// SpeakerCapacity is why a member of the public speaks.
type SpeakerCapacity string

// Speaker capacities.
const (
	Objector      SpeakerCapacity = "objector"
	Applicant     SpeakerCapacity = "applicant"
	Agent         SpeakerCapacity = "agent"
	Supporter     SpeakerCapacity = "supporter"
	ParishCouncil SpeakerCapacity = "parish_council"
	WardMember    SpeakerCapacity = "ward_member"
	OtherSpeaker  SpeakerCapacity = "other"
)

// Valid reports whether c is a known capacity.
func (c SpeakerCapacity) Valid() bool {
	switch c {
	case Objector, Applicant, Agent, Supporter, ParishCouncil, WardMember, OtherSpeaker:
		return true
	}
	return false
}

// Speaker is a member of the public registered to speak on an item.
type Speaker struct {
	ID           int64           `json:"id" db:"id"`
	MeetingID    int64           `json:"meeting_id" db:"meeting_id"`
	ItemID       int64           `json:"item_id" db:"item_id"`
	Name         string          `json:"name" db:"name"`
	Capacity     SpeakerCapacity `json:"capacity" db:"capacity"`
	Organisation string          `json:"organisation" db:"organisation"`
	Email        string          `json:"email,omitempty" db:"email"`
	Seconds      int             `json:"seconds" db:"seconds"` // time allowed
	Position     int             `json:"position" db:"position"`
	CreatedAt    time.Time       `json:"created_at" db:"created_at"`
}

// Event is one entry of a meeting's journal. Seq numbers a meeting's events from 1 with
// no gaps. Private events carry detail the public may not see.
type Event struct {
	MeetingID int64           `json:"meeting_id" db:"meeting_id"`
	Seq       int64           `json:"seq" db:"seq"`
	Type      string          `json:"type" db:"type"`
	At        time.Time       `json:"at" db:"at"`
	ActorID   int64           `json:"actor_id,omitempty" db:"actor_id"`
	Private   bool            `json:"private" db:"private"`
	Data      json.RawMessage `json:"data" db:"data"`
}

// Page is one page of a list and the cursor of the next, empty on the last page.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}
