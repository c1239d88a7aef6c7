// The speakers' queue and the floor in the console. The console joins the meeting's
// live room as a console of the clerk or the chair (signaling/PROTOCOL.md): a connection
// of its own, beside the chair's seat in the room if they have one open, that nobody
// else sees, that sends no media and is sent none, and that leaves the roll alone. It
// uses the chair's controls: give the floor (to a raised hand, to anyone in the room,
// or to the next hand), take it back, lower a hand, mute one participant or everyone.
// It says what changes through a polite live region, and tells others on the page who
// has the floor ("floor" events, detail {floor, participant}).

import { api } from "./api.js";
import { RoomClient } from "./signal.js";
import { el } from "./meeting.js";
import { announce, clock, redraw, signature, srOnly } from "./console_ui.js";

const $ = (id) => document.getElementById(id);

/** Words for the roles of the room's participants. */
export const PARTICIPANT_ROLES = {
  chair: "chair", clerk: "clerk", member: "member", officer: "officer", speaker: "public speaker", observer: "observer",
};

export class RoomPanel extends EventTarget {
  constructor(console) {
    super();
    this.console = console;
    this.client = null;
    this.self = null;
    this.participants = new Map(); // identity -> participant, in order of joining
    this.hands = [];
    this.floor = null;
    this.handsSig = "";
    this.peopleSig = "";
  }

  start() {
    $("withdraw-floor-button").addEventListener("click", () => this.control("withdraw_floor"));
    $("next-speaker-button").addEventListener("click", () => this.control("next_speaker", { item_id: this.itemId() }));
    $("mute-all-button").addEventListener("click", () => this.control("mute_all", { kind: "audio" }));
    this.connect();
  }

  // connect joins the room as a console; the client reconnects by itself after a drop.
  connect() {
    const c = new RoomClient({ getJoin: () => api("POST", `${this.console.base}/console/join`) });
    this.client = c;
    c.addEventListener("status", (e) => this.status(e.detail.text, e.detail.state));
    c.addEventListener("joined", (e) => this.onJoined(e.detail));
    c.addEventListener("participant_joined", (e) => this.onParticipant(e.detail.participant, "joined"));
    c.addEventListener("participant_updated", (e) => this.onParticipant(e.detail.participant, "updated"));
    c.addEventListener("participant_left", (e) => this.onLeft(e.detail.identity));
    c.addEventListener("hands", (e) => this.onHands(e.detail.hands || []));
    c.addEventListener("floor", (e) => this.onFloor(e.detail.floor || null));
    c.addEventListener("error", (e) => {
      const { ref, message, code } = e.detail;
      if (ref === "join") return; // the status line says it
      // A control the room refused leaves the connection as it was: say so, and why.
      if (ref && ref.startsWith("control-")) {
        this.say(`The room did not do that: ${message || code}`);
        return;
      }
      this.status(message || code, "failed");
    });
    c.start().catch(() => { /* the status line says why */ });
    this.render();
  }

  status(text, state = "") {
    const s = $("room-status");
    s.textContent = text;
    s.dataset.state = state;
  }

  say(text) { announce($("room-announce"), text); }

  itemId() { return (this.console.meeting && this.console.meeting.current_item_id) || 0; }

  name(identity) {
    const p = this.participants.get(identity);
    return p ? p.name : identity;
  }

  // control sends one of the chair's controls; an error the server answers shows in the
  // status line.
  control(type, fields = {}) {
    if (!this.client || this.client.state !== "connected") {
      this.status("Not connected to the meeting room: wait until it reconnects.", "reconnecting");
      return;
    }
    this.client.control(type, { id: this.client.nextID("control-"), ...fields });
  }

  onJoined(msg) {
    this.self = msg.self;
    // What the room sends the console: nothing, as it shows no video and plays no sound.
    this.receiving = msg.receive || null;
    this.participants.clear();
    for (const p of msg.participants || []) this.participants.set(p.identity, p);
    this.hands = msg.hands || [];
    this.floor = msg.floor || null;
    this.render();
    this.tellFloor();
  }

  onParticipant(p, how) {
    if (!p) return;
    const before = this.participants.get(p.identity);
    this.participants.set(p.identity, p);
    if (how === "joined" && !before && !this.isSelf(p.identity)) this.say(`${p.name} joined the meeting room.`);
    if (before && !before.audio_muted && p.audio_muted && !this.isSelf(p.identity)) this.say(`${p.name}'s microphone is muted.`);
    this.render();
    if (this.floor && this.floor.identity === p.identity) this.tellFloor();
  }

  onLeft(identity) {
    const p = this.participants.get(identity);
    this.participants.delete(identity);
    if (p) this.say(`${p.name} left the meeting room.`);
    this.render();
  }

  onHands(hands) {
    const before = new Set(this.hands.map((h) => h.identity));
    this.hands = hands;
    const raised = hands.filter((h) => !before.has(h.identity));
    if (raised.length) this.say(raised.map((h) => `${h.name} raised a hand.`).join(" "));
    this.render();
  }

  onFloor(floor) {
    const was = this.floor && this.floor.identity;
    this.floor = floor;
    if ((floor && floor.identity) !== was) {
      this.say(floor ? `${this.name(floor.identity)} has the floor.` : "Nobody has the floor.");
    }
    this.render();
    this.tellFloor();
  }

  tellFloor() {
    const participant = this.floor ? this.participants.get(this.floor.identity) || null : null;
    this.dispatchEvent(new CustomEvent("floor", { detail: { floor: this.floor, participant } }));
  }

  isSelf(identity) { return this.self && this.self.identity === identity; }

  render() {
    const f = this.floor;
    $("floor-now").textContent = f ? `${this.name(f.identity)} has the floor (since ${clock(f.since)}).` : "Nobody has the floor.";
    $("floor-now").dataset.identity = f ? f.identity : "";
    $("withdraw-floor-button").hidden = !f;
    $("next-speaker-button").disabled = !this.hands.length;
    $("no-hands").hidden = this.hands.length > 0;
    this.renderHands();
    this.renderPeople();
  }

  renderHands() {
    const sig = signature(this.hands.map((h) => [h.identity, h.name, h.since]));
    if (sig === this.handsSig) return;
    this.handsSig = sig;
    const ol = $("hands");
    redraw(ol, () => {
      ol.replaceChildren(...this.hands.map((h) => el("li", { "data-identity": h.identity },
        el("span", { class: "who" }, el("strong", {}, h.name), ` since ${clock(h.since)}`),
        el("span", { class: "row-actions" },
          this.button("Give the floor", `to ${h.name}`, `${h.identity}:grant`, () =>
            this.control("grant_floor", { identity: h.identity, item_id: this.itemId() }), "grant"),
          this.button("Lower hand", `of ${h.name}`, `${h.identity}:lower`, () =>
            this.control("lower_hand", { identity: h.identity }), "lower", true)))));
    }, $("next-speaker-button").disabled ? $("hands-title") : $("next-speaker-button"));
  }

  renderPeople() {
    const people = [...this.participants.values()].filter((p) => !this.isSelf(p.identity));
    const f = this.floor;
    const rows = people.map((p) => ({
      p, floor: !!f && f.identity === p.identity,
    }));
    const sig = signature(rows.map((r) => [r.p.identity, r.p.name, r.p.role, r.floor, r.p.hand_raised, r.p.audio_muted, r.p.connected]));
    if (sig === this.peopleSig) return;
    this.peopleSig = sig;
    const ul = $("participants");
    redraw(ul, () => {
      ul.replaceChildren(...rows.map(({ p, floor }) => {
        const bits = [];
        if (floor) bits.push("has the floor");
        if (p.hand_raised) bits.push("hand raised");
        if (p.audio_muted) bits.push("microphone muted");
        if (p.connected === false) bits.push("reconnecting");
        const actions = [];
        if (floor) {
          actions.push(this.button("Take the floor back", `from ${p.name}`, `${p.identity}:withdraw`, () => this.control("withdraw_floor"), "withdraw"));
        } else if (p.role !== "observer") {
          actions.push(this.button("Give the floor", `to ${p.name}`, `${p.identity}:grant`, () =>
            this.control("grant_floor", { identity: p.identity, item_id: this.itemId() }), "grant"));
        }
        if (p.hand_raised) {
          actions.push(this.button("Lower hand", `of ${p.name}`, `${p.identity}:lower`, () => this.control("lower_hand", { identity: p.identity }), "lower", true));
        }
        if (!p.audio_muted) {
          actions.push(this.button("Mute", p.name, `${p.identity}:mute`, () =>
            this.control("mute_participant", { identity: p.identity, kind: "audio" }), "mute", true));
        }
        return el("li", { "data-identity": p.identity, class: floor ? "has-floor" : "" },
          el("span", { class: "who" }, el("strong", {}, p.name), ` (${PARTICIPANT_ROLES[p.role] || p.role})`),
          el("span", { class: "state" }, bits.join(", ")),
          el("span", { class: "row-actions" }, ...actions));
      }));
      if (!rows.length) ul.append(el("li", { class: "none" }, "Nobody else is in the meeting room."));
    }, $("people-title"));
  }

  button(label, whom, key, click, action, secondary = false) {
    return el("button", { type: "button", class: secondary ? "secondary" : "", "data-key": key, "data-action": action, onclick: click },
      label, srOnly(` ${whom}`));
  }
}
