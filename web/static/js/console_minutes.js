// The console's minutes, once the meeting has closed: the clerk drafts them from the
// meeting's records and votes and edits each item's decision and notes; the chair (or
// vice-chair) approves them as a correct record at a later meeting of the committee
// that has begun; the clerk then publishes them, frozen from then on, and may correct
// them after, each correction a new version published with its reason. The versions
// and the links to the minutes page and the exports are shown beside them.

import { api } from "./api.js";
import { countsText, el, optionLabel } from "./meeting.js";

const $ = (id) => document.getElementById(id);

const STATUS = { draft: "Draft", approved: "Approved, not yet published", published: "Published" };
const OUTCOMES = {
  carried: "carried",
  lost: "lost",
  decided: "decided",
  tied: "tied",
  undecided: "no decision (an equality)",
  inquorate: "no decision: the meeting was not quorate",
};

function when(t) {
  return new Date(t).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

function stampText(s) {
  return s ? `${s.by && s.by.name ? `${s.by.name}, ` : ""}${when(s.at)}` : "";
}

/** A vote as the minutes hold it, in one line: question, outcome, counts, casting vote, names. */
function voteText(v) {
  let s = `${v.question.replace(/[.\s]+$/, "")}: ${OUTCOMES[v.outcome] || v.outcome}`;
  if (v.winner) s += ` (${optionLabel(v.winner)})`;
  s += ".";
  if (v.counts && v.counts.length) s += ` ${countsText(v.counts)}.`;
  if (v.casting) s += ` Casting vote of ${v.casting.name}: ${optionLabel(v.casting.choice)}.`;
  if (v.recorded) {
    const by = {};
    for (const m of v.members || []) if (m.choice) (by[m.choice] = by[m.choice] || []).push(m.name);
    const named = (v.options || []).filter((o) => by[o]).map((o) => `${optionLabel(o)}: ${by[o].join(", ")}`);
    if (named.length) s += ` Recorded vote: ${named.join("; ")}.`;
  }
  return s;
}

/** The minutes section of the console. desk is the console's shared state (console_votes.js). */
export class MinutesPanel {
  constructor(desk) {
    this.desk = desk;
    this.minutes = null;
    this.shown = false;
    this.loading = Promise.resolve(); // loads run one after another, the last one shown last
  }

  start(journal) {
    const d = this.desk;
    if (d.clerk) {
      $("minutes-draft").addEventListener("click", () => this.draft());
      $("minutes-redraft").addEventListener("click", () => this.draft());
      $("minutes-publish").addEventListener("click", () => this.publish());
      $("correction-form").addEventListener("submit", (e) => this.correct(e));
      $("correction-item").addEventListener("change", () => this.fillCorrection(true));
    }
    $("minutes-approve-form").addEventListener("submit", (e) => this.approve(e));
    journal.on((ev) => {
      if (ev.type === "meeting.closed") return this.show();
      if (this.shown && ev.type.startsWith("minutes.")) return this.load();
      return undefined;
    });
    if (d.meeting.status === "closed") this.show();
  }

  async show() {
    if (this.shown) return;
    this.shown = true;
    $("minutes-panel").hidden = false;
    await this.load();
  }

  /**
   * say reports what an action did. The report stays until the minutes change state;
   * then the status says where they stand.
   */
  say(text, state = "") {
    this.saidAt = this.minutes ? this.minutes.status : "none";
    const s = $("minutes-status");
    s.textContent = text;
    s.className = state;
  }

  /** Where the minutes stand and what comes next, in words. */
  standing() {
    const d = this.desk;
    const mi = this.minutes;
    if (!mi) {
      return d.clerk ? "There are no minutes yet: draft them from the meeting's records and votes." :
        "The clerk has not drafted the minutes yet.";
    }
    switch (mi.status) {
      case "draft":
        if (d.clerk) return `Version ${mi.version} of the minutes is a draft: edit each item's decision and notes, then the chair approves them at a later meeting.`;
        if (d.chairs()) return `Version ${mi.version} of the minutes is a draft: approve them below as a correct record at a later meeting of the committee.`;
        return `Version ${mi.version} of the minutes is a draft. The chair approves them at a later meeting of the committee.`;
      case "approved":
        return d.clerk ? "The minutes are approved: publish them." : "The minutes are approved; the clerk publishes them.";
      default:
        return `Version ${mi.version} of the minutes is published.`;
    }
  }

  load() {
    this.loading = this.loading.then(() => this.fetch());
    return this.loading;
  }

  async fetch() {
    const d = this.desk;
    let mi = null;
    let versions = [];
    try {
      mi = await api("GET", `${d.base}/minutes`);
      versions = await api("GET", `${d.base}/minutes/versions`);
    } catch (err) {
      if (err.status !== 404) {
        this.say(`The minutes could not load: ${err.message}`, "error");
        return;
      }
    }
    this.minutes = mi;
    this.render(versions);
    if (mi && mi.status === "draft" && d.chairs()) await this.loadMeetings();
  }

  render(versions) {
    const d = this.desk;
    const mi = this.minutes;
    const editable = d.clerk && mi && mi.status === "draft";
    if (d.clerk) {
      $("minutes-draft").hidden = !!mi;
      $("minutes-redraft").hidden = !editable;
      $("minutes-redraft-hint").hidden = !editable;
      $("minutes-publish").hidden = !mi || mi.status !== "approved";
    }
    $("minutes-approve-form").hidden = !mi || mi.status !== "draft" || !d.chairs();
    if (this.saidAt !== (mi ? mi.status : "none")) {
      this.saidAt = undefined;
      $("minutes-status").textContent = this.standing();
      $("minutes-status").className = "";
    }
    this.renderCorrection(mi);
    if (!mi) {
      $("minutes-facts").hidden = true;
      $("minutes-items").replaceChildren();
      this.itemsSig = undefined;
      $("minutes-versions-box").hidden = true;
      return;
    }
    const facts = [["Version", String(mi.version)], ["Status", STATUS[mi.status] || mi.status], ["Drafted", stampText(mi.drafted)]];
    if (mi.edited) facts.push(["Last edited", stampText(mi.edited)]);
    if (mi.approval) facts.push(["Approved", `${stampText(mi.approval)}, at ${mi.approval.meeting.title} on ${when(mi.approval.meeting.starts_at)}`]);
    if (mi.published) facts.push(["Published", stampText(mi.published)]);
    const dl = $("minutes-facts");
    dl.replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    dl.hidden = false;
    dl.dataset.status = mi.status;

    this.renderItems(mi, editable);

    const ol = $("minutes-versions");
    ol.replaceChildren(...versions.map((v) => el("li", { "data-version": v.version },
      el("a", { href: `/meetings/${d.meetingId}/minutes?version=${v.version}` }, `Version ${v.version}`),
      `: ${(STATUS[v.status] || v.status).toLowerCase()}, drafted ${stampText(v.drafted)}`,
      v.correction ? `; corrects version ${v.correction.supersedes}: ${v.correction.reason}` : "")));
    $("minutes-versions-box").hidden = !versions.length;
  }

  /** The text typed but not saved in each item, kept across a reload of the minutes. */
  drafts() {
    const out = new Map();
    for (const form of document.querySelectorAll("#minutes-items form")) {
      const id = Number(form.dataset.item);
      const dec = form.querySelector("textarea[name=decision]");
      const notes = form.querySelector("textarea[name=notes]");
      if (dec && (dec.value !== dec.defaultValue || notes.value !== notes.defaultValue)) out.set(id, { decision: dec.value, notes: notes.value });
    }
    return out;
  }

  /**
   * renderItems shows each item's votes and text. The forms are made again only when
   * the items or whether they may be edited change; otherwise they are filled in place,
   * so that the focus and any text being typed stay.
   */
  renderItems(mi, editable) {
    const items = mi.items || [];
    const box = $("minutes-items");
    const sig = JSON.stringify([editable, items.map((it) => it.id)]);
    if (sig !== this.itemsSig) {
      this.itemsSig = sig;
      const keep = this.drafts();
      box.replaceChildren(...items.map((it) => this.itemBox(it, editable, keep.get(it.id))));
      return;
    }
    for (const it of items) this.fillItem(box.querySelector(`form[data-item="${it.id}"]`), it, editable);
  }

  itemBox(it, editable, unsaved) {
    const title = `${it.number ? `Item ${it.number}: ` : ""}${it.title}`;
    const box = el("form", { class: "minutes-item", "data-item": it.id, novalidate: true, "aria-labelledby": `minutes-item-${it.id}` },
      el("h3", { id: `minutes-item-${it.id}` }, title),
      el("p", { class: "tag not-taken" }, "Not taken at the meeting."),
      el("ul", { class: "results", "aria-label": `Votes on ${title}` }));
    if (!editable) {
      box.append(el("dl", { class: "facts" },
        el("dt", {}, "Decision"), el("dd", { class: "decision" }),
        el("dt", {}, "Notes"), el("dd", { class: "notes" })));
      this.fillItem(box, it, editable);
      return box;
    }
    const field = (name, label) => {
      const id = `minutes-${name}-${it.id}`;
      return [el("label", { for: id }, label), el("textarea", { id, name, rows: name === "decision" ? "3" : "5" })];
    };
    const [decLabel, dec] = field("decision", "Decision");
    const [notesLabel, notes] = field("notes", "Notes for the minutes");
    const status = el("p", { class: "item-status", id: `minutes-item-status-${it.id}`, role: "status" });
    box.append(el("p", {}, decLabel, dec), el("p", {}, notesLabel, notes),
      el("p", {}, el("button", { type: "submit", id: `minutes-save-${it.id}` }, `Save ${it.number ? `item ${it.number}` : "this item"}`)), status);
    box.addEventListener("submit", (e) => this.save(e, it, dec, notes, status));
    this.fillItem(box, it, editable);
    if (unsaved) {
      dec.value = unsaved.decision;
      notes.value = unsaved.notes;
    }
    return box;
  }

  /** fillItem puts an item's votes and text into its form; text being edited stays as typed. */
  fillItem(box, it, editable) {
    const votes = [...(it.motions || []).flatMap((m) => m.votes || []), ...(it.votes || [])];
    box.querySelector(".not-taken").hidden = !!it.taken;
    const ul = box.querySelector(".results");
    ul.hidden = !votes.length;
    ul.replaceChildren(...votes.map((v) => el("li", {}, voteText(v))));
    for (const name of ["decision", "notes"]) {
      if (editable) {
        // A textarea the user has typed in keeps its value when its default changes.
        box.querySelector(`textarea[name=${name}]`).defaultValue = it[name] || "";
      } else {
        box.querySelector(`dd.${name}`).textContent = it[name] || "—";
      }
    }
  }

  async save(e, it, dec, notes, status) {
    e.preventDefault();
    const d = this.desk;
    const body = {};
    if (dec.value !== dec.defaultValue) body.decision = dec.value;
    if (notes.value !== notes.defaultValue) body.notes = notes.value;
    if (!Object.keys(body).length) {
      status.className = "item-status";
      status.textContent = "Nothing has changed.";
      return;
    }
    status.className = "item-status";
    status.textContent = "Saving…";
    try {
      this.minutes = await api("PATCH", `${d.base}/minutes/items/${it.id}`, body);
      dec.defaultValue = dec.value;
      notes.defaultValue = notes.value;
      status.className = "item-status ok";
      status.textContent = `Saved at ${new Date().toLocaleTimeString("en-GB")}.`;
    } catch (err) {
      status.className = "item-status error";
      status.textContent = `Not saved: ${err.message}`;
    }
  }

  /** The item chosen for a correction, as the latest version of the minutes has it. */
  correctionItem() {
    const id = Number($("correction-item").value);
    return ((this.minutes && this.minutes.items) || []).find((it) => it.id === id);
  }

  /** renderCorrection offers the clerk the correction of published minutes. */
  renderCorrection(mi) {
    if (!this.desk.clerk) return;
    const ok = !!mi && mi.status === "published";
    $("correction-form").hidden = !ok;
    if (!ok) return;
    const items = mi.items || [];
    const select = $("correction-item");
    const sig = JSON.stringify(items.map((it) => [it.id, it.number, it.title]));
    if (sig !== this.correctionSig) {
      this.correctionSig = sig;
      const chosen = select.value;
      select.replaceChildren(...items.map((it) => el("option", { value: it.id },
        `${it.number ? `Item ${it.number}: ` : ""}${it.title}`)));
      if (items.some((it) => String(it.id) === chosen)) select.value = chosen;
    }
    this.fillCorrection(false);
  }

  /**
   * fillCorrection puts the chosen item's text, as published, into the correction's
   * fields; text the clerk has changed stays unless replace.
   */
  fillCorrection(replace) {
    const it = this.correctionItem();
    for (const name of ["decision", "notes"]) {
      const field = $(`correction-${name}`);
      const changed = field.value !== field.defaultValue;
      field.defaultValue = (it && it[name]) || "";
      if (replace || !changed) field.value = field.defaultValue;
    }
  }

  async correct(e) {
    e.preventDefault();
    const d = this.desk;
    const it = this.correctionItem();
    const out = $("correction-status");
    const reason = $("correction-reason");
    const fail = (text, field) => {
      out.className = "error";
      out.textContent = text;
      if (field) {
        field.setAttribute("aria-invalid", "true");
        field.focus();
      }
    };
    if (!it) return fail("Choose the item to correct.", $("correction-item"));
    const edit = { item_id: it.id };
    for (const name of ["decision", "notes"]) {
      const v = $(`correction-${name}`).value;
      if (v !== (it[name] || "")) edit[name] = v;
    }
    if (!("decision" in edit) && !("notes" in edit)) return fail("Change the item's decision or notes first: the correction changes nothing yet.", $("correction-decision"));
    if (!reason.value.trim()) return fail("Give the reason for the correction: it is published with it.", reason);
    for (const f of document.querySelectorAll("#correction-form [aria-invalid]")) f.removeAttribute("aria-invalid");
    const button = $("correction-button");
    button.disabled = true;
    out.className = "";
    out.textContent = "Publishing the correction…";
    try {
      const mi = await api("POST", `${d.base}/minutes/corrections`, { reason: reason.value.trim(), items: [edit] });
      reason.value = "";
      await this.load();
      this.fillCorrection(true);
      button.disabled = false;
      out.className = "ok";
      out.textContent = `The correction is published as version ${mi.version} of the minutes; version ${mi.correction.supersedes} is kept as it was.`;
      $("minutes-versions-title").focus();
    } catch (err) {
      button.disabled = false;
      fail(`The correction was not published: ${err.message}`);
      button.focus();
    }
  }

  async draft() {
    const d = this.desk;
    const again = !!this.minutes;
    this.say(again ? "Drafting the minutes again from the meeting's records and votes…" : "Drafting the minutes from the meeting's records and votes…");
    try {
      const mi = await api("POST", `${d.base}/minutes/draft`);
      await this.load();
      this.say(again ? `Version ${mi.version} of the minutes is drafted again; your edits are kept.` :
        `Version ${mi.version} of the minutes is drafted. Edit each item's decision and notes below.`, "ok");
      if (!again) document.querySelector("#minutes-items textarea")?.focus();
    } catch (err) {
      this.say(`The minutes were not drafted: ${err.message}`, "error");
    }
  }

  /** Lists the later meetings of the committee that have begun, at which the chair may approve. */
  async loadMeetings() {
    const d = this.desk;
    const select = $("minutes-approve-at");
    try {
      const from = encodeURIComponent(d.meeting.starts_at);
      const page = await api("GET", `/api/v1/meetings?committee=${d.committeeId}&from=${from}&limit=200`);
      const later = page.items.filter((m) => m.id !== d.meetingId && m.started_at &&
        new Date(m.starts_at) > new Date(d.meeting.starts_at));
      const chosen = select.value;
      select.replaceChildren(...later.map((m) => el("option", { value: m.id }, `${m.title}, ${when(m.starts_at)}`)));
      if (chosen) select.value = chosen;
      $("minutes-approve").disabled = !later.length;
      if (!later.length) {
        select.append(el("option", { value: "" }, "No later meeting of the committee has begun"));
      }
    } catch (err) {
      this.say(`The committee's meetings could not load: ${err.message}`, "error");
    }
  }

  async approve(e) {
    e.preventDefault();
    const d = this.desk;
    const at = Number($("minutes-approve-at").value);
    if (!at) {
      this.say("Choose the meeting at which the minutes are approved.", "error");
      $("minutes-approve-at").focus();
      return;
    }
    try {
      const mi = await api("POST", `${d.base}/minutes/approve`, { at_meeting: at });
      await this.load();
      this.say(`The minutes are approved as a correct record at ${mi.approval.meeting.title}. The clerk publishes them.`, "ok");
    } catch (err) {
      this.say(`The minutes were not approved: ${err.message}`, "error");
    }
  }

  async publish() {
    const d = this.desk;
    try {
      const mi = await api("POST", `${d.base}/minutes/publish`);
      await this.load();
      this.say(`Version ${mi.version} of the minutes is published and can no longer be changed.`, "ok");
      $("minutes-links").querySelector("a")?.focus();
    } catch (err) {
      this.say(`The minutes were not published: ${err.message}`, "error");
    }
  }
}
