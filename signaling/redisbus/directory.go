package redisbus

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chamber/chamber/signaling"
)

// DefaultRoomPrefix begins the key of each meeting's room lease when no prefix is given.
const DefaultRoomPrefix = "chamber:room:"

// Directory is a signaling.RoomDirectory in Redis. Each meeting's room has one key
// (prefix and meeting id) holding the hosting node's id and signalling URL, separated
// by a space, set with NX and a TTL: the lease. The hosting node renews the TTL while
// the room lives and deletes the key when the room empties; a failed node's key
// expires, and the next node to claim the room sets its own.
type Directory struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ signaling.RoomDirectory = (*Directory)(nil)

// NewDirectory returns a directory keeping its leases under prefix ("" for
// DefaultRoomPrefix).
func NewDirectory(rdb redis.UniversalClient, prefix string) *Directory {
	if prefix == "" {
		prefix = DefaultRoomPrefix
	}
	return &Directory{rdb: rdb, prefix: prefix}
}

// claimScript takes the lease if nobody holds it (SET NX PX) or renews it if this node
// does (its URL refreshed), and returns the holder's value. KEYS[1] is the lease;
// ARGV: the node's id, its value, the TTL in milliseconds.
var claimScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then
  return ARGV[2]
end
local cur = redis.call('GET', KEYS[1])
if cur and string.match(cur, '^%S+') ~= ARGV[1] then
  return cur
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return ARGV[2]
`)

// releaseScript deletes the lease if this node (ARGV[1]) holds it.
var releaseScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and string.match(cur, '^%S+') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

func (d *Directory) key(meetingID int64) string {
	return d.prefix + strconv.FormatInt(meetingID, 10)
}

// Claim implements signaling.RoomDirectory.
func (d *Directory) Claim(ctx context.Context, meetingID int64, self signaling.Node, ttl time.Duration) (signaling.Node, error) {
	if err := self.Validate(); err != nil {
		return signaling.Node{}, fmt.Errorf("claim room %d: %w", meetingID, err)
	}
	ms := max(ttl.Milliseconds(), 1)
	v, err := claimScript.Run(ctx, d.rdb, []string{d.key(meetingID)}, self.ID, self.ID+" "+self.URL, ms).Text()
	if err != nil {
		return signaling.Node{}, fmt.Errorf("claim room %d: %w", meetingID, err)
	}
	id, url, ok := strings.Cut(v, " ")
	if !ok || id == "" {
		return signaling.Node{}, fmt.Errorf("claim room %d: malformed lease %q", meetingID, v)
	}
	return signaling.Node{ID: id, URL: url}, nil
}

// Release implements signaling.RoomDirectory.
func (d *Directory) Release(ctx context.Context, meetingID int64, self signaling.Node) error {
	if err := releaseScript.Run(ctx, d.rdb, []string{d.key(meetingID)}, self.ID).Err(); err != nil {
		return fmt.Errorf("release room %d: %w", meetingID, err)
	}
	return nil
}
