// The console where the clerk and the chair run a meeting: start it, move through the
// agenda, exclude and readmit the public, open and close votes and see who has not
// voted yet. It follows the meeting's journal, so that every console open on the
// meeting shows the same state.

import { api, me } from "./api.js";
import { el, itemName, markCurrentItem, resultText } from "./meeting.js";
import { Records } from "./console_records.js";
import { RollPanel } from "./console_roll.js";
import { DeclarationsPanel } from "./console_declarations.js";
import { RoomPanel } from "./console_room.js";
import { SpeakerTimer } from "./console_timer.js";
import "./console_votes.js";

const $ = (id) => document.getElementById(id);
const FOLLOW_EVERY_MS = 1500;

class Console {
  constructor(root) {
    this.root = root;
    this.meetingId = Number(root.dataset.meetingId);
    this.base = `/api/v1/meetings/${this.meetingId}`;
    this.seq = 0;
    this.meeting = null;
    this.items = [];
    this.poll = null;
  }

  status(text, state = "") {
    const s = $("console-status");
    s.textContent = text;
    s.dataset.state = state;
  }

  async start() {
    $("start-button").addEventListener("click", () => this.act("/start", "The meeting has started."));
    $("next-button").addEventListener("click", () => this.act("/next", "Moved to the next item."));
    $("previous-button").addEventListener("click", () => this.act("/previous", "Moved back to the previous item."));
    $("session-button").addEventListener("click", () => this.toggleSession());
    $("close-meeting-button").addEventListener("click", () => this.confirmClose(true));
    $("close-meeting-no").addEventListener("click", () => this.confirmClose(false));
    $("close-meeting-yes").addEventListener("click", async () => {
      this.confirmClose(false);
      await this.act("/close", "The meeting is closed. Its minutes are being drafted.");
    });
    $("open-poll-form").addEventListener("submit", (e) => this.openPoll(e));
    $("close-poll-button").addEventListener("click", () => this.closePoll());
    try {
      await me();
      await this.refresh();
      const evs = await api("GET", `${this.base}/events?limit=1000`);
      this.seq = evs.length ? evs[evs.length - 1].seq : 0;
      const polls = await api("GET", `${this.base}/polls`);
      for (const p of polls) if (p.status !== "open") this.showResult(p);
      const open = polls.filter((p) => p.status === "open").pop();
      if (open) this.showPoll(open);
    } catch (err) {
      this.status(`The console could not load the meeting: ${err.message}`, "failed");
      return;
    }
    this.status("Ready.", "connected");
    this.follow();
  }

  async refresh() {
    this.meeting = await api("GET", this.base);
    this.items = await api("GET", `${this.base}/items`);
    this.render();
  }

  render() {
    const m = this.meeting;
    $("meeting-status").textContent = m.status.replaceAll("_", " ");
    $("meeting-session").textContent = m.session === "private" ? "private: the public is excluded" : "public";
    $("start-button").hidden = m.status !== "scheduled";
    const live = m.status === "in_progress";
    $("next-button").disabled = !live;
    $("previous-button").disabled = !live;
    $("session-button").disabled = !live;
    $("close-meeting-button").hidden = !live && m.status !== "adjourned";
    $("session-button").textContent = m.session === "private" ? "Readmit the public" : "Exclude the public";
    $("session-button").setAttribute("aria-pressed", String(m.session === "private"));
    const current = this.items.find((i) => i.id === m.current_item_id);
    if (current && current.exempt_paragraph) $("paragraph-select").value = String(current.exempt_paragraph);
    markCurrentItem(m.current_item_id);
    $("now").textContent = current ? `Now: ${itemName(current)}` : "No item is being taken.";
    $("open-poll-button").disabled = !live || !current || (this.poll && this.poll.status === "open");
    // The panels in other modules follow the meeting through this event.
    this.root.dispatchEvent(new CustomEvent("console:meeting", { detail: { meeting: m, items: this.items } }));
  }

  // act posts a meeting action and says how it went.
  async act(path, done) {
    try {
      this.meeting = await api("POST", this.base + path);
      this.render();
      this.status(done, "connected");
    } catch (err) {
      this.status(err.message, "failed");
    }
  }

  // confirmClose shows or hides the question that comes before closing the meeting.
  confirmClose(show) {
    $("close-meeting-confirm").hidden = !show;
    $("close-meeting-button").setAttribute("aria-expanded", String(show));
    (show ? $("close-meeting-yes") : $("close-meeting-button")).focus();
  }

  toggleSession() {
    const going = this.meeting.session !== "private";
    const current = this.items.find((i) => i.id === this.meeting.current_item_id);
    const body = { private: going };
    if (going) {
      body.paragraph = Number($("paragraph-select").value);
      body.reason = current ? `Exempt business: ${current.title}` : "Exempt business";
    }
    return this.actJSON("/session", body, going ? "The public is excluded." : "The public is readmitted.");
  }

  async actJSON(path, body, done) {
    try {
      this.meeting = await api("POST", this.base + path, body);
      this.render();
      this.status(done, "connected");
    } catch (err) {
      this.status(err.message, "failed");
    }
  }

  async openPoll(e) {
    e.preventDefault();
    const body = {};
    const q = $("poll-question-input").value.trim();
    if (q) body.question = q;
    if ($("poll-recorded").checked) body.recorded = true;
    try {
      const p = await api("POST", `${this.base}/polls`, body);
      this.showPoll(p);
      this.status(`The vote is open: ${p.question}`, "connected");
      // The next vote starts afresh: its own question, and not recorded unless asked.
      $("open-poll-form").reset();
    } catch (err) {
      this.status(`The vote did not open: ${err.message}`, "failed");
    }
  }

  showPoll(p) {
    this.poll = p;
    $("console-poll").hidden = false;
    $("console-poll-question").textContent = p.question;
    this.render();
    this.progress();
  }

  async progress() {
    if (!this.poll || this.poll.status !== "open") return;
    try {
      const pr = await api("GET", `${this.base}/polls/${this.poll.id}/progress`);
      $("console-progress").textContent = `${pr.voted} of ${pr.eligible} have voted; ${pr.not_voted} have not.`;
      const ul = $("waiting");
      ul.replaceChildren(...(pr.waiting || []).map((w) => el("li", { "data-user": w.user }, w.name)));
      if (!(pr.waiting || []).length) ul.append(el("li", {}, "Everyone has voted."));
    } catch {
      // Shown again on the next turn.
    }
  }

  async closePoll() {
    if (!this.poll) return;
    try {
      const p = await api("POST", `${this.base}/polls/${this.poll.id}/close`);
      this.pollClosed(p);
    } catch (err) {
      this.status(`The vote did not close: ${err.message}`, "failed");
    }
  }

  pollClosed(p) {
    if (this.poll && this.poll.id === p.id) {
      this.poll = p;
      $("console-poll").hidden = true;
    }
    this.showResult(p);
    this.status(resultText(p), "connected");
    this.render();
  }

  showResult(p) {
    let li = $("console-results").querySelector(`li[data-poll="${p.id}"]`);
    if (!li) {
      li = el("li", { "data-poll": p.id });
      $("console-results").prepend(li);
    }
    li.textContent = resultText(p);
  }

  // follow reads the journal for changes made elsewhere (another console, the API).
  async follow() {
    for (;;) {
      await new Promise((r) => setTimeout(r, FOLLOW_EVERY_MS));
      try {
        const evs = await api("GET", `${this.base}/events?after=${this.seq}`);
        let changed = false;
        for (const ev of evs) {
          this.seq = ev.seq;
          this.root.dispatchEvent(new CustomEvent("console:event", { detail: ev }));
          if (ev.type.startsWith("meeting.") || ev.type.startsWith("session.") || ev.type === "item.current") changed = true;
          if (ev.type === "poll.opened") this.showPoll(ev.data);
          if (ev.type === "poll.closed" || ev.type === "poll.result") this.pollClosed(ev.data);
        }
        if (changed) await this.refresh();
        await this.progress();
        if (this.root.dataset.offline) {
          delete this.root.dataset.offline;
          this.status("Reconnected.", "connected");
        }
      } catch (err) {
        this.root.dataset.offline = "1";
        this.status(`Lost touch with the server (${err.message}). Trying again…`, "reconnecting");
      }
    }
  }
}

const root = document.getElementById("console");
if (root) {
  const c = new Console(root);
  window.chamberConsole = c;
  const records = new Records(c);
  const room = new RoomPanel(c);
  c.panels = { records, room, roll: new RollPanel(c, records), declarations: new DeclarationsPanel(c, records), timer: new SpeakerTimer(c, room) };
  for (const p of Object.values(c.panels)) if (p.start) p.start();
  c.start();
}
