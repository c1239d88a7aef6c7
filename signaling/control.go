package signaling

import (
	"fmt"

	"github.com/pion/sdp/v3"
)

// handle acts on a client message that needs the room's state.
func (r *room) handle(c *connection, m ClientMessage) {
	p := c.p
	if p == nil || p.conn != c {
		return
	}
	switch m.Type {
	case MsgOffer:
		r.offer(c, p, m)
	case MsgPublish:
		if !mayEverPublish(p.g) {
			c.sendError(m.ID, CodePublishNotAllowed, "%s", mayNotPublish(p.g))
			return
		}
		limit := r.hub.limits.MaxTracksPerParticipant
		c.peer.post(func() { c.peer.addSlot(m, limit) })
	case MsgMute, MsgUnmute:
		r.setMuted(p, m.Kind, m.Type == MsgMute)
	case MsgReceive:
		if m.Audio != nil {
			p.receive.Audio = *m.Audio
		}
		if m.Video != nil {
			p.receive.Video = *m.Video
		}
		c.peer.setReceive(p.receive)
		receive := p.receive
		c.sendMsg(&ServerMessage{Type: MsgReceiving, Ref: m.ID, Receive: &receive})
	case MsgRaiseHand:
		switch {
		case p.g.Role == RoleObserver:
			c.sendError(m.ID, CodeForbidden, "an observer cannot ask to speak")
			return
		case p.g.Console:
			c.sendError(m.ID, CodeForbidden, "a console cannot ask to speak: raise a hand from the room")
			return
		}
		if !p.hand {
			p.hand = true
			r.hands = append(r.hands, Hand{Identity: p.g.Identity, Name: p.g.Name, Since: r.hub.now()})
			r.broadcastHands()
			r.updated(p)
		}
	case MsgLowerHand:
		target := p
		if m.Identity != "" && m.Identity != p.g.Identity {
			if target = r.adminTarget(c, p, m); target == nil {
				return
			}
		}
		if target.hand {
			r.lowerHand(target)
			r.updated(target)
		}
	case MsgGrantFloor:
		if target := r.adminTarget(c, p, m); target != nil {
			r.grantFloor(c, m.ID, target, m.ItemID)
		}
	case MsgNextSpeaker:
		if !r.admin(c, p, m) {
			return
		}
		if len(r.hands) == 0 {
			c.sendError(m.ID, CodeNotFound, "no hands are raised")
			return
		}
		if target := r.participants[r.hands[0].Identity]; target != nil {
			r.grantFloor(c, m.ID, target, m.ItemID)
		}
	case MsgWithdrawFloor:
		holder := r.floor != nil && r.floor.Identity == p.g.Identity
		if !holder && !r.admin(c, p, m) {
			return
		}
		r.setFloor(nil)
	case MsgMuteParticipant:
		if target := r.adminTarget(c, p, m); target != nil {
			r.setMuted(target, kindOrAudio(m.Kind), true)
		}
	case MsgMuteAll:
		if !r.admin(c, p, m) {
			return
		}
		for _, q := range r.sortedParticipants() {
			if q != p && !q.g.Console && !sameUser(p, q) {
				r.setMuted(q, kindOrAudio(m.Kind), true)
			}
		}
	case MsgRemoveParticipant:
		target := r.adminTarget(c, p, m)
		if target == nil {
			return
		}
		if target == p {
			c.sendError(m.ID, CodeForbidden, "use leave to leave the room")
			return
		}
		r.detach(target, ReasonRemoved)
		r.remove(target, ReasonRemoved)
	}
}

// sameUser reports whether p and q are two connections of one signed-in person: a
// chair's seat in the room and their console.
func sameUser(p, q *participant) bool {
	return p.g.UserID != 0 && p.g.UserID == q.g.UserID
}

func kindOrAudio(kind string) string {
	if kind == "" {
		return KindAudio
	}
	return kind
}

// admin reports whether p may use the chair's controls, telling the client if not.
func (r *room) admin(c *connection, p *participant, m ClientMessage) bool {
	if !p.g.CanAdmin {
		c.sendError(m.ID, CodeForbidden, "only the chair or the clerk may %s", m.Type)
		return false
	}
	return true
}

// adminTarget checks p's right to the chair's controls and finds the participant m names.
func (r *room) adminTarget(c *connection, p *participant, m ClientMessage) *participant {
	if !r.admin(c, p, m) {
		return nil
	}
	target := r.participants[m.Identity]
	if target == nil {
		c.sendError(m.ID, CodeNotFound, "no participant %q", m.Identity)
	}
	return target
}

// grantFloor gives target the floor on item, taking it from whoever had it.
func (r *room) grantFloor(c *connection, ref string, target *participant, item int64) {
	switch {
	case target.g.Role == RoleObserver:
		c.sendError(ref, CodeForbidden, "an observer cannot be given the floor")
		return
	case target.g.Console:
		c.sendError(ref, CodeForbidden, "a console cannot be given the floor")
		return
	case target.g.Role == RoleSpeaker && item != target.g.SpeakerItemID:
		c.sendError(ref, CodeItemMismatch, "%s may speak only on item %d", target.g.Identity, target.g.SpeakerItemID)
		return
	}
	if target.hand {
		r.lowerHand(target)
	}
	r.setFloor(&Floor{Identity: target.g.Identity, ItemID: item, Since: r.hub.now()})
}

// setFloor changes who has the floor (nil: nobody) and what they may publish.
func (r *room) setFloor(f *Floor) {
	var before *participant
	if r.floor != nil {
		before = r.participants[r.floor.Identity]
	}
	r.floor = f
	r.broadcast(&ServerMessage{Type: MsgFloor, Floor: f}, nil)
	changed := false
	if before != nil {
		changed = r.refreshPublishing(before)
		r.updated(before)
	}
	if f != nil {
		if after := r.participants[f.Identity]; after != nil && after != before {
			changed = r.refreshPublishing(after) || changed
			r.updated(after)
		}
	}
	if changed {
		r.resubscribe()
	}
}

func (r *room) lowerHand(p *participant) {
	p.hand = false
	for i, h := range r.hands {
		if h.Identity == p.g.Identity {
			r.hands = append(r.hands[:i:i], r.hands[i+1:]...)
			break
		}
	}
	r.broadcastHands()
}

func (r *room) broadcastHands() {
	r.broadcast(&ServerMessage{Type: MsgHands, Hands: r.hands}, nil)
}

// offer checks a client's offer against its right to publish before the peer takes it.
func (r *room) offer(c *connection, p *participant, m ClientMessage) {
	sending, err := sendingSections(m.SDP)
	if err != nil {
		c.sendError(m.ID, CodeBadMessage, "offer: %v", err)
		return
	}
	if sending > 0 && !mayEverPublish(p.g) {
		c.sendError(m.ID, CodePublishNotAllowed, "%s: offer only recvonly audio and video", mayNotPublish(p.g))
		return
	}
	if sending > r.hub.limits.MaxTracksPerParticipant {
		c.sendError(m.ID, CodeTooManyTracks, "at most %d tracks per participant", r.hub.limits.MaxTracksPerParticipant)
		return
	}
	c.peer.post(func() { c.peer.handleOffer(m) })
}

// sendingSections counts the audio and video sections in which the offerer would send.
func sendingSections(s string) (int, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(s); err != nil {
		return 0, fmt.Errorf("parse sdp: %w", err)
	}
	n := 0
	for _, md := range d.MediaDescriptions {
		if md.MediaName.Media != "audio" && md.MediaName.Media != "video" {
			continue
		}
		if md.MediaName.Port.Value == 0 {
			continue // rejected section
		}
		dir := "sendrecv"
		for _, a := range md.Attributes {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				dir = a.Key
			}
		}
		if dir == "sendrecv" || dir == "sendonly" {
			n++
		}
	}
	return n, nil
}
