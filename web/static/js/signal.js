// The signalling client of a meeting's live room (signaling/PROTOCOL.md, version 1):
// it joins with a join token, keeps one RTCPeerConnection negotiated by the server
// (the server offers, this client answers), trickles ICE both ways, publishes local
// tracks through server-driven slots, keeps the connection alive with pings, and after
// a dropped connection resumes with its resume token (or joins afresh), backing off
// between attempts. It reports what is happening in plain words through "status"
// events, so that pages can say so.

const PROTOCOL_VERSION = 1;
const PING_EVERY_MS = 10_000;
const PONG_WITHIN_MS = 25_000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

// Reasons for "closed" after which trying again would not help.
const FINAL_REASONS = new Set(["left", "removed", "replaced", "meeting_closed"]);

// Error codes that end an attempt to join.
const JOIN_ERRORS = new Set(["unauthorized", "token_expired", "resume_failed", "not_joined",
  "unsupported_version", "forbidden", "room_full", "meeting_closed", "unavailable"]);

/**
 * RoomClient connects to one meeting's live room.
 *
 * Events (CustomEvent, the message or value in detail):
 *   status       {state, text}: connecting, connected, reconnecting, closed, failed
 *   joined       the joined message (also after a resume: detail.resumed)
 *   track        {track, streams, identity, trackId}: a remote track arrived
 *   message      every server message
 *   <type>       each server message by its type: session, meeting_event, speaking,
 *                participant_joined, participant_left, participant_updated, floor, hands,
 *                track_published, track_unpublished, track_updated, error, closed, receipt
 */
export class RoomClient extends EventTarget {
  /**
   * @param {object} opts
   * @param {() => Promise<{token: string, url: string}>} opts.getJoin fetches a join token
   * @param {MediaStreamTrack[]} [opts.tracks] local tracks to publish
   * @param {MediaStream} [opts.stream] the stream the local tracks belong to
   */
  constructor({ getJoin, tracks = [], stream = null }) {
    super();
    this.getJoin = getJoin;
    this.localTracks = tracks.slice();
    this.localStream = stream ?? (tracks.length ? new MediaStream(tracks) : null);
    this.ws = null;
    this.pc = null;
    this.join = null; // the last join answer {token, url, expires_at}
    this.resumeToken = "";
    this.resumeWithin = 0;
    this.droppedAt = 0;
    this.lastSeq = 0;
    this.attempt = 0;
    this.serial = 0;
    this.pending = new Map(); // id -> {resolve, reject} for cast and publish
    this.remoteCandidates = [];
    this.stopped = false;
    this.self = null;
    this.session = "public";
    this.pingTimer = 0;
    this.lastHeard = 0;
    this.retryTimer = 0;
    this.negotiation = Promise.resolve();
    this.onOnline = () => { if (!this.ws && !this.stopped) this.reconnectNow(); };
    this.onOffline = () => this.status("reconnecting", "The network connection is down. Reconnecting when it returns…");
  }

  /** Connects and joins; resolves with the joined message or rejects if the first join fails. */
  start() {
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    return new Promise((resolve, reject) => {
      const ok = (e) => { cleanup(); resolve(e.detail); };
      const bad = (e) => { if (e.detail.state === "failed" || e.detail.state === "closed") { cleanup(); reject(new Error(e.detail.text)); } };
      const cleanup = () => { this.removeEventListener("joined", ok); this.removeEventListener("status", bad); };
      this.addEventListener("joined", ok);
      this.addEventListener("status", bad);
      this.connect();
    });
  }

  /** Leaves the room for good. */
  leave() {
    if (this.stopped) return;
    this.send({ type: "leave" });
    this.stop("closed", "You have left the meeting.");
  }

  status(state, text) {
    this.state = state;
    this.emit("status", { state, text });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  nextID(prefix) {
    this.serial += 1;
    return prefix + this.serial;
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  // connect opens a WebSocket and joins: resuming where it can, else with a join token.
  async connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.status(this.attempt === 0 ? "connecting" : "reconnecting",
      this.attempt === 0 ? "Connecting to the meeting…" : "Reconnecting to the meeting…");
    const resuming = this.resumeToken && Date.now() - this.droppedAt < this.resumeWithin * 1000;
    if (!resuming) this.resumeToken = "";
    try {
      if (!this.join || (!resuming && this.tokenStale())) {
        this.join = await this.getJoin();
      }
    } catch (err) {
      this.retry(err.final ? "failed" : null, err.message || "Could not get a pass to the meeting.");
      return;
    }
    let ws;
    try {
      ws = new WebSocket(wsURL(this.join.url));
    } catch (err) {
      this.retry(null, "Could not open the connection to the meeting.");
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const msg = { v: PROTOCOL_VERSION, type: "join", id: "join" };
      if (this.resumeToken) {
        msg.resume = this.resumeToken;
        msg.last_seq = this.lastSeq;
      }
      if (!this.tokenStale()) msg.token = this.join.token;
      ws.send(JSON.stringify(msg));
    };
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      this.lastHeard = Date.now();
      this.handle(msg);
    };
    ws.onclose = () => {
      if (ws !== this.ws) return;
      this.dropped();
    };
  }

  tokenStale() {
    if (!this.join || !this.join.token) return true;
    if (!this.join.expires_at) return false;
    return Date.parse(this.join.expires_at) - Date.now() < 5000;
  }

  // dropped handles a connection that ended without the server saying it was final.
  dropped() {
    this.teardown();
    if (this.stopped) return;
    if (this.self) this.droppedAt = Date.now();
    this.retry(null, null);
  }

  // retry schedules the next attempt with backoff, or gives up when final is set.
  retry(final, text) {
    this.teardown();
    if (final) {
      this.stop(final, text);
      return;
    }
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] * (0.8 + 0.4 * Math.random());
    this.attempt += 1;
    const secs = Math.max(1, Math.round(delay / 1000));
    const why = text || (navigator.onLine === false ? "The network connection is down." : "The connection to the meeting was lost.");
    this.status("reconnecting", `${why} Trying again in ${secs} second${secs === 1 ? "" : "s"}…`);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    clearTimeout(this.retryTimer);
    this.teardown();
    this.connect();
  }

  teardown() {
    clearInterval(this.pingTimer);
    this.pingTimer = 0;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = null;
      try { ws.close(); } catch { /* already closed */ }
    }
    if (this.pc) {
      this.pc.onicecandidate = this.pc.ontrack = this.pc.onconnectionstatechange = null;
      this.pc.close();
      this.pc = null;
      this.emit("media_reset", {});
    }
    this.remoteCandidates = [];
    for (const [id, p] of this.pending) {
      if (id.startsWith("publish")) {
        this.pending.delete(id);
        p.reject(new Error("The connection dropped before the server answered."));
      }
    }
  }

  stop(state, text) {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    this.teardown();
    for (const p of this.pending.values()) p.reject(new Error(text));
    this.pending.clear();
    this.status(state, text);
  }

  handle(msg) {
    if (typeof msg.seq === "number" && msg.seq > this.lastSeq) this.lastSeq = msg.seq;
    switch (msg.type) {
      case "joined":
        this.onJoined(msg);
        break;
      case "offer":
        this.negotiate(() => this.onOffer(msg));
        break;
      case "answer":
        this.negotiate(() => this.pc && this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp }));
        break;
      case "candidate":
        this.onCandidate(msg.candidate);
        break;
      case "pong":
        break;
      case "session":
        this.session = msg.session;
        break;
      case "meeting_event":
        if (msg.event && msg.event.type === "meeting.closed") {
          this.emit("meeting_event", msg);
          this.emit("message", msg);
          this.stop("closed", "The meeting has closed.");
          return;
        }
        break;
      case "receipt": {
        const p = this.pending.get(msg.ref);
        if (p) {
          this.pending.delete(msg.ref);
          p.resolve(msg.receipt);
        }
        break;
      }
      case "error":
        if (this.onError(msg)) return;
        break;
      case "closed":
        this.emit("closed", msg);
        if (FINAL_REASONS.has(msg.reason)) {
          const words = {
            left: "You have left the meeting.",
            removed: "The chair has removed you from the meeting.",
            replaced: "You joined the meeting from another window or device; this one has stopped.",
            meeting_closed: "The meeting has closed.",
          };
          this.stop("closed", words[msg.reason]);
          return;
        }
        if (msg.reason === "moved") {
          // Another node hosts the room now: a new join token names it.
          this.join = null;
          if (this.self) this.droppedAt = Date.now();
          this.reconnectNow();
          return;
        }
        // shutdown, timeout, error: the connection ends; try again.
        return;
    }
    this.emit(msg.type, msg);
    this.emit("message", msg);
  }

  onJoined(msg) {
    this.resumed = !!msg.resumed;
    this.self = msg.self;
    this.resumeToken = msg.resume_token || "";
    this.resumeWithin = msg.resume_within || 30;
    this.session = msg.session || "public";
    this.attempt = 0;
    this.hops = 0;
    this.lastHeard = Date.now();
    this.newPeerConnection(msg.ice_servers || []);
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.keepAlive(), PING_EVERY_MS);
    this.status("connected", msg.resumed ? "Reconnected to the meeting." : "Connected to the meeting.");
    if (this.localTracks.length) this.publishAll().catch((err) => this.emit("publish_failed", { message: err.message }));
  }

  // onError settles a request the error answers; it reports true when the error ended
  // the connection attempt.
  onError(msg) {
    const p = msg.ref && this.pending.get(msg.ref);
    if (p) {
      this.pending.delete(msg.ref);
      const err = new Error(msg.message || msg.code);
      err.code = msg.code;
      err.reason = msg.reason;
      p.reject(err);
    }
    if (msg.code === "wrong_node" && msg.url) {
      // Another node hosts the room: take the same join there.
      this.hops = (this.hops || 0) + 1;
      if (this.join) this.join.url = msg.url;
      if (this.self) this.droppedAt = Date.now();
      if (this.hops > 3) this.retry(null, "The meeting room is moving between servers.");
      else this.reconnectNow();
      return true;
    }
    if (msg.ref === "join" && JOIN_ERRORS.has(msg.code)) {
      this.emit("error", msg);
      if (msg.code === "resume_failed") {
        // Too late to resume: join afresh with a new token, at once.
        this.resumeToken = "";
        this.self = null;
        this.join = null;
        this.reconnectNow();
      } else if (msg.code === "token_expired") {
        this.join = null;
        this.reconnectNow();
      } else if (msg.code === "unavailable") {
        this.retry(null, "The meeting room is not available just now.");
      } else if (msg.code === "meeting_closed") {
        this.stop("closed", "The meeting has closed.");
      } else {
        this.stop("failed", msg.message || "The meeting room refused to let you in.");
      }
      return true;
    }
    return false;
  }

  keepAlive() {
    if (Date.now() - this.lastHeard > PONG_WITHIN_MS) {
      // Nothing heard for too long: the connection is dead even if the socket has not noticed.
      this.dropped();
      return;
    }
    this.send({ type: "ping" });
  }

  newPeerConnection(iceServers) {
    const pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
    this.pc = pc;
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) this.send({ type: "candidate", candidate: e.candidate.toJSON() });
    };
    pc.ontrack = (e) => {
      const stream = e.streams[0];
      this.emit("track", { track: e.track, streams: e.streams, identity: stream ? stream.id : "", trackId: e.track.id, transceiver: e.transceiver });
    };
    pc.onconnectionstatechange = () => {
      this.emit("media_state", { state: pc.connectionState });
    };
  }

  // negotiate runs negotiation steps one at a time, in the order their messages came.
  negotiate(step) {
    this.negotiation = this.negotiation.then(step).catch((err) => {
      this.emit("negotiation_failed", { message: err.message });
    });
    return this.negotiation;
  }

  async onOffer(msg) {
    const pc = this.pc;
    if (!pc) return;
    // The server is the impolite peer: its offer wins over any offer of ours.
    await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
    for (const c of this.remoteCandidates.splice(0)) {
      await pc.addIceCandidate(c).catch(() => {});
    }
    await pc.setLocalDescription();
    if (pc !== this.pc) return;
    this.send({ type: "answer", sdp: pc.localDescription.sdp });
    if (msg.ref) {
      const p = this.pending.get(msg.ref);
      if (p) {
        this.pending.delete(msg.ref);
        p.resolve();
      }
    }
  }

  async onCandidate(c) {
    if (!c || !this.pc) return;
    if (!this.pc.remoteDescription) {
      this.remoteCandidates.push(c);
      return;
    }
    await this.pc.addIceCandidate(c).catch(() => {});
  }

  // publishAll adds the local tracks to the peer connection and asks the server for a
  // slot for each; the server's offer that answers the last request carries them all.
  async publishAll() {
    const pc = this.pc;
    if (!pc) return;
    let last = null;
    for (const track of this.localTracks) {
      pc.addTrack(track, this.localStream);
      const id = this.nextID("publish-");
      last = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
      last.catch(() => {});
      this.send({ type: "publish", id, kind: track.kind });
    }
    if (last) await last;
    for (const track of this.localTracks) {
      if (!track.enabled) this.send({ type: "mute", kind: track.kind });
    }
  }

  /** Replaces the local track of one kind (another camera or microphone) without renegotiating. */
  async replaceTrack(kind, track) {
    const i = this.localTracks.findIndex((t) => t.kind === kind);
    if (i >= 0) {
      const old = this.localTracks[i];
      this.localTracks[i] = track;
      if (this.localStream) {
        this.localStream.removeTrack(old);
        this.localStream.addTrack(track);
      }
    }
    if (!this.pc) return;
    for (const s of this.pc.getSenders()) {
      if (s.track && s.track.kind === kind) await s.replaceTrack(track);
    }
  }

  /** Mutes or unmutes the local tracks of a kind, and tells the room. */
  setMuted(kind, muted) {
    for (const t of this.localTracks) if (t.kind === kind) t.enabled = !muted;
    this.send({ type: muted ? "mute" : "unmute", kind });
  }

  raiseHand() { this.send({ type: "raise_hand" }); }

  lowerHand(identity) { this.send(identity ? { type: "lower_hand", identity } : { type: "lower_hand" }); }

  /** Sends a chair's control message (grant_floor, withdraw_floor, next_speaker, mute_participant…). */
  control(type, fields = {}) { this.send({ type, ...fields }); }

  /** Casts a signed ballot over the room; resolves with the receipt. */
  cast(ballot) {
    const id = this.nextID("cast-");
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (!this.send({ type: "cast", id, ballot })) {
        this.pending.delete(id);
        reject(new Error("Not connected to the meeting."));
      }
    });
  }
}

// wsURL makes the WebSocket address from the one the join endpoint gave, which may be
// relative or http(s).
export function wsURL(url) {
  const u = new URL(url || "/api/v1/rtc", location.href);
  if (u.protocol === "http:") u.protocol = "ws:";
  if (u.protocol === "https:") u.protocol = "wss:";
  return u.href;
}
