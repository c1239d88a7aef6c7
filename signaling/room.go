package signaling

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync/atomic"
	"time"
)

const (
	roomInbox     = 1024
	speakingEvery = 250 * time.Millisecond
	journalWait   = 5 * time.Second
)

// room is one meeting's live room. Its goroutine (run) owns every field below the
// line; everything else reaches it by posting a function to the inbox.
type room struct {
	hub     *Hub
	id      int64
	log     *slog.Logger
	inbox   chan func()
	done    chan struct{} // closed when run returns
	pending atomic.Int32  // joins on their way to the inbox
	seq     atomic.Int64  // the meeting journal's sequence number, as far as the room knows
	size    atomic.Int32  // participants, for Hub.Rooms
	moved   atomic.Bool   // another node holds the room's lease now

	// ----
	participants map[string]*participant
	tracks       map[string]*pubTrack
	trackSerial  int
	floor        *Floor
	hands        []Hand
	private      bool
	ended        bool
	endReason    string
	loadErr      error
	movedTo      Node           // the node hosting the room once it has moved
	speaking     map[string]int // identities last announced as speaking
	// Gap filling: events that arrived ahead of the journal sequence.
	fetching bool
	ahead    map[int64]MeetingEvent
}

// participant is someone in the room: connected, or dropped and waiting to resume.
type participant struct {
	g          Grants
	session    string      // the resume token's session; a new one on every (re)join
	conn       *connection // nil while waiting to resume
	joinedAt   time.Time
	droppedAt  time.Time
	resumeWait *time.Timer
	audioMuted bool
	videoMuted bool
	receive    Receive // the kinds of media the participant asked to receive
	hand       bool
	tracks     map[string]*pubTrack
	replaying  bool           // journal replay in progress: live events are held
	held       []MeetingEvent // live events held during replay
}

// pubTrack is a track a participant sends to the SFU.
type pubTrack struct {
	id        string
	serial    int
	owner     *participant
	conn      *connection // whose peer connection receives it
	fwd       *forwarder
	published bool // announced and forwarded
}

func (t *pubTrack) info() Track {
	return Track{
		ID:       t.id,
		Identity: t.owner.g.Identity,
		Kind:     t.fwd.kind.String(),
		Codec:    t.fwd.codec.MimeType,
		Muted:    t.fwd.muted.Load(),
	}
}

func newRoom(h *Hub, id int64) *room {
	return &room{
		hub:          h,
		id:           id,
		log:          h.log.With("meeting", id),
		inbox:        make(chan func(), roomInbox),
		done:         make(chan struct{}),
		participants: make(map[string]*participant),
		tracks:       make(map[string]*pubTrack),
		speaking:     make(map[string]int),
		ahead:        make(map[int64]MeetingEvent),
	}
}

// post queues fn for the room's goroutine. It returns false if the room has stopped.
func (r *room) post(fn func()) bool {
	select {
	case r.inbox <- fn:
		return true
	case <-r.done:
		return false
	}
}

func (r *room) postCtx(ctx context.Context, fn func()) bool {
	select {
	case r.inbox <- fn:
		return true
	case <-r.done:
		return false
	case <-ctx.Done():
		r.log.Warn("room inbox full: event dropped")
		return false
	}
}

func (r *room) run() {
	defer r.hub.wg.Done()
	stopLease := r.keepLease()
	r.loop()
	close(r.done)
	stopLease()
}

// loop runs the room until it is empty and forgotten by the hub.
func (r *room) loop() {
	r.load()
	tick := time.NewTicker(speakingEvery)
	defer tick.Stop()
	for {
		select {
		case fn := <-r.inbox:
			fn()
		case <-tick.C:
			r.announceSpeakers()
		}
		if len(r.participants) == 0 && r.hub.removeRoom(r) {
			return
		}
	}
}

// keepLease renews this node's lease on the room (claimed before the room was
// opened) until stop is called, which then releases it, unless the room has moved.
// A room whose lease another node has taken moves there.
func (r *room) keepLease() (stop func()) {
	h := r.hub
	if h.directory == nil {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(max(h.leaseTTL/3, time.Millisecond))
		defer tick.Stop()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), directoryTimeout)
			host, err := h.directory.Claim(ctx, r.id, h.node, h.leaseTTL)
			cancel()
			switch {
			case err != nil:
				// Redis may come back before the lease runs out.
				r.log.Warn("renew the lease on the room", "err", err)
			case host.ID != h.node.ID:
				r.log.Error("the room's lease is held by another node: moving there", "node", host.ID)
				r.moved.Store(true)
				r.post(func() { r.moveTo(host) })
				return
			}
			select {
			case <-tick.C:
			case <-quit:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-done
		if !r.moved.Load() {
			h.releaseLease(r.id)
		}
	}
}

// moveTo ends the room on this node because host holds it now: everyone is told
// where to connect and disconnected.
func (r *room) moveTo(host Node) {
	r.movedTo = host
	for _, p := range r.participants {
		if p.conn != nil {
			p.conn.sendWrongNode("", host)
		}
	}
	r.end(ReasonMoved)
}

// load reads the journal to learn the sequence number and the session state.
func (r *room) load() {
	if r.hub.journal == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), journalWait)
	defer cancel()
	events, err := r.hub.journal.EventsAfter(ctx, r.id, 0)
	if err != nil {
		r.loadErr = err
		r.log.Error("read meeting journal", "err", err)
		return
	}
	for _, ev := range events {
		r.fold(ev)
	}
}

// fold applies an event to the room's own state.
func (r *room) fold(ev MeetingEvent) {
	if ev.Seq > r.seq.Load() {
		r.seq.Store(ev.Seq)
	}
	switch ev.Type {
	case EventSessionPrivate:
		r.private = true
	case EventSessionPublic:
		r.private = false
	case EventMeetingClosed:
		r.ended = true
		r.endReason = ReasonMeetingClosed
	}
}

// joinError refuses a join with an error code; url is the host's for wrong_node.
type joinError struct {
	code, msg, url string
}

// join admits c: a new participant, or one already here (resuming, or on a second
// connection, which replaces the first) who keeps role, floor, hand and mutes. A
// console has an identity of its own, so it never takes the place of its person's
// seat in the room, nor the other way round.
func (r *room) join(c *connection, req joinRequest) *joinError {
	r.pending.Add(-1)
	switch {
	case r.movedTo.ID != "":
		return &joinError{code: CodeWrongNode, msg: "the meeting's room is on another node", url: r.movedTo.URL}
	case r.loadErr != nil:
		return &joinError{code: CodeUnavailable, msg: "the meeting's journal cannot be read"}
	case r.ended && r.endReason == ReasonMeetingClosed:
		return &joinError{code: CodeMeetingClosed, msg: "the meeting has closed"}
	case r.ended:
		return &joinError{code: CodeUnavailable, msg: "the server is shutting down"}
	}
	now := r.hub.now()
	p := r.participants[req.identity]
	if req.grants == nil && (p == nil || p.session != req.session) {
		return &joinError{code: CodeResumeFailed, msg: "nothing to resume: join again with a token"}
	}
	if p != nil && req.grants != nil && req.grants.Console != p.g.Console {
		// A console and a seat in the room never take each other's place.
		return &joinError{code: CodeForbidden, msg: "this identity is in the room as another kind of connection"}
	}
	if p == nil && len(r.participants) >= r.hub.limits.MaxParticipants {
		return &joinError{code: CodeRoomFull, msg: "the room is full"}
	}
	resumed := p != nil
	if p == nil {
		// A console shows no video and plays no sound unless it asks.
		on := !req.grants.Console
		p = &participant{g: *req.grants, joinedAt: now, tracks: make(map[string]*pubTrack),
			receive: Receive{Audio: on, Video: on}}
		r.participants[p.g.Identity] = p
		r.size.Store(int32(len(r.participants)))
		r.hub.metrics.participants.Inc()
	} else if req.grants != nil {
		p.g = *req.grants
	}
	if old := p.conn; old != nil {
		r.detach(p, ReasonReplaced)
	}
	if p.resumeWait != nil {
		p.resumeWait.Stop()
		p.resumeWait = nil
	}
	p.conn = c
	c.p = p
	c.grants = p.g
	p.session = randomID()
	resume, err := r.hub.tokens.IssueResume(r.id, p.g.Identity, p.session, resumeTokenTTL)
	if err != nil {
		r.log.Error("issue resume token", "err", err)
	}
	c.peer.setPaused(p.g.Public() && r.private)
	c.peer.setReceive(p.receive)
	receive := p.receive

	var tracks []Track
	for _, t := range r.sortedTracks() {
		if t.published {
			tracks = append(tracks, t.info())
		}
	}
	self := r.info(p)
	c.sendMsg(&ServerMessage{
		Type:         MsgJoined,
		Seq:          r.seq.Load(),
		Ref:          req.ref,
		V:            ProtocolVersion,
		Self:         &self,
		ResumeToken:  resume,
		ResumeWithin: int(r.hub.limits.ResumeWindow / time.Second),
		Resumed:      resumed,
		ICEServers:   r.hub.iceServers,
		Participants: r.list(),
		Tracks:       tracks,
		Session:      r.sessionState(),
		Floor:        r.floor,
		Hands:        r.hands,
		Receive:      &receive,
		Message:      r.sessionMessage(p),
	})
	if resumed {
		r.announce(p, &ServerMessage{Type: MsgParticipantUpdated, Participant: &self}, c)
	} else {
		r.announce(p, &ServerMessage{Type: MsgParticipantJoined, Participant: &self}, c)
		r.notePresence(p, true, now)
	}
	r.log.Info("joined", "who", p.g, "resumed", resumed)
	r.subscribe(p)
	if req.lastSeq > 0 && req.lastSeq < r.seq.Load() {
		r.replay(p, req.lastSeq)
	}
	return nil
}

// detach ends p's current connection (telling it why) and unpublishes its tracks.
func (r *room) detach(p *participant, reason string) {
	c := p.conn
	if c == nil {
		return
	}
	p.conn = nil
	c.sendMsg(&ServerMessage{Type: MsgClosed, Reason: reason})
	c.close()
	c.peer.close()
	r.dropTracks(p, c)
	p.replaying, p.held = false, nil
}

// dropTracks forgets the tracks p published over connection c.
func (r *room) dropTracks(p *participant, c *connection) {
	changed := false
	for id, t := range p.tracks {
		if t.conn != c {
			continue
		}
		if t.published {
			changed = true
			r.broadcast(&ServerMessage{Type: MsgTrackUnpublished, TrackID: t.id, Identity: p.g.Identity}, nil)
		}
		t.fwd.gate(true)
		delete(p.tracks, id)
		delete(r.tracks, id)
	}
	if changed {
		r.resubscribe()
	}
}

// disconnected handles the end of c's reader: the participant waits to resume.
func (r *room) disconnected(c *connection) {
	p := c.p
	if p == nil || p.conn != c {
		return // already replaced, removed or left
	}
	r.detach(p, ReasonError)
	if r.ended {
		r.remove(p, ReasonLeft)
		return
	}
	p.droppedAt = r.hub.now()
	session := p.session
	p.resumeWait = time.AfterFunc(r.hub.limits.ResumeWindow, func() {
		r.post(func() { r.expire(p, session) })
	})
	info := r.info(p)
	r.announce(p, &ServerMessage{Type: MsgParticipantUpdated, Participant: &info}, nil)
	r.log.Info("dropped: waiting to resume", "who", p.g)
}

// expire removes a dropped participant who did not resume in time.
func (r *room) expire(p *participant, session string) {
	if r.participants[p.g.Identity] != p || p.conn != nil || p.session != session {
		return
	}
	r.removeAt(p, ReasonTimeout, p.droppedAt)
}

// leave handles a client's leave message.
func (r *room) leave(c *connection) {
	p := c.p
	if p == nil || p.conn != c {
		return
	}
	r.detach(p, ReasonLeft)
	r.remove(p, ReasonLeft)
}

func (r *room) remove(p *participant, reason string) {
	r.removeAt(p, reason, r.hub.now())
}

// removeAt takes p out of the room: floor, hand and all. at is when they left.
func (r *room) removeAt(p *participant, reason string, at time.Time) {
	if r.participants[p.g.Identity] != p {
		return
	}
	r.detach(p, reason)
	if p.resumeWait != nil {
		p.resumeWait.Stop()
		p.resumeWait = nil
	}
	delete(r.participants, p.g.Identity)
	r.size.Store(int32(len(r.participants)))
	r.hub.metrics.participants.Dec()
	if r.floor != nil && r.floor.Identity == p.g.Identity {
		r.floor = nil
		r.broadcast(&ServerMessage{Type: MsgFloor}, nil)
	}
	if p.hand {
		r.lowerHand(p)
	}
	if !p.g.Hidden {
		r.broadcast(&ServerMessage{Type: MsgParticipantLeft, Identity: p.g.Identity, Reason: reason}, nil)
	}
	r.notePresence(p, false, at)
	r.log.Info("left", "who", p.g, "reason", reason)
}

// notePresence reports that p joined or finally left. A console is not a seat in the
// meeting: its coming and going is nobody's attendance.
func (r *room) notePresence(p *participant, join bool, at time.Time) {
	if p.g.Console {
		return
	}
	r.hub.notePresence(presenceCall{join: join, meetingID: r.id, userID: p.g.UserID, at: at})
}

// shutdown closes the room because the hub is stopping.
func (r *room) shutdown() {
	r.end(ReasonShutdown)
}

// end closes every connection and empties the room.
func (r *room) end(reason string) {
	r.ended = true
	r.endReason = reason
	for _, p := range r.sortedParticipants() {
		r.detach(p, reason)
		r.remove(p, reason)
	}
}

// info describes p to others.
func (r *room) info(p *participant) Participant {
	return Participant{
		Identity:   p.g.Identity,
		Name:       p.g.Name,
		Role:       p.g.Role,
		UserID:     p.g.UserID,
		Connected:  p.conn != nil,
		AudioMuted: p.audioMuted,
		VideoMuted: p.videoMuted,
		HandRaised: p.hand,
		HasFloor:   r.floor != nil && r.floor.Identity == p.g.Identity,
		JoinedAt:   p.joinedAt,
	}
}

// list describes every participant who is not hidden.
func (r *room) list() []Participant {
	var out []Participant
	for _, p := range r.sortedParticipants() {
		if !p.g.Hidden {
			out = append(out, r.info(p))
		}
	}
	return out
}

func (r *room) sortedParticipants() []*participant {
	ps := make([]*participant, 0, len(r.participants))
	for _, p := range r.participants {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool {
		if !ps[i].joinedAt.Equal(ps[j].joinedAt) {
			return ps[i].joinedAt.Before(ps[j].joinedAt)
		}
		return ps[i].g.Identity < ps[j].g.Identity
	})
	return ps
}

func (r *room) sortedTracks() []*pubTrack {
	ts := make([]*pubTrack, 0, len(r.tracks))
	for _, t := range r.tracks {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].serial < ts[j].serial })
	return ts
}

func (r *room) sessionState() string {
	if r.private {
		return SessionPrivate
	}
	return SessionPublic
}

func (r *room) sessionMessage(p *participant) string {
	if r.private && p.g.Public() {
		return PrivateSessionMessage
	}
	return ""
}

// broadcast sends m to every connected participant for whom keep (nil: everyone)
// returns true, encoding it once.
func (r *room) broadcast(m *ServerMessage, keep func(*participant) bool) {
	m.Seq = r.seq.Load()
	b := encode(m)
	for _, p := range r.participants {
		if p.conn != nil && (keep == nil || keep(p)) {
			p.conn.sendRaw(b)
		}
	}
}

// announce tells everyone about p, or only p itself if p is hidden; skip (if not
// nil) is left out.
func (r *room) announce(p *participant, m *ServerMessage, skip *connection) {
	if p.g.Hidden {
		if p.conn != nil && p.conn != skip {
			p.conn.sendMsg(m)
		}
		return
	}
	r.broadcast(m, func(q *participant) bool { return q.conn != skip })
}

func (r *room) updated(p *participant) {
	info := r.info(p)
	r.announce(p, &ServerMessage{Type: MsgParticipantUpdated, Participant: &info}, nil)
}

// subscribe tells p's peer which tracks it should receive.
func (r *room) subscribe(p *participant) {
	if p.conn == nil {
		return
	}
	var want []*forwarder
	if p.g.CanSubscribe {
		for _, t := range r.sortedTracks() {
			if t.published && t.owner != p {
				want = append(want, t.fwd)
			}
		}
	}
	p.conn.peer.setWanted(want)
}

func (r *room) resubscribe() {
	for _, p := range r.participants {
		r.subscribe(p)
	}
}

// mayPublish reports whether p's media may be forwarded now: members and officers
// always, a public speaker only while holding the floor on their own item.
func (r *room) mayPublish(p *participant) bool {
	if p.g.CanPublish {
		return true
	}
	return p.g.Role == RoleSpeaker && r.floor != nil && r.floor.Identity == p.g.Identity &&
		r.floor.ItemID == p.g.SpeakerItemID
}

// mayEverPublish reports whether p may send media at all. A console never may.
func mayEverPublish(g Grants) bool {
	return !g.Console && (g.CanPublish || g.Role == RoleSpeaker)
}

// mayNotPublish says, for a client, why g may never publish.
func mayNotPublish(g Grants) string {
	if g.Console {
		return "a console may not publish media"
	}
	return fmt.Sprintf("a %s may not publish media", g.Role)
}

// onTrack registers a track that arrived on c's peer connection.
func (r *room) onTrack(c *connection, f *forwarder) {
	p := c.p
	if p == nil || p.conn != c || r.ended {
		return // stale connection: the forwarder stays gated until its peer closes
	}
	if !mayEverPublish(p.g) {
		c.sendError("", CodePublishNotAllowed, "%s", mayNotPublish(p.g))
		return
	}
	if len(p.tracks) >= r.hub.limits.MaxTracksPerParticipant {
		c.sendError("", CodeTooManyTracks, "at most %d tracks per participant", r.hub.limits.MaxTracksPerParticipant)
		return
	}
	r.trackSerial++
	t := &pubTrack{id: f.id, serial: r.trackSerial, owner: p, conn: c, fwd: f}
	p.tracks[t.id] = t
	r.tracks[t.id] = t
	f.muted.Store(r.kindMuted(p, f.kind.String()))
	if r.refreshPublishing(p) {
		r.resubscribe()
	}
}

// trackEnded forgets a track whose forwarder has stopped.
func (r *room) trackEnded(f *forwarder) {
	t := r.tracks[f.id]
	if t == nil || t.fwd != f {
		return
	}
	delete(r.tracks, t.id)
	delete(t.owner.tracks, t.id)
	if t.published {
		r.broadcast(&ServerMessage{Type: MsgTrackUnpublished, TrackID: t.id, Identity: t.owner.g.Identity}, nil)
		r.resubscribe()
	}
}

// refreshPublishing publishes or unpublishes p's tracks as its right to publish
// requires, and reports whether anything changed.
func (r *room) refreshPublishing(p *participant) bool {
	may := r.mayPublish(p) && p.conn != nil
	changed := false
	for _, t := range p.tracks {
		switch {
		case may && !t.published:
			t.published = true
			t.fwd.gate(false)
			info := t.info()
			r.broadcast(&ServerMessage{Type: MsgTrackPublished, Track: &info}, nil)
			changed = true
		case !may && t.published:
			t.published = false
			t.fwd.gate(true)
			r.broadcast(&ServerMessage{Type: MsgTrackUnpublished, TrackID: t.id, Identity: p.g.Identity}, nil)
			changed = true
		case !may:
			t.fwd.gate(true)
		}
	}
	return changed
}

func (r *room) kindMuted(p *participant, kind string) bool {
	if kind == KindAudio {
		return p.audioMuted
	}
	return p.videoMuted
}

// setMuted mutes or unmutes p's tracks of one kind.
func (r *room) setMuted(p *participant, kind string, muted bool) {
	if kind == KindAudio {
		if p.audioMuted == muted {
			return
		}
		p.audioMuted = muted
	} else {
		if p.videoMuted == muted {
			return
		}
		p.videoMuted = muted
	}
	for _, t := range p.tracks {
		if t.fwd.kind.String() != kind {
			continue
		}
		t.fwd.muted.Store(muted)
		if !muted {
			t.fwd.requestKeyframe()
		}
		if t.published {
			info := t.info()
			r.broadcast(&ServerMessage{Type: MsgTrackUpdated, Track: &info}, nil)
		}
	}
	r.updated(p)
}

// onEvent takes a meeting event from the bus or Deliver.
func (r *room) onEvent(ev MeetingEvent) {
	if ev.MeetingID != r.id || r.loadErr != nil {
		return
	}
	switch seq := r.seq.Load(); {
	case ev.Seq == 0:
		r.apply(ev) // not journalled
	case ev.Seq <= seq:
		// already seen
	case ev.Seq == seq+1 || r.hub.journal == nil:
		r.apply(ev)
		r.drainAhead()
	default:
		r.ahead[ev.Seq] = ev
		r.fillGap()
	}
}

// fillGap reads the events missing before those held ahead.
func (r *room) fillGap() {
	if r.fetching {
		return
	}
	r.fetching = true
	after := r.seq.Load()
	r.hub.goTracked(func() {
		ctx, cancel := context.WithTimeout(context.Background(), journalWait)
		defer cancel()
		events, err := r.hub.journal.EventsAfter(ctx, r.id, after)
		r.post(func() { r.gapFilled(events, err) })
	})
}

func (r *room) gapFilled(events []MeetingEvent, err error) {
	r.fetching = false
	if err != nil {
		r.log.Warn("read meeting journal to fill a gap", "err", err)
	}
	for _, ev := range events {
		if ev.Seq > r.seq.Load() {
			r.apply(ev)
		}
	}
	// Whatever is still missing is lost: go on with what arrived.
	keys := make([]int64, 0, len(r.ahead))
	for s := range r.ahead {
		keys = append(keys, s)
	}
	slices.Sort(keys)
	for _, s := range keys {
		if ev := r.ahead[s]; ev.Seq > r.seq.Load() {
			r.apply(ev)
		}
		delete(r.ahead, s)
	}
}

func (r *room) drainAhead() {
	for {
		next, ok := r.ahead[r.seq.Load()+1]
		if !ok {
			return
		}
		delete(r.ahead, next.Seq)
		r.apply(next)
	}
}

// apply acts on an event and passes it on.
func (r *room) apply(ev MeetingEvent) {
	wasPrivate := r.private
	r.fold(ev)
	// Members of the public lose media before they could see anything else.
	if r.private && !wasPrivate {
		r.setPublicPaused(true)
	}
	msg := &ServerMessage{Type: MsgMeetingEvent, Event: &ev}
	msg.Seq = r.seq.Load()
	if ev.Seq != 0 {
		msg.Seq = ev.Seq
	}
	b := encode(msg)
	for _, p := range r.participants {
		if p.conn == nil || (ev.Private && p.g.Public()) {
			continue
		}
		if p.replaying {
			p.held = append(p.held, ev)
			continue
		}
		p.conn.sendRaw(b)
	}
	if r.private != wasPrivate {
		if !r.private {
			r.setPublicPaused(false)
		}
		for _, p := range r.participants {
			if p.conn != nil {
				p.conn.sendMsg(&ServerMessage{Type: MsgSession, Seq: r.seq.Load(),
					Session: r.sessionState(), Message: r.sessionMessage(p)})
			}
		}
	}
	if ev.Type == EventMeetingClosed {
		r.end(ReasonMeetingClosed)
	}
}

// setPublicPaused stops or resumes all media to members of the public.
func (r *room) setPublicPaused(paused bool) {
	for _, p := range r.participants {
		if p.conn != nil && p.g.Public() {
			p.conn.peer.setPaused(paused)
		}
	}
}

// replay sends p the journal's events after lastSeq, holding live events meanwhile.
func (r *room) replay(p *participant, lastSeq int64) {
	if r.hub.journal == nil {
		return
	}
	c := p.conn
	upTo := r.seq.Load()
	p.replaying = true
	r.hub.goTracked(func() {
		ctx, cancel := context.WithTimeout(context.Background(), journalWait)
		defer cancel()
		events, err := r.hub.journal.EventsAfter(ctx, r.id, lastSeq)
		r.post(func() { r.replayed(c, lastSeq, upTo, events, err) })
	})
}

func (r *room) replayed(c *connection, lastSeq, upTo int64, events []MeetingEvent, err error) {
	p := c.p
	if p == nil || p.conn != c {
		return
	}
	if err != nil {
		r.log.Warn("read meeting journal to replay", "err", err)
		c.sendError("", CodeUnavailable, "missed events could not be replayed")
	}
	send := func(ev MeetingEvent) {
		if ev.Private && p.g.Public() {
			return
		}
		c.sendMsg(&ServerMessage{Type: MsgMeetingEvent, Seq: ev.Seq, Event: &ev})
	}
	for _, ev := range events {
		if ev.Seq > lastSeq && ev.Seq <= upTo {
			send(ev)
		}
	}
	for _, ev := range p.held {
		send(ev)
	}
	p.replaying, p.held = false, nil
}

// announceSpeakers tells the room who is speaking when that changes. Members of the
// public are not told during private session.
func (r *room) announceSpeakers() {
	now := time.Now()
	levels := make(map[string]int)
	for _, t := range r.tracks {
		if !t.published || t.fwd.kind.String() != KindAudio || t.fwd.muted.Load() {
			continue
		}
		if ok, lvl := t.fwd.speaking(now); ok && lvl >= levels[t.owner.g.Identity] {
			levels[t.owner.g.Identity] = lvl
		}
	}
	same := len(levels) == len(r.speaking)
	for id := range levels {
		if _, ok := r.speaking[id]; !ok {
			same = false
		}
	}
	if same {
		return
	}
	r.speaking = levels
	speakers := make([]Speaker, 0, len(levels))
	for id, lvl := range levels {
		speakers = append(speakers, Speaker{Identity: id, Level: lvl})
	}
	sort.Slice(speakers, func(i, j int) bool { return speakers[i].Level > speakers[j].Level })
	r.broadcast(&ServerMessage{Type: MsgSpeaking, Speakers: speakers}, func(p *participant) bool {
		return !(r.private && p.g.Public())
	})
}
