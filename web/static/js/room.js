// The meeting room: a member's camera and microphone (device picker, mute, camera off),
// the participants' video with the active speaker, raising a hand, the agenda with its
// current item, declarations of interest, and signed votes with their receipts.

import { api, me } from "./api.js";
import { RoomClient } from "./signal.js";
import { el, itemName, markCurrentItem, optionLabel, resultText } from "./meeting.js";
import { checkReceipt, makeBallot, toHex, fromBase64 } from "./ballot.js";
import * as keys from "./keys.js";

const $ = (id) => document.getElementById(id);

class Room {
  constructor(root) {
    this.root = root;
    this.meetingId = Number(root.dataset.meetingId);
    this.userId = Number(root.dataset.userId);
    this.stream = null;
    this.client = null;
    this.participants = new Map(); // identity -> participant
    this.tiles = new Map(); // identity -> <li>
    this.audios = new Map(); // track id -> <audio>
    this.key = null; // {keyPair, id}
    this.keyApproved = false;
    this.poll = null;
    this.lastBallot = null;
    this.lastReceipt = null;
  }

  status(text, state = "") {
    const s = $("room-status");
    s.textContent = text;
    s.dataset.state = state;
  }

  async start() {
    this.status("Loading…");
    $("join-button").addEventListener("click", () => this.join());
    $("camera-select").addEventListener("change", () => this.changeDevice("video"));
    $("mic-select").addEventListener("change", () => this.changeDevice("audio"));
    $("mic-button").addEventListener("click", () => this.toggleMic());
    $("camera-button").addEventListener("click", () => this.toggleCamera());
    $("hand-button").addEventListener("click", () => this.toggleHand());
    $("leave-button").addEventListener("click", () => this.leave());
    $("declare-form").addEventListener("submit", (e) => this.declare(e));
    $("enrol-button").addEventListener("click", () => this.enrolKey());
    $("key-refresh").addEventListener("click", () => this.checkKey());
    $("ballot-form").addEventListener("submit", (e) => this.castVote(e));
    $("check-receipt").addEventListener("click", () => this.checkMyReceipt());
    try {
      await me();
    } catch (err) {
      this.status(`Could not load your account: ${err.message}`, "failed");
      return;
    }
    this.status("Choose your camera and microphone, then join the meeting.");
    this.checkKey();
    this.loadPolls();
    this.preview();
  }

  // Devices.

  async preview() {
    try {
      await this.getMedia({ video: true, audio: true });
    } catch (err) {
      this.status(`The camera or microphone is not available (${err.message}). You can still join to watch and vote.`, "reconnecting");
    }
    await this.listDevices();
  }

  async getMedia(constraints) {
    const s = await navigator.mediaDevices.getUserMedia(constraints);
    if (this.stream) {
      for (const t of s.getTracks()) {
        for (const old of this.stream.getTracks().filter((o) => o.kind === t.kind)) {
          this.stream.removeTrack(old);
          old.stop();
        }
        this.stream.addTrack(t);
      }
    } else {
      this.stream = s;
    }
    $("preview").srcObject = this.stream;
    return s;
  }

  async listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select, kind, fallback) => {
      const current = this.stream && this.stream.getTracks().find((t) => t.kind === (kind === "videoinput" ? "video" : "audio"));
      const currentId = current ? current.getSettings().deviceId : "";
      select.replaceChildren();
      const list = devices.filter((d) => d.kind === kind);
      if (!list.length) select.append(el("option", { value: "" }, fallback));
      list.forEach((d, i) => select.append(el("option", { value: d.deviceId, selected: d.deviceId === currentId },
        d.label || `${fallback} ${i + 1}`)));
    };
    fill($("camera-select"), "videoinput", "Camera");
    fill($("mic-select"), "audioinput", "Microphone");
  }

  async changeDevice(kind) {
    const id = $(kind === "video" ? "camera-select" : "mic-select").value;
    try {
      const s = await this.getMedia({ [kind]: id ? { deviceId: { exact: id } } : true });
      const track = s.getTracks().find((t) => t.kind === kind);
      if (this.client && track) {
        track.enabled = kind === "video" ? !this.cameraOff : !this.micMuted;
        await this.client.replaceTrack(kind, track);
      }
      this.renderSelf();
    } catch (err) {
      this.status(`Could not switch ${kind === "video" ? "camera" : "microphone"}: ${err.message}`, "failed");
    }
  }

  // Joining and the stage.

  async join() {
    $("join-button").disabled = true;
    this.micMuted = $("join-muted").checked;
    this.cameraOff = $("join-camera-off").checked;
    const tracks = this.stream ? this.stream.getTracks() : [];
    for (const t of tracks) t.enabled = t.kind === "audio" ? !this.micMuted : !this.cameraOff;
    this.client = new RoomClient({
      getJoin: () => api("POST", `/api/v1/meetings/${this.meetingId}/join`),
      tracks, stream: this.stream,
    });
    const c = this.client;
    c.addEventListener("status", (e) => this.status(e.detail.text, e.detail.state));
    c.addEventListener("joined", (e) => this.onJoined(e.detail));
    c.addEventListener("participant_joined", (e) => this.upsert(e.detail.participant));
    c.addEventListener("participant_updated", (e) => this.upsert(e.detail.participant));
    c.addEventListener("participant_left", (e) => this.removeParticipant(e.detail.identity));
    c.addEventListener("track", (e) => this.onTrack(e.detail));
    c.addEventListener("media_reset", () => this.clearRemoteMedia());
    c.addEventListener("track_unpublished", (e) => this.dropTrack(e.detail.track_id));
    c.addEventListener("speaking", (e) => this.onSpeaking(e.detail.speakers || []));
    c.addEventListener("floor", (e) => this.onFloor(e.detail.floor));
    c.addEventListener("meeting_event", (e) => this.onEvent(e.detail.event));
    c.addEventListener("session", (e) => this.onSession(e.detail.session));
    c.addEventListener("publish_failed", (e) => this.status(`Your camera and microphone could not be sent: ${e.detail.message}`, "failed"));
    try {
      await c.start();
    } catch {
      $("join-button").disabled = false;
      return;
    }
    $("setup").hidden = true;
    $("stage").hidden = false;
    this.setMicButton();
    this.setCameraButton();
    $("stage-title").focus();
  }

  leave() {
    if (this.client) this.client.leave();
    for (const a of this.audios.values()) a.remove();
    this.audios.clear();
    $("stage").hidden = true;
    $("setup").hidden = false;
    $("join-button").disabled = false;
    this.client = null;
  }

  onJoined(msg) {
    this.self = msg.self;
    this.participants.clear();
    for (const p of msg.participants || []) this.participants.set(p.identity, p);
    if (msg.self) this.participants.set(msg.self.identity, msg.self);
    this.onFloor(msg.floor);
    this.onSession(msg.session);
    this.renderGrid();
    this.loadPolls();
  }

  upsert(p) {
    if (!p) return;
    this.participants.set(p.identity, p);
    if (this.self && p.identity === this.self.identity) {
      this.self = p;
      const hand = $("hand-button");
      hand.setAttribute("aria-pressed", String(!!p.hand_raised));
      hand.textContent = p.hand_raised ? "Lower hand" : "Raise hand";
      if (p.audio_muted !== this.micMuted) {
        this.micMuted = !!p.audio_muted;
        for (const t of this.stream ? this.stream.getAudioTracks() : []) t.enabled = !this.micMuted;
        this.setMicButton();
      }
    }
    this.renderGrid();
  }

  removeParticipant(identity) {
    this.participants.delete(identity);
    const li = this.tiles.get(identity);
    if (li) li.remove();
    this.tiles.delete(identity);
  }

  tile(identity) {
    let li = this.tiles.get(identity);
    if (!li) {
      const video = el("video", { autoplay: true, playsinline: true, muted: true });
      video.muted = true;
      li = el("li", { class: "tile", "data-identity": identity },
        el("span", { class: "initials", "aria-hidden": "true" }), video, el("p", { class: "name" }));
      this.tiles.set(identity, li);
      $("grid").append(li);
    }
    return li;
  }

  renderGrid() {
    for (const p of this.participants.values()) {
      const li = this.tile(p.identity);
      const isSelf = this.self && p.identity === this.self.identity;
      li.classList.toggle("self", !!isSelf);
      li.classList.toggle("floor", !!p.has_floor);
      const bits = [];
      if (isSelf) bits.push("you");
      if (p.role === "chair") bits.push("chair");
      if (p.has_floor) bits.push("has the floor");
      if (p.hand_raised) bits.push("hand raised");
      if (p.audio_muted) bits.push("muted");
      if (p.video_muted) bits.push("camera off");
      if (p.connected === false) bits.push("reconnecting");
      li.querySelector(".name").textContent = p.name + (bits.length ? ` (${bits.join(", ")})` : "");
      li.querySelector(".initials").textContent = p.name.split(/\s+/).filter((w) => /^[A-Z]/.test(w)).slice(-2).map((w) => w[0]).join("");
      const v = li.querySelector("video");
      if (isSelf) {
        if (v.srcObject !== this.stream) v.srcObject = this.stream;
        v.hidden = !!this.cameraOff;
        li.classList.toggle("has-video", !this.cameraOff && !!this.stream);
      } else if (v.srcObject) {
        // A colleague's camera that is off shows their initials, not a black picture.
        v.hidden = !!p.video_muted;
        li.classList.toggle("has-video", !p.video_muted);
      }
    }
  }

  renderSelf() {
    if (this.self) this.renderGrid();
  }

  onTrack({ track, identity }) {
    if (track.kind === "video") {
      const li = this.tile(identity);
      const v = li.querySelector("video");
      v.srcObject = new MediaStream([track]);
      v.dataset.track = track.id;
      v.hidden = false;
      li.classList.add("has-video");
      v.play().catch(() => {});
      this.renderGrid(); // a camera that is off already stays hidden
    } else {
      const a = el("audio", { autoplay: true, "data-track": track.id, "data-identity": identity });
      a.srcObject = new MediaStream([track]);
      this.audios.set(track.id, a);
      this.root.append(a);
      this.playAudio(a);
    }
  }

  playAudio(a) {
    a.play().catch((err) => { if (err.name === "NotAllowedError") this.soundBlocked(); });
  }

  // soundBlocked shows a Play sound button: the browser will not start sound until
  // the page has been used. The button goes once the sound plays.
  soundBlocked() {
    let b = $("play-sound");
    if (!b) {
      b = el("button", { type: "button", id: "play-sound", hidden: true, onclick: () => this.playSound() }, "Play sound");
      $("stage").querySelector(".toolbar").prepend(b);
    }
    if (!b.hidden) return;
    b.hidden = false;
    this.status("Your browser is holding back the meeting's sound: press Play sound to hear it.", this.client ? this.client.state : "");
  }

  async playSound() {
    const b = $("play-sound");
    try {
      await Promise.all([...this.audios.values()].map((a) => a.play()));
    } catch (err) {
      if (err.name === "NotAllowedError") return;
    }
    if (document.activeElement === b) $("mic-button").focus();
    b.hidden = true;
    if (this.client && this.client.state === "connected") this.status("Connected to the meeting.", "connected");
  }

  dropTrack(trackId) {
    const a = this.audios.get(trackId);
    if (a) {
      a.remove();
      this.audios.delete(trackId);
    }
    for (const li of this.tiles.values()) {
      const v = li.querySelector("video");
      if (v.dataset.track === trackId) {
        v.srcObject = null;
        v.hidden = true;
        li.classList.remove("has-video");
      }
    }
  }

  clearRemoteMedia() {
    for (const a of this.audios.values()) a.remove();
    this.audios.clear();
    for (const [identity, li] of this.tiles) {
      if (this.self && identity === this.self.identity) continue;
      const v = li.querySelector("video");
      v.srcObject = null;
      li.classList.remove("has-video");
    }
  }

  onSpeaking(speakers) {
    const loud = new Set(speakers.filter((s) => s.level > 0).map((s) => s.identity));
    for (const [identity, li] of this.tiles) li.classList.toggle("speaking", loud.has(identity));
    const first = speakers[0] && this.participants.get(speakers[0].identity);
    const text = first ? `Speaking: ${first.name}` : "";
    if ($("speaking").textContent !== text) $("speaking").textContent = text;
  }

  onFloor(floor) {
    const p = floor && this.participants.get(floor.identity);
    $("floor").textContent = p ? `${p.name} has the floor.` : "";
  }

  onSession(session) {
    this.root.dataset.session = session || "public";
  }

  setMicButton() {
    const b = $("mic-button");
    b.setAttribute("aria-pressed", String(!!this.micMuted));
    b.textContent = this.micMuted ? "Unmute microphone" : "Mute microphone";
  }

  setCameraButton() {
    const b = $("camera-button");
    b.setAttribute("aria-pressed", String(!!this.cameraOff));
    b.textContent = this.cameraOff ? "Turn camera on" : "Turn camera off";
  }

  toggleMic() {
    this.micMuted = !this.micMuted;
    this.client.setMuted("audio", this.micMuted);
    this.setMicButton();
  }

  toggleCamera() {
    this.cameraOff = !this.cameraOff;
    this.client.setMuted("video", this.cameraOff);
    this.setCameraButton();
    this.renderGrid();
  }

  toggleHand() {
    const raised = this.self && this.self.hand_raised;
    if (raised) this.client.lowerHand();
    else this.client.raiseHand();
  }

  // The agenda and declarations.

  onEvent(ev) {
    if (!ev) return;
    switch (ev.type) {
      case "item.current":
        markCurrentItem(ev.data.id);
        $("now").textContent = `Now: ${itemName(ev.data)}`;
        break;
      case "meeting.started":
      case "meeting.adjourned":
      case "meeting.resumed":
      case "meeting.closed":
        $("meeting-status").textContent = (ev.data.status || ev.type.split(".")[1]).replaceAll("_", " ");
        break;
      case "poll.opened":
        this.showPoll(ev.data);
        break;
      case "poll.closed":
      case "poll.result":
        this.pollClosed(ev.data);
        break;
    }
  }

  async declare(e) {
    e.preventDefault();
    const form = e.target;
    const out = $("declare-result");
    const kind = form.querySelector("input[name=kind]:checked");
    const description = $("declare-description").value.trim();
    if (!kind || !description) {
      out.className = "error";
      out.textContent = !kind ? "Choose the kind of interest." : "Say what the interest is.";
      (kind ? $("declare-description") : form.querySelector("input[name=kind]")).focus();
      return;
    }
    const item = $("declare-item").value;
    try {
      await api("POST", `/api/v1/meetings/${this.meetingId}/declarations`, {
        user_id: this.userId, item_id: item ? Number(item) : 0, kind: kind.value, description,
        withdraws: $("declare-withdraws").checked,
      });
      out.className = "ok";
      out.textContent = "Your declaration is recorded.";
      form.reset();
    } catch (err) {
      out.className = "error";
      out.textContent = `Not recorded: ${err.message}`;
    }
  }

  // The device key.

  async checkKey() {
    const status = $("key-status");
    const enrol = $("enrol-button");
    const refresh = $("key-refresh");
    enrol.hidden = refresh.hidden = true;
    this.keyApproved = false;
    if (!window.isSecureContext || !(await keys.supported())) {
      status.textContent = "This browser cannot sign votes. Use an up-to-date browser over HTTPS.";
      return;
    }
    try {
      this.key = await keys.storedKey(this.userId);
      if (!this.key) {
        status.textContent = "This device is not set up for voting yet.";
        enrol.hidden = false;
        return;
      }
      const { status: st } = await keys.keyStatus(this.key.id);
      if (st === "approved") {
        this.keyApproved = true;
        status.textContent = "This device is set up for voting: your votes are signed with its key.";
      } else if (st === "pending") {
        status.textContent = `This device's key is waiting for a clerk to approve it. Key ${this.key.id}.`;
        refresh.hidden = false;
      } else {
        await keys.forget(this.userId);
        this.key = null;
        status.textContent = "This device's key has been revoked. Set the device up again to vote.";
        enrol.hidden = false;
      }
    } catch (err) {
      status.textContent = `Could not check this device's key: ${err.message}`;
      refresh.hidden = false;
    }
    this.renderPoll();
  }

  async enrolKey() {
    const status = $("key-status");
    $("enrol-button").disabled = true;
    try {
      const label = `${navigator.userAgentData?.platform || "browser"} (${new Date().toISOString().slice(0, 10)})`;
      const k = await keys.enrol(this.userId, label);
      status.textContent = `This device's key is waiting for a clerk to approve it. Key ${k.id}.`;
      $("enrol-button").hidden = true;
      $("key-refresh").hidden = false;
      this.key = await keys.storedKey(this.userId);
    } catch (err) {
      status.textContent = `Could not set up this device: ${err.message}`;
    } finally {
      $("enrol-button").disabled = false;
    }
  }

  // Polls, ballots and receipts.

  async loadPolls() {
    try {
      const polls = await api("GET", `/api/v1/meetings/${this.meetingId}/polls`);
      const open = polls.filter((p) => p.status === "open").pop();
      if (open) this.showPoll(open);
      else if (this.poll && !polls.some((p) => p.id === this.poll.id && p.status === "open")) {
        const done = polls.find((p) => p.id === this.poll.id);
        if (done) this.pollClosed(done);
      }
    } catch {
      // The events will tell us.
    }
  }

  showPoll(poll) {
    if (this.poll && this.poll.id === poll.id) return;
    this.poll = poll;
    this.lastBallot = null;
    $("poll-question").textContent = poll.question;
    const box = $("poll-options");
    box.replaceChildren();
    for (const o of poll.options) {
      const id = `option-${poll.id}-${o}`;
      box.append(el("label", { class: "check", for: id },
        el("input", { type: "radio", name: "choice", value: o, id }), optionLabel(o)));
    }
    $("vote-result").textContent = `A vote is open: ${poll.question}`;
    this.renderPoll();
  }

  renderPoll() {
    const p = this.poll;
    const open = p && p.status === "open";
    $("poll").hidden = !open;
    $("no-poll").hidden = !!open;
    if (!open) return;
    const eligible = (p.eligible || []).includes(this.userId);
    const cast = $("cast-button");
    cast.disabled = false;
    if (!eligible) {
      $("poll").hidden = true;
      $("no-poll").hidden = false;
      $("no-poll").textContent = "A vote is open, but you are not on its roll (you were not present, or not a voting member, when it opened).";
    } else if (!this.keyApproved) {
      $("no-poll").hidden = false;
      $("no-poll").textContent = "Your vote needs this device's key, approved by a clerk.";
      cast.disabled = true;
    }
  }

  pollClosed(poll) {
    if (this.poll && this.poll.id === poll.id) {
      this.poll = { ...this.poll, ...poll, status: poll.status || "closed" };
      if (this.poll.status === "open") this.poll.status = "closed";
    }
    $("poll").hidden = true;
    $("no-poll").hidden = false;
    $("no-poll").textContent = "No vote is open.";
    $("vote-result").textContent = resultText(poll);
  }

  async castVote(e) {
    e.preventDefault();
    const out = $("vote-result");
    const chosen = $("ballot-form").querySelector("input[name=choice]:checked");
    if (!chosen) {
      out.className = "error";
      out.textContent = "Choose how you vote first.";
      $("ballot-form").querySelector("input[name=choice]").focus();
      return;
    }
    if (!this.key || !this.keyApproved) {
      out.className = "error";
      out.textContent = "This device is not set up for voting.";
      return;
    }
    const cast = $("cast-button");
    cast.disabled = true;
    out.className = "";
    out.textContent = "Signing and sending your vote…";
    const poll = this.poll;
    try {
      const signed = await makeBallot(this.key.keyPair, poll, this.userId, chosen.value);
      let receipt;
      for (let attempt = 0; ; attempt++) {
        try {
          receipt = await api("POST", `/api/v1/meetings/${this.meetingId}/polls/${poll.id}/ballots`, signed);
          break;
        } catch (err) {
          // The very same ballot may be sent again safely: the server answers with its first receipt.
          if (err.final !== false || attempt >= 3) throw err;
          await new Promise((r) => setTimeout(r, 1000 * (attempt + 1)));
        }
      }
      this.lastBallot = signed;
      this.lastReceipt = receipt;
      out.className = "ok";
      out.textContent = `Your vote (${optionLabel(chosen.value)}) is recorded. You may change it until the vote closes.`;
      this.showReceipt(receipt, chosen.value);
    } catch (err) {
      out.className = "error";
      out.textContent = `Your vote was not recorded: ${err.message}`;
    } finally {
      cast.disabled = false;
    }
  }

  showReceipt(r, choice) {
    const dl = $("receipt-facts");
    dl.replaceChildren();
    const size = r.checkpoint.split("\n")[1];
    const rows = [
      ["Vote", optionLabel(choice)],
      ["Ballot fingerprint (SHA-256)", r.ballot_hash],
      ["Entry in the meeting's vote log", String(r.index)],
      ["Log size when recorded", size],
    ];
    for (const [k, v] of rows) dl.append(el("dt", {}, k), el("dd", {}, v));
    $("receipt-check").textContent = "";
    $("receipt").hidden = false;
    $("receipt-title").focus();
  }

  async checkMyReceipt() {
    const out = $("receipt-check");
    out.className = "";
    out.textContent = "Checking…";
    try {
      const log = await api("GET", `/api/v1/meetings/${this.meetingId}/log`);
      const ok = await checkReceipt(this.lastReceipt, this.lastBallot, log);
      const hash = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", fromBase64(this.lastBallot.ballot))));
      if (hash !== this.lastReceipt.ballot_hash) throw new Error("The ballot's fingerprint differs from the receipt's.");
      out.className = "ok";
      out.textContent = `Your receipt checks out: your signed ballot is entry ${ok.index} of ${ok.origin}, ` +
        `whose checkpoint at size ${ok.size} is signed by the meeting's log key.`;
    } catch (err) {
      out.className = "error";
      out.textContent = `Your receipt does not check out: ${err.message}`;
    }
  }
}

const root = document.getElementById("room");
if (root) {
  const room = new Room(root);
  window.chamberRoom = room;
  room.start();
}
