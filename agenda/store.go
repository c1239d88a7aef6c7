package agenda

import (
	"context"
	"time"
)

// Store runs transactions. Update runs fn in a read-write transaction that commits when
// fn returns nil and rolls back otherwise; View runs fn in a read-only one. Every write
// the Service makes, with the journal events it appends, is one Update.
//
// SessionByHash and APITokenByHash read the credential that every request but the
// public's carries, outside any transaction: each is one statement, consistent on its
// own, and the store may answer many that arrive together with one read. Both return
// an error wrapping ErrNotFound when there is no such credential.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
	SessionByHash(ctx context.Context, idHash string) (LoginSession, error)
	APITokenByHash(ctx context.Context, hash string) (APIToken, error)
}

// Tx is the agenda's persistence inside one transaction. Get methods return an error
// wrapping ErrNotFound when the row does not exist; Create methods set the new row's ID.
// Unique constraint violations are returned wrapping ErrConflict.
type Tx interface {
	// Users and credentials.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	GetUser(ctx context.Context, id int64) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	PasswordHash(ctx context.Context, userID int64) (string, error)
	SetPasswordHash(ctx context.Context, userID int64, hash string) error
	CountAdmins(ctx context.Context) (int, error)

	CreateSession(ctx context.Context, s LoginSession) error
	GetSession(ctx context.Context, idHash string) (LoginSession, error)
	DeleteSession(ctx context.Context, idHash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) error

	CreateAPIToken(ctx context.Context, t *APIToken) error
	GetAPITokenByHash(ctx context.Context, hash string) (APIToken, error)
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error
	ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error)
	DeleteAPIToken(ctx context.Context, userID, id int64) error

	CreateLink(ctx context.Context, l Link) error
	GetLink(ctx context.Context, hash string) (Link, error)
	MarkLinkUsed(ctx context.Context, hash string, at time.Time) error

	// Councils and people.
	CreateCouncil(ctx context.Context, c *Council) error
	GetCouncil(ctx context.Context, id int64) (Council, error)
	ListCouncils(ctx context.Context) ([]Council, error)
	// PutPerson creates or replaces the user's role in the council.
	PutPerson(ctx context.Context, p Person) error
	GetPerson(ctx context.Context, councilID, userID int64) (Person, error)
	ListPeople(ctx context.Context, councilID int64) ([]Person, error)
	CouncilRoles(ctx context.Context, userID int64) (map[int64]CouncilRole, error)

	// Committees.
	CreateCommittee(ctx context.Context, c *Committee) error
	UpdateCommittee(ctx context.Context, c Committee) error
	GetCommittee(ctx context.Context, id int64) (Committee, error)
	ListCommittees(ctx context.Context, councilID int64) ([]Committee, error)
	PutMembership(ctx context.Context, m Membership) error
	DeleteMembership(ctx context.Context, committeeID, userID int64) error
	ListMemberships(ctx context.Context, committeeID int64) ([]Membership, error)
	CommitteeRoles(ctx context.Context, userID int64) (map[int64]CommitteeRole, error)

	// Meetings.
	CreateMeeting(ctx context.Context, m *Meeting) error
	UpdateMeeting(ctx context.Context, m Meeting) error
	GetMeeting(ctx context.Context, id int64) (Meeting, error)
	ListMeetings(ctx context.Context, f MeetingFilter) ([]Meeting, error)

	// Items.
	CreateItem(ctx context.Context, it *Item) error
	UpdateItem(ctx context.Context, it Item) error
	DeleteItem(ctx context.Context, id int64) error
	GetItem(ctx context.Context, id int64) (Item, error)
	ListItems(ctx context.Context, meetingID int64) ([]Item, error)

	PutApology(ctx context.Context, a Apology) error
	DeleteApology(ctx context.Context, meetingID, userID int64) error
	ListApologies(ctx context.Context, meetingID int64) ([]Apology, error)

	PutSubstitution(ctx context.Context, s Substitution) error
	DeleteSubstitution(ctx context.Context, meetingID, substituteID int64) error
	ListSubstitutions(ctx context.Context, meetingID int64) ([]Substitution, error)

	CreateDeclaration(ctx context.Context, d *Declaration) error
	ListDeclarations(ctx context.Context, meetingID int64) ([]Declaration, error)

	CreateMotion(ctx context.Context, m *Motion) error
	UpdateMotion(ctx context.Context, m Motion) error
	GetMotion(ctx context.Context, id int64) (Motion, error)
	ListMotions(ctx context.Context, meetingID int64) ([]Motion, error)

	CreateAttendance(ctx context.Context, a *Attendance) error
	// CloseAttendance sets left_at on one stretch.
	CloseAttendance(ctx context.Context, id int64, at time.Time) error
	// OpenAttendance returns the person's stretch with no left_at.
	OpenAttendance(ctx context.Context, meetingID, userID int64) (Attendance, error)
	ListAttendance(ctx context.Context, meetingID int64) ([]Attendance, error)

	CreateSpeaker(ctx context.Context, s *Speaker) error
	GetSpeaker(ctx context.Context, id int64) (Speaker, error)
	DeleteSpeaker(ctx context.Context, id int64) error
	ListSpeakers(ctx context.Context, meetingID int64) ([]Speaker, error)

	// AppendEvent gives e the meeting's next sequence number and stores it.
	AppendEvent(ctx context.Context, e *Event) error
	// Events returns up to limit events with seq > afterSeq, in order.
	Events(ctx context.Context, meetingID, afterSeq int64, limit int) ([]Event, error)
}

// MeetingFilter selects meetings, ordered by start time and id. After continues from a
// previous page's last meeting.
type MeetingFilter struct {
	CouncilID     int64
	CommitteeID   int64
	Status        MeetingStatus
	PublishedOnly bool
	// VisibleCommittees also lets through unpublished meetings of these committees (a
	// member sees their committee's drafts).
	VisibleCommittees []int64
	// VisibleCouncils lets through unpublished meetings of these councils.
	VisibleCouncils []int64
	From, To        time.Time
	After           *MeetingCursor
	Limit           int
}

// MeetingCursor is the position after which a page of meetings continues.
type MeetingCursor struct {
	StartsAt time.Time
	ID       int64
}

// LoginSession is a browser session. IDHash is the SHA-256 of the cookie's value.
type LoginSession struct {
	IDHash    string    `db:"id"`
	UserID    int64     `db:"user_id"`
	CSRFToken string    `db:"csrf_token"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// APIToken is a bearer token for the CLI and integrations. Only its hash is stored.
type APIToken struct {
	ID         int64      `json:"id" db:"id"`
	UserID     int64      `json:"user_id" db:"user_id"`
	Name       string     `json:"name" db:"name"`
	Hash       string     `json:"-" db:"hash"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty" db:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty" db:"last_used_at"`
}

// LinkPurpose says what a link is for.
type LinkPurpose string

// Link purposes.
const (
	// Invite lets a new account's owner set their password.
	Invite LinkPurpose = "invite"
	// SignIn signs its holder in once (or, if reusable, until it expires).
	SignIn LinkPurpose = "signin"
)

// Link is an invitation or sign-in link. Only the token's hash is stored.
type Link struct {
	Hash      string      `db:"hash"`
	UserID    int64       `db:"user_id"`
	Purpose   LinkPurpose `db:"purpose"`
	Redirect  string      `db:"redirect"`
	Reusable  bool        `db:"reusable"`
	CreatedBy int64       `db:"created_by"`
	CreatedAt time.Time   `db:"created_at"`
	ExpiresAt time.Time   `db:"expires_at"`
	UsedAt    *time.Time  `db:"used_at"`
}
