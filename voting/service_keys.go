package voting

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/chamber/chamber/agenda"
)

// MaxKeyLabel is the longest label a key may have, in bytes.
const MaxKeyLabel = 100

// EnrolKey enrols a public key for the actor's own ballots, with a label that tells
// their devices apart ("laptop", "CLI"). The key signs nothing that counts until a
// clerk approves it. The server only ever receives the public half.
func (s *Service) EnrolKey(ctx context.Context, actor agenda.Actor, pub ed25519.PublicKey, label string) (Key, error) {
	if actor.UserID == 0 {
		return Key{}, forbid(actor, "enrol a key")
	}
	label = strings.TrimSpace(label)
	if len(label) > MaxKeyLabel || !utf8.ValidString(label) {
		return Key{}, fmt.Errorf("enrol key: %w: label longer than %d bytes or not UTF-8", ErrMalformed, MaxKeyLabel)
	}
	k, err := NewKey(actor.UserID, pub, label, s.clock())
	if err != nil {
		return Key{}, fmt.Errorf("enrol key: %w", err)
	}
	if err := s.store.CreateKey(ctx, k); err != nil {
		return Key{}, fmt.Errorf("enrol key: %w", err)
	}
	s.log.Info("key enrolled", "user", actor.UserID, "key", k.ID)
	return k, nil
}

// ApproveKey approves a member's key: a clerk of a council the member belongs to, or
// an admin. A clerk may not approve their own key: another clerk or an admin must.
func (s *Service) ApproveKey(ctx context.Context, actor agenda.Actor, id KeyID) (Key, error) {
	k, err := s.manageableKey(ctx, actor, id)
	if err != nil {
		return Key{}, err
	}
	if k.User == actor.UserID && !actor.Admin {
		return Key{}, forbid(actor, "approve key %s: a clerk's own key is approved by another clerk or an admin", id)
	}
	k, err = s.store.ApproveKey(ctx, id, actor.UserID, s.clock())
	if err != nil {
		return Key{}, err
	}
	s.log.Info("key approved", "user", k.User, "key", k.ID, "by", actor.UserID)
	return k, nil
}

// RevokeKey revokes a key: its owner (a lost device) or whoever may approve it. A
// revoked key signs nothing from then on; ballots it signed before stay.
func (s *Service) RevokeKey(ctx context.Context, actor agenda.Actor, id KeyID) (Key, error) {
	k, err := s.store.Key(ctx, id)
	if err != nil {
		return Key{}, err
	}
	if actor.UserID == 0 || k.User != actor.UserID {
		if _, err := s.manageableKey(ctx, actor, id); err != nil {
			return Key{}, err
		}
	}
	k, err = s.store.RevokeKey(ctx, id, actor.UserID, s.clock())
	if err != nil {
		return Key{}, err
	}
	s.log.Info("key revoked", "user", k.User, "key", k.ID, "by", actor.UserID)
	return k, nil
}

// ListKeys returns a user's keys, newest first: the actor's own, or, for a clerk of a
// council the user belongs to, theirs.
func (s *Service) ListKeys(ctx context.Context, actor agenda.Actor, userID int64) ([]Key, error) {
	if actor.UserID == 0 || userID != actor.UserID {
		if err := s.mayManage(ctx, actor, userID); err != nil {
			return nil, err
		}
	}
	keys, err := s.store.UserKeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	if keys == nil {
		keys = []Key{}
	}
	return keys, nil
}

// CouncilKeys returns the keys of a council's people, newest first, for its clerks
// (and admins): the keys waiting for their approval among them.
func (s *Service) CouncilKeys(ctx context.Context, actor agenda.Actor, councilID int64) ([]Key, error) {
	if !actor.Admin && !actor.IsClerk(councilID) {
		return nil, forbid(actor, "keys of council %d: only its clerks", councilID)
	}
	keys, err := s.store.CouncilKeys(ctx, councilID)
	if err != nil {
		return nil, err
	}
	if keys == nil {
		keys = []Key{}
	}
	return keys, nil
}

// Key returns a key: to its owner, and to whoever may manage it.
func (s *Service) Key(ctx context.Context, actor agenda.Actor, id KeyID) (Key, error) {
	k, err := s.store.Key(ctx, id)
	if err != nil {
		return Key{}, err
	}
	if actor.UserID == 0 || k.User != actor.UserID {
		if err := s.mayManage(ctx, actor, k.User); err != nil {
			return Key{}, err
		}
	}
	return k, nil
}

// manageableKey returns key id if actor may approve it.
func (s *Service) manageableKey(ctx context.Context, actor agenda.Actor, id KeyID) (Key, error) {
	k, err := s.store.Key(ctx, id)
	if err != nil {
		return Key{}, err
	}
	if err := s.mayManage(ctx, actor, k.User); err != nil {
		return Key{}, err
	}
	return k, nil
}

// mayManage reports, as an error, whether actor may manage user's keys: an admin, or
// a clerk of a council that user belongs to.
func (s *Service) mayManage(ctx context.Context, actor agenda.Actor, user int64) error {
	if actor.Admin {
		return nil
	}
	if actor.Anonymous() {
		return forbid(actor, "keys of user %d", user)
	}
	if s.people == nil {
		return forbid(actor, "keys of user %d: only an admin may manage keys here", user)
	}
	owner, err := s.people.Actor(ctx, user)
	if errors.Is(err, agenda.ErrNotFound) || errors.Is(err, agenda.ErrUnauthenticated) {
		return fmt.Errorf("user %d: %w", user, ErrNotFound)
	}
	if err != nil {
		return err
	}
	for council := range owner.Councils {
		if actor.IsClerk(council) {
			return nil
		}
	}
	return forbid(actor, "keys of user %d: not a clerk of their council", user)
}
