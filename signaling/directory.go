package signaling

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Room placement.
//
// Several nodes form one deployment, and a meeting's live room is hosted by exactly one
// of them at a time, so that everyone in the meeting sees and hears everyone else. The
// node that first needs a room (to answer a join request, or to admit a connection)
// claims it in the RoomDirectory with a lease, renews the lease while the room lives
// and releases it when the room empties. A node that fails stops renewing; once its
// lease has expired the next node that needs the room claims it. The join endpoints
// give clients the signalling URL of the hosting node, and a connection that reaches
// another node anyway is answered with a wrong_node error naming the host.

// Node is one node of a deployment as its peers and clients know it.
type Node struct {
	ID  string // unique among the deployment's nodes; no spaces
	URL string // the node's signalling WebSocket URL (ws:// or wss://)
}

// Validate reports whether n has a usable id and URL.
func (n Node) Validate() error {
	switch {
	case n.ID == "":
		return errors.New("node: no id")
	case len(n.ID) > 128:
		return errors.New("node: id longer than 128 bytes")
	case strings.ContainsFunc(n.ID, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
		return fmt.Errorf("node: id %q has spaces or control characters", n.ID)
	case !strings.HasPrefix(n.URL, "ws://") && !strings.HasPrefix(n.URL, "wss://"):
		return fmt.Errorf("node: signalling URL %q is not a ws:// or wss:// URL", n.URL)
	case strings.ContainsFunc(n.URL, unicode.IsSpace):
		return fmt.Errorf("node: signalling URL %q has spaces", n.URL)
	}
	return nil
}

// RoomDirectory records which node hosts each meeting's live room. A node holds a room
// by a lease that lasts for a given time unless it is renewed.
type RoomDirectory interface {
	// Claim leases meetingID's room to self for ttl unless another node holds it, and
	// returns the node that holds it now. Claiming a room self holds renews the lease.
	Claim(ctx context.Context, meetingID int64, self Node, ttl time.Duration) (Node, error)
	// Release ends self's lease on meetingID's room; a lease another node holds is
	// left alone.
	Release(ctx context.Context, meetingID int64, self Node) error
}

// LocalDirectory is a RoomDirectory held in memory: the directory of a single node, or
// of several hubs in one process.
type LocalDirectory struct {
	now    func() time.Time
	mu     sync.Mutex // guards leases
	leases map[int64]localLease
}

type localLease struct {
	node    Node
	expires time.Time
}

var _ RoomDirectory = (*LocalDirectory)(nil)

// NewLocalDirectory returns an empty directory; now is its clock (nil: time.Now).
func NewLocalDirectory(now func() time.Time) *LocalDirectory {
	if now == nil {
		now = time.Now
	}
	return &LocalDirectory{now: now, leases: make(map[int64]localLease)}
}

// Claim implements RoomDirectory.
func (d *LocalDirectory) Claim(ctx context.Context, meetingID int64, self Node, ttl time.Duration) (Node, error) {
	if err := ctx.Err(); err != nil {
		return Node{}, err
	}
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.leases[meetingID]; ok && l.node.ID != self.ID && now.Before(l.expires) {
		return l.node, nil
	}
	d.leases[meetingID] = localLease{node: self, expires: now.Add(ttl)}
	return self, nil
}

// Release implements RoomDirectory.
func (d *LocalDirectory) Release(ctx context.Context, meetingID int64, self Node) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.leases[meetingID]; ok && l.node.ID == self.ID {
		delete(d.leases, meetingID)
	}
	return nil
}
