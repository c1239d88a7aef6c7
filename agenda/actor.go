package agenda

import "log/slog"

// Actor is who is asking: a signed-in user with their roles, or the public (the zero
// Actor). Roles are loaded once per request by Service.Actor.
type Actor struct {
	UserID     int64
	Name       string
	Admin      bool
	Councils   map[int64]CouncilRole   // council id → role
	Committees map[int64]CommitteeRole // committee id → role
}

// Anyone is the anonymous actor: the public, unsigned-in.
var Anyone = Actor{}

// system is the actor for changes the server makes itself (presence from the live room).
var system = Actor{Admin: true}

// Anonymous reports whether the actor has not signed in.
func (a Actor) Anonymous() bool { return a.UserID == 0 && !a.Admin }

// LogValue keeps log lines to the user id.
func (a Actor) LogValue() slog.Value {
	if a.Anonymous() {
		return slog.StringValue("public")
	}
	return slog.Int64Value(a.UserID)
}

// IsClerk reports whether the actor administers the council: its clerk, or an admin.
func (a Actor) IsClerk(councilID int64) bool {
	return a.Admin || a.Councils[councilID] == RoleClerk
}

// IsChair reports whether the actor presides over the committee's meetings (chair or
// vice-chair).
func (a Actor) IsChair(committeeID int64) bool {
	r := a.Committees[committeeID]
	return r == Chair || r == ViceChair
}

// CanRun reports whether the actor may run a meeting of the committee: start, move
// between items, adjourn, close, go into private session.
func (a Actor) CanRun(councilID, committeeID int64) bool {
	return a.IsClerk(councilID) || a.IsChair(committeeID)
}

// InCommittee reports whether the actor sits on the committee in any role.
func (a Actor) InCommittee(committeeID int64) bool {
	_, ok := a.Committees[committeeID]
	return ok
}

// CanReadPrivate reports whether the actor may see unpublished meetings, exempt business
// and private events of the committee: its members and substitutes, and the council's
// clerks and officers.
func (a Actor) CanReadPrivate(councilID, committeeID int64) bool {
	if a.Admin || a.InCommittee(committeeID) {
		return true
	}
	r := a.Councils[councilID]
	return r == RoleClerk || r == RoleOfficer
}

// forbid returns ErrForbidden, or ErrUnauthenticated for the public, so that the public
// is told to sign in and a signed-in user is told no.
func (a Actor) forbid() error {
	if a.Anonymous() {
		return ErrUnauthenticated
	}
	return ErrForbidden
}
