// Small pieces the console's panels share: times in words, text for screen readers
// only, and keeping the keyboard focus where it was when a list is redrawn.

import { el } from "./meeting.js";

/** "18:05" from an RFC 3339 time (local time, 24-hour clock). */
export function clock(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}

/** A span read by screen readers but not shown, such as the name a button acts on. */
export function srOnly(text) {
  return el("span", { class: "visually-hidden" }, text);
}

/**
 * redraw runs draw, which changes what is inside container, and puts the keyboard
 * focus back if draw took it away: on the element with the same data-key if there is
 * one again; otherwise on the first whose key has the same first part (before ":"),
 * such as another button of the same person; otherwise on fallback.
 */
export function redraw(container, draw, fallback) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : undefined;
  draw();
  if (key === undefined || container.contains(document.activeElement)) return;
  const near = `${key.split(":")[0]}:`;
  const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`) ||
    container.querySelector(`[data-key^="${CSS.escape(near)}"]`) || fallback;
  if (again) again.focus();
}

/** Announces text through a live region, even when it is the same as last time. */
export function announce(region, text) {
  if (region.textContent === text) region.textContent = "";
  // A fresh text node in a later task is what screen readers reliably pick up.
  setTimeout(() => { region.textContent = text; }, 50);
}

/** A signature of what a list shows, to redraw only when something changed. */
export function signature(value) {
  return JSON.stringify(value);
}
