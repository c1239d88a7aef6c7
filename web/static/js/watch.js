// The live part of a meeting's public page: it joins the meeting's room as an
// observer (no sign-in), plays the meeting's video and sound (offering a Play sound
// button where the browser holds sound back until the visitor acts), offers sound
// only for a poor connection (the server then sends no video at all), follows the
// agenda's current item and announces results as votes close. In private session it
// says so and shows no video until the public is readmitted.

import { api } from "./api.js";
import { RoomClient } from "./signal.js";
import { el, itemName, markCurrentItem, resultText, useStyles } from "./meeting.js";

const PRIVATE_DEFAULT = "The meeting is in private session.";

class Watcher {
  constructor(root) {
    this.root = root;
    this.meetingId = root.dataset.meetingId;
    this.videos = new Map(); // identity -> MediaStreamTrack (video)
    this.audios = new Map(); // track id -> <audio>
    this.featured = "";
    this.floor = "";
    this.loudest = "";
    this.private = false;
    this.audioOnly = localStorage.getItem("chamber.audioOnly") === "1";
    this.receiving = null; // the kinds of media the server says it sends, {audio, video}
    this.statusLog = [];
    this.build();
  }

  // build adds the player and its controls to the server-rendered live section,
  // keeping what the server put there: the heading, the meeting's status and the
  // current item.
  build() {
    const r = this.root;
    r.classList.add("watch");
    if (!r.querySelector("h2")) r.prepend(el("h2", { id: "live-heading" }, "Live"));
    // What changes is announced, each part as it changes, not the whole section:
    // the meeting's status, the connection, the current item and each result.
    this.meetingStatusEl = r.querySelector(".live-status") || el("p", { class: "live-status", "aria-live": "polite" });
    if (!this.meetingStatusEl.isConnected) r.querySelector("h2").after(this.meetingStatusEl);
    this.statusEl = el("p", { class: "connection", id: "live-connection", "aria-live": "polite" }, "Connecting to the meeting…");
    this.video = el("video", { class: "live-video", id: "live-video", autoplay: true, playsinline: true, muted: true,
      "aria-label": "Live video of the meeting" });
    this.video.muted = true;
    this.poster = el("p", { class: "live-placeholder", id: "live-placeholder" }, "Waiting for the meeting's video…");
    this.privateEl = el("p", { class: "private-session", id: "private-session", hidden: true });
    this.player = el("div", { class: "player" }, this.video, this.poster, this.privateEl);
    this.audioBox = el("div", { hidden: true });
    this.audioButton = el("button", { type: "button", id: "audio-only", "aria-pressed": String(this.audioOnly),
      onclick: () => this.setAudioOnly(!this.audioOnly) }, "Sound only");
    this.soundButton = el("button", { type: "button", id: "play-sound", hidden: true, onclick: () => this.playSound() }, "Play sound");
    this.controls = el("div", { class: "controls" }, this.audioButton, this.soundButton);
    this.meetingStatusEl.after(this.statusEl, this.player, this.controls);
    this.nowEl = r.querySelector("p.now") || el("p", { class: "now", "aria-live": "polite" });
    this.nowEl.id = "live-now";
    if (!this.nowEl.isConnected) this.controls.after(this.nowEl);
    this.resultsHead = el("h3", { id: "live-results-title", hidden: true }, "Results");
    this.results = el("ul", { class: "results", id: "live-results", "aria-labelledby": "live-results-title", "aria-live": "polite" });
    this.nowEl.after(this.resultsHead, this.results);
    r.append(this.audioBox);
    this.render();
  }

  // setMeetingStatus says where the meeting stands, as the server-rendered page does.
  setMeetingStatus(key, label, detail) {
    const p = this.meetingStatusEl;
    p.className = `live-status status-${key}`;
    p.replaceChildren(el("strong", {}, label), detail ? `: ${detail}` : "");
    for (const span of document.querySelectorAll("dl.facts .status")) {
      span.className = `status status-${key}`;
      span.textContent = label;
    }
  }

  async start() {
    this.client = new RoomClient({
      getJoin: () => api("POST", `/api/v1/meetings/${this.meetingId}/join`, undefined, { anonymous: true }),
    });
    const c = this.client;
    c.addEventListener("status", (e) => this.setStatus(e.detail));
    c.addEventListener("joined", (e) => this.onJoined(e.detail));
    c.addEventListener("receiving", (e) => { this.receiving = e.detail.receive; });
    c.addEventListener("track", (e) => this.onTrack(e.detail));
    c.addEventListener("media_reset", () => this.clearMedia());
    c.addEventListener("track_unpublished", (e) => this.removeTrack(e.detail.track_id, e.detail.identity));
    c.addEventListener("session", (e) => this.setPrivate(e.detail.session === "private", e.detail.message));
    c.addEventListener("floor", (e) => { this.floor = e.detail.floor ? e.detail.floor.identity : ""; this.pickFeatured(); });
    c.addEventListener("speaking", (e) => {
      const s = e.detail.speakers || [];
      if (s.length && this.videos.has(s[0].identity)) { this.loudest = s[0].identity; this.pickFeatured(); }
    });
    c.addEventListener("meeting_event", (e) => this.onEvent(e.detail.event));
    try {
      await c.start();
    } catch {
      // The status line already says why.
    }
  }

  liveText() {
    return this.private ? "Connected: waiting for the public session." : "Live.";
  }

  setStatus({ state, text }) {
    this.root.dataset.state = state;
    this.statusLog.push(text);
    if (state === "connected") {
      this.statusEl.textContent = this.liveText();
    } else {
      this.statusEl.textContent = text;
    }
  }

  onJoined(msg) {
    this.floor = msg.floor ? msg.floor.identity : "";
    // A resumed connection keeps its choice; a fresh one starts with everything.
    this.receiving = msg.receive || { audio: true, video: true };
    if (this.receiving.video === this.audioOnly) this.sendReceive();
    this.setPrivate(msg.session === "private", msg.message);
  }

  onTrack({ track, identity }) {
    if (track.kind === "video") {
      this.videos.set(identity, track);
      track.addEventListener("ended", () => this.removeTrack(track.id, identity));
      this.pickFeatured();
    } else {
      const a = el("audio", { autoplay: true, "data-track": track.id });
      a.srcObject = new MediaStream([track]);
      this.audios.set(track.id, a);
      this.audioBox.append(a);
      track.addEventListener("ended", () => this.removeTrack(track.id, identity));
      if (!this.private) this.playAudio(a);
    }
    this.render();
  }

  removeTrack(trackId, identity) {
    const a = this.audios.get(trackId);
    if (a) {
      a.srcObject = null;
      a.remove();
      this.audios.delete(trackId);
    }
    for (const [who, t] of this.videos) {
      if (t.id === trackId || (identity && who === identity && t.readyState === "ended")) this.videos.delete(who);
    }
    this.pickFeatured();
  }

  clearMedia() {
    for (const a of this.audios.values()) { a.srcObject = null; a.remove(); }
    this.audios.clear();
    this.videos.clear();
    this.featured = "";
    this.render();
  }

  // pickFeatured shows whoever has the floor, else the last loud speaker, else anyone.
  pickFeatured() {
    let who = "";
    if (this.floor && this.videos.has(this.floor)) who = this.floor;
    else if (this.loudest && this.videos.has(this.loudest)) who = this.loudest;
    else if (this.featured && this.videos.has(this.featured)) who = this.featured;
    else who = this.videos.keys().next().value || "";
    this.featured = who;
    this.render();
  }

  playAudio(a) {
    const p = a.play();
    if (p) p.catch((err) => { if (err.name === "NotAllowedError") this.soundBlocked(); });
  }

  // soundBlocked shows the Play sound button: the browser will not start sound until
  // the visitor has done something on the page.
  soundBlocked() {
    if (!this.soundButton.hidden) return;
    this.soundButton.hidden = false;
    this.statusEl.textContent = "Your browser is holding back the sound: press Play sound to hear the meeting.";
  }

  async playSound() {
    this.video.play().catch(() => {});
    try {
      // In private session there is nothing to hear; the press lets sound play later.
      await Promise.all(this.private ? [] : [...this.audios.values()].map((a) => a.play()));
    } catch (err) {
      if (err.name === "NotAllowedError") return; // still held back: the button stays
    }
    if (document.activeElement === this.soundButton) this.audioButton.focus();
    this.soundButton.hidden = true;
    if (this.root.dataset.state === "connected") this.statusEl.textContent = this.liveText();
  }

  setAudioOnly(on) {
    this.audioOnly = on;
    localStorage.setItem("chamber.audioOnly", on ? "1" : "0");
    this.audioButton.setAttribute("aria-pressed", String(on));
    this.sendReceive();
    this.render();
  }

  // sendReceive asks the server for video or not: with sound only it sends none,
  // which is what helps a poor connection. If the connection is down, the next
  // joined message shows whether it must be asked again.
  sendReceive() {
    if (this.client) this.client.send({ type: "receive", id: this.client.nextID("receive-"), video: !this.audioOnly });
  }

  setPrivate(on, message) {
    const was = this.private;
    this.private = on;
    this.privateEl.textContent = on ? (message || PRIVATE_DEFAULT) : "";
    for (const a of this.audios.values()) {
      if (on) a.pause();
      else this.playAudio(a);
    }
    if (was && !on) {
      this.statusEl.textContent = "The public session has resumed. Live.";
      this.setMeetingStatus("in_progress", "In progress");
    } else if (on) {
      this.statusEl.textContent = "Connected: waiting for the public session.";
      this.setMeetingStatus("private", "In private session", "the public has been excluded while exempt business is taken.");
    }
    this.render();
  }

  // render puts the state on the page: the featured video or why there is none.
  render() {
    const track = this.videos.get(this.featured);
    const showVideo = !this.private && !this.audioOnly && !!track;
    const cur = this.video.srcObject && this.video.srcObject.getVideoTracks()[0];
    if (showVideo && cur !== track) {
      this.video.srcObject = new MediaStream([track]);
      this.video.play().catch(() => {});
    } else if (!showVideo && this.video.srcObject) {
      this.video.srcObject = null;
    }
    this.video.hidden = !showVideo;
    this.privateEl.hidden = !this.private;
    this.poster.hidden = showVideo || this.private;
    this.poster.textContent = this.audioOnly ? "Sound only: video is off." : "Waiting for the meeting's video…";
    this.root.dataset.session = this.private ? "private" : "public";
  }

  onEvent(ev) {
    if (!ev) return;
    switch (ev.type) {
      case "item.current":
        markCurrentItem(ev.data.id);
        this.nowEl.textContent = `Now: ${itemName(ev.data)}`;
        break;
      case "poll.opened":
        this.nowEl.dataset.poll = ev.data.id;
        this.addResult(ev.data.id, `Vote open: ${ev.data.question}`);
        break;
      case "poll.closed":
      case "poll.result":
        this.addResult(ev.data.id, resultText(ev.data));
        break;
      case "meeting.started":
      case "meeting.resumed":
        this.setMeetingStatus("in_progress", "In progress");
        break;
      case "meeting.adjourned":
        this.setMeetingStatus("adjourned", "Adjourned", "the meeting will resume.");
        break;
      case "meeting.closed":
        this.setMeetingStatus("closed", "Closed", "the meeting has ended.");
        this.statusEl.textContent = "The meeting has closed.";
        break;
    }
  }

  addResult(pollId, text) {
    let li = this.results.querySelector(`li[data-poll="${pollId}"]`);
    if (!li) {
      li = el("li", { "data-poll": pollId });
      this.results.prepend(li);
    }
    li.textContent = text;
    this.resultsHead.hidden = false;
  }
}

const root = document.getElementById("live");
// A meeting that has ended has nothing to watch.
if (root && root.dataset.meetingId && !root.querySelector(".status-closed")) {
  useStyles();
  const w = new Watcher(root);
  window.chamberWatch = w;
  w.start();
}
