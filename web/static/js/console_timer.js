// The public speaker's timer in the console: when a public speaker is given the floor
// (on their own item, which the room enforces), a countdown of the time each public
// speaker has, set in the console (three minutes unless the clerk changes it). The clock
// is shown large but not read out each second; a live region says how long is left at
// each whole minute, at 30 and 10 seconds, and when the time is up. The chair may pause
// and restart it.

import { announce } from "./console_ui.js";

const $ = (id) => document.getElementById(id);
const STORE_KEY = "chamber.console.speakerMinutes";
const DEFAULT_MINUTES = 3;
const TICK_MS = 250;

/** "2:05" from whole seconds. */
export function mmss(secs) {
  return `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}`;
}

/** "2 minutes 30 seconds" from whole seconds. */
export function duration(secs) {
  const m = Math.floor(secs / 60);
  const s = secs % 60;
  const parts = [];
  if (m) parts.push(`${m} minute${m === 1 ? "" : "s"}`);
  if (s || !m) parts.push(`${s} second${s === 1 ? "" : "s"}`);
  return parts.join(" ");
}

export class SpeakerTimer {
  constructor(console, room) {
    this.console = console;
    this.room = room;
    this.speaker = null; // {identity, name, since}
    this.endsAt = 0;
    this.pausedLeft = null; // ms left while paused
    this.allowed = 0; // seconds
    this.told = new Set(); // the marks already announced
    this.ticker = 0;
    this.shown = "";
  }

  start() {
    const input = $("timer-minutes");
    const saved = Number(localStorage.getItem(STORE_KEY));
    input.value = String(this.valid(saved) ? saved : DEFAULT_MINUTES);
    input.addEventListener("change", () => this.setMinutes());
    $("timer-pause").addEventListener("click", () => this.togglePause());
    $("timer-restart").addEventListener("click", () => this.restart());
    this.room.addEventListener("floor", (e) => this.onFloor(e.detail));
  }

  valid(minutes) { return Number.isFinite(minutes) && minutes >= 0.5 && minutes <= 60; }

  // minutes is the time each public speaker has, as the console sets it.
  minutes() {
    const v = Number($("timer-minutes").value);
    return this.valid(v) ? v : DEFAULT_MINUTES;
  }

  setMinutes() {
    const input = $("timer-minutes");
    const v = Number(input.value);
    const hint = $("timer-hint");
    if (!this.valid(v)) {
      input.setAttribute("aria-invalid", "true");
      hint.textContent = "Enter a time between half a minute and 60 minutes.";
      hint.className = "hint error";
      return;
    }
    input.removeAttribute("aria-invalid");
    hint.textContent = this.speaker ? "The new time applies when you restart the timer." : "The countdown starts when a public speaker is given the floor.";
    hint.className = "hint";
    localStorage.setItem(STORE_KEY, String(v));
  }

  onFloor({ floor, participant }) {
    const publicSpeaker = floor && participant && participant.role === "speaker";
    if (!publicSpeaker) {
      if (this.speaker) this.stop();
      return;
    }
    if (this.speaker && this.speaker.identity === floor.identity && this.speaker.since === floor.since) return;
    this.begin({ identity: floor.identity, name: participant.name, since: floor.since });
  }

  // begin starts the countdown from when the floor was given (as this browser's clock
  // has it, and never later than now).
  begin(speaker) {
    this.speaker = speaker;
    this.allowed = Math.round(this.minutes() * 60);
    const now = Date.now();
    let from = Date.parse(speaker.since);
    if (!(from <= now) || now - from > this.allowed * 1000) from = now;
    this.endsAt = from + this.allowed * 1000;
    this.pausedLeft = null;
    this.told = new Set();
    $("timer-who").textContent = `${speaker.name} (public speaker) has the floor: ${duration(this.allowed)} allowed.`;
    $("timer").hidden = false;
    $("timer-done").textContent = "";
    this.setPauseButton();
    this.markPassed();
    announce($("timer-announce"), `${speaker.name} has the floor: ${duration(this.allowed)}.`);
    clearInterval(this.ticker);
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  stop() {
    clearInterval(this.ticker);
    this.ticker = 0;
    const used = this.allowed - Math.ceil(this.left() / 1000);
    $("timer-done").textContent = `${this.speaker.name} spoke for ${mmss(Math.max(0, used))} of ${mmss(this.allowed)}.`;
    $("timer").hidden = true;
    this.speaker = null;
    this.shown = "";
  }

  left() { return this.pausedLeft !== null ? this.pausedLeft : this.endsAt - Date.now(); }

  // marks are the seconds left at which the time is announced: each whole minute
  // below the time allowed, then 30 and 10 seconds, then zero.
  marks() {
    const out = [];
    for (let m = Math.ceil(this.allowed / 60) - 1; m >= 1; m--) out.push(m * 60);
    for (const s of [30, 10, 0]) if (s < this.allowed) out.push(s);
    return out;
  }

  // markPassed counts the marks already behind as told, so that a late start says
  // nothing stale.
  markPassed() {
    const secs = Math.ceil(this.left() / 1000);
    for (const m of this.marks()) if (secs < m) this.told.add(m);
  }

  tick() {
    if (!this.speaker) return;
    const secs = Math.ceil(this.left() / 1000);
    const text = secs >= 0 ? mmss(secs) : `−${mmss(-secs)}`;
    if (text !== this.shown) {
      this.shown = text;
      const clockEl = $("timer-clock");
      clockEl.textContent = text;
      clockEl.dataset.state = secs <= 0 ? "over" : secs <= 30 ? "ending" : "";
    }
    const due = this.marks().filter((m) => secs <= m && !this.told.has(m));
    if (!due.length) return;
    for (const m of due) this.told.add(m);
    const m = Math.min(...due);
    announce($("timer-announce"), m === 0 ? `Time is up for ${this.speaker.name}.` : `${duration(m)} left.`);
  }

  togglePause() {
    if (!this.speaker) return;
    if (this.pausedLeft === null) {
      this.pausedLeft = this.endsAt - Date.now();
      announce($("timer-announce"), `Timer paused with ${duration(Math.max(0, Math.ceil(this.pausedLeft / 1000)))} left.`);
    } else {
      this.endsAt = Date.now() + this.pausedLeft;
      this.pausedLeft = null;
      announce($("timer-announce"), "Timer running.");
    }
    this.setPauseButton();
    this.tick();
  }

  setPauseButton() {
    $("timer-pause").textContent = this.pausedLeft !== null ? "Resume the timer" : "Pause the timer";
  }

  restart() {
    if (!this.speaker) return;
    this.allowed = Math.round(this.minutes() * 60);
    this.endsAt = Date.now() + this.allowed * 1000;
    this.pausedLeft = null;
    this.told = new Set();
    $("timer-who").textContent = `${this.speaker.name} (public speaker) has the floor: ${duration(this.allowed)} allowed.`;
    this.setPauseButton();
    announce($("timer-announce"), `Timer restarted: ${duration(this.allowed)}.`);
    this.tick();
  }
}
