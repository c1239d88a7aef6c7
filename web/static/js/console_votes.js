// The console's signed votes beyond opening and closing them: this device's voting key
// and the council's keys awaiting a clerk's approval; the presiding member's casting
// vote when a poll closes on an equality, or the record, with its reason, that none
// will be given; and, while a poll is open, the votes the clerk records as given in
// the room (by name, or by proxy where the rules allow proxies) and a show of hands
// counted in the room. Every vote the clerk records is signed on this device with the
// clerk's own key. Refusals are put into words from the problem the server answers
// with. The minutes follow the same meeting journal.

import { api, me } from "./api.js";
import { countsText, el, optionLabel, resultText } from "./meeting.js";
import { makeBallot, makeCount } from "./ballot.js";
import * as keys from "./keys.js";
import { MinutesPanel } from "./console_minutes.js";

const $ = (id) => document.getElementById(id);

// Why a member may not vote (voting.Reason), in words that follow their name.
const REASONS = {
  not_member: "is not a voting member of the committee",
  not_substituting: "is a substitute who is not sitting in place of a member who sent apologies",
  substituted: "has a substitute sitting in their place",
  absent: "was not present when the vote opened",
  remote_may_not_vote: "attends remotely, and the rules let only members in the room vote",
  non_voting_attendance: "attends without a vote",
  unknown_mode: "attends in a way the committee's rules do not provide for",
  proxies_not_allowed: "is represented by proxy, which the committee's rules do not allow",
  proxy_holder_absent: "is represented by a proxy holder who is not present with a vote",
  too_many_proxies: "is represented by a proxy holder who holds more proxies than the rules allow",
  interest: "has declared an interest that bars them from voting on this item",
  not_present_throughout: "was not present for the whole of this item, which the rules require",
  not_proxy_holder: "is represented by proxy, and the vote was not given by the holder of their proxy",
  not_eligible_at_opening: "was not entitled to vote when the vote opened",
};

// What each refusal means for the person at the console.
const REFUSALS = {
  "key-not-approved": "This device's key is not approved yet. A clerk approves it; your own key is approved by another clerk or an admin.",
  "key-revoked": "This device's key has been revoked. Set the device up again under Voting keys.",
  "wrong-key": "The key on this device is not yours. Set the device up again under Voting keys.",
  "poll-closed": "The vote is no longer open.",
  "poll-open": "The vote is still open.",
  "named-vote": "This is a recorded vote: record each member's vote by name instead of a count.",
  "over-count": "There are more votes than members who may still give them. Count again: the last count replaces the one before.",
  "not-presiding": "Only the member presiding over the vote gives its casting vote.",
  "no-tie": "There is no equality to resolve, or that option is not one of those tied.",
  "no-casting-vote": "The committee's rules give no casting vote.",
  "forbidden": "You may not do this.",
  "unauthenticated": "You are no longer signed in. Open your sign-in link again.",
  "csrf": "Your session has changed. Reload the page and try again.",
};

/** refusal puts an error from the API into plain words; who names the member it concerns. */
export function refusal(err, who = "") {
  const p = (err && err.problem) || {};
  const type = String(p.type || "").split("/").pop();
  if (type === "not-eligible" && p.reason) {
    const why = REASONS[p.reason] || p.reason.replaceAll("_", " ");
    return who ? `${who} may not vote: ${why}.` : `Not entitled to vote: ${why}.`;
  }
  const words = REFUSALS[type];
  if (!words) return err.message;
  return p.detail && !["key-not-approved", "key-revoked", "wrong-key", "csrf"].includes(type) ? `${words} (${p.detail})` : words;
}

/** The facts of a receipt, as rows for a description list. */
function receiptRows(r) {
  return [
    ["Ballot fingerprint (SHA-256)", r.ballot_hash],
    ["Entry in the meeting's vote log", String(r.index)],
    ["Log size when recorded", r.checkpoint.split("\n")[1]],
  ];
}

/** The options of a poll closed on an equality: those with the most votes, abstentions aside. */
function tiedOptions(poll) {
  const counts = ((poll.closing && poll.closing.counts) || []).filter((c) => c.option !== "abstain");
  const top = Math.max(0, ...counts.map((c) => c.count));
  return counts.filter((c) => c.count === top).map((c) => c.option);
}

/**
 * The console's shared state: who is signed in, the meeting, its committee, the
 * names of the council's people and this device's key.
 */
class Desk {
  constructor(root, box) {
    this.meetingId = Number(root.dataset.meetingId);
    this.userId = Number(root.dataset.userId);
    this.clerk = root.dataset.role === "clerk";
    this.councilId = Number(box.dataset.councilId);
    this.committeeId = Number(box.dataset.committeeId);
    this.base = `/api/v1/meetings/${this.meetingId}`;
    this.names = new Map();
    this.key = null; // {keyPair, id, publicKey}
    this.keyApproved = false;
    this.onKey = [];
  }

  name(user) {
    return this.names.get(user) || `Member ${user}`;
  }

  async load() {
    let people;
    [this.me, this.meeting, this.committee, people] = await Promise.all([me(), api("GET", this.base),
      api("GET", `/api/v1/committees/${this.committeeId}`), api("GET", `/api/v1/councils/${this.councilId}/people`)]);
    for (const p of people) this.names.set(p.id, p.name);
    this.names.set(this.userId, this.me.name);
  }

  /** Whether the signed-in user presides over the committee (its chair or vice-chair). */
  chairs() {
    const role = (this.me.committees || {})[String(this.committeeId)];
    return role === "chair" || role === "vice_chair";
  }

  keyChanged() {
    for (const f of this.onKey) f();
  }
}

/** This device's key, and the council's keys awaiting approval (clerks). */
class KeyPanel {
  constructor(desk) {
    this.desk = desk;
  }

  start() {
    $("device-key-enrol").addEventListener("click", () => this.enrol());
    $("device-key-check").addEventListener("click", () => this.check());
    if (this.desk.clerk) {
      $("pending-keys-refresh").addEventListener("click", () => this.loadPending(true));
      this.loadPending(false);
    }
    return this.check();
  }

  async check() {
    const d = this.desk;
    const status = $("device-key-status");
    const enrol = $("device-key-enrol");
    const check = $("device-key-check");
    enrol.hidden = check.hidden = true;
    d.keyApproved = false;
    try {
      if (!window.isSecureContext || !(await keys.supported())) {
        status.textContent = "This browser cannot sign votes. Use an up-to-date browser over HTTPS.";
        return;
      }
      d.key = await keys.storedKey(d.userId);
      if (!d.key) {
        status.textContent = "This device is not set up for signing votes.";
        enrol.hidden = false;
        return;
      }
      const { status: st } = await keys.keyStatus(d.key.id);
      if (st === "approved") {
        d.keyApproved = true;
        status.textContent = `This device is set up for signing votes: key ${d.key.id} is approved.`;
      } else if (st === "pending") {
        status.textContent = `This device's key ${d.key.id} is waiting for approval` +
          (d.clerk ? " by another clerk or an admin." : " by a clerk.");
        check.hidden = false;
      } else {
        await keys.forget(d.userId);
        d.key = null;
        status.textContent = "This device's key has been revoked. Set the device up again to sign votes.";
        enrol.hidden = false;
      }
    } catch (err) {
      status.textContent = `Could not check this device's key: ${err.message}`;
      check.hidden = false;
    } finally {
      d.keyChanged();
    }
  }

  async enrol() {
    const d = this.desk;
    const button = $("device-key-enrol");
    button.disabled = true;
    try {
      const k = await keys.enrol(d.userId, `Console (${new Date().toISOString().slice(0, 10)})`);
      d.key = await keys.storedKey(d.userId);
      $("device-key-status").textContent = `This device's key ${k.id} is waiting for approval` +
        (d.clerk ? " by another clerk or an admin." : " by a clerk.");
      button.hidden = true;
      $("device-key-check").hidden = false;
      if (d.clerk) this.loadPending(false);
    } catch (err) {
      $("device-key-status").textContent = `Could not set up this device: ${refusal(err)}`;
    } finally {
      button.disabled = false;
    }
  }

  async loadPending(announce) {
    const d = this.desk;
    const list = $("pending-keys");
    try {
      const pending = await api("GET", `/api/v1/councils/${d.councilId}/keys?status=pending`);
      list.replaceChildren(...pending.map((k) => this.keyRow(k)));
      if (!pending.length) list.append(el("li", {}, "No keys are waiting for approval."));
      if (announce) {
        $("pending-keys-status").textContent = pending.length === 1 ? "One key is waiting for approval." :
          `${pending.length || "No"} keys are waiting for approval.`;
      }
    } catch (err) {
      $("pending-keys-status").textContent = `Could not list the keys awaiting approval: ${refusal(err)}`;
    }
  }

  keyRow(k) {
    const d = this.desk;
    const who = d.name(k.user);
    const when = new Date(k.enrolled_at).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
    const li = el("li", { "data-key": k.id, "data-user": k.user },
      el("strong", {}, who), ` ${k.label ? `(${k.label}) ` : ""}enrolled ${when}. Key `, el("code", {}, k.id), ". ");
    if (k.user === d.userId) {
      li.append("Your own key: another clerk or an admin approves it. ");
    } else {
      li.append(el("button", { type: "button", class: "approve", "aria-label": `Approve the key of ${who}`,
        onclick: () => this.act(k, "approve") }, "Approve"), " ");
    }
    li.append(el("button", { type: "button", class: "secondary revoke", "aria-label": `Revoke the key of ${who}`,
      onclick: () => this.act(k, "revoke") }, "Revoke"));
    return li;
  }

  async act(k, action) {
    const d = this.desk;
    const who = d.name(k.user);
    try {
      await api("POST", `/api/v1/keys/${k.id}/${action}`);
      $("pending-keys-status").textContent = action === "approve" ?
        `The key of ${who} is approved: it signs their votes from now on.` :
        `The key of ${who} is revoked.`;
      if (k.user === d.userId) await this.check();
    } catch (err) {
      $("pending-keys-status").textContent = `The key of ${who} was not ${action === "approve" ? "approved" : "revoked"}: ${refusal(err)}`;
    }
    await this.loadPending(false);
    $("pending-keys-refresh").focus();
  }
}

/**
 * The presiding member's casting vote on a poll that closed on an equality, or the
 * record that none will be given (the member presiding, the chair or a clerk).
 */
class CastingPanel {
  constructor(desk) {
    this.desk = desk;
    this.poll = null;
    this.options = [];
    this.given = false;
  }

  start() {
    $("casting-form").addEventListener("submit", (e) => this.cast(e));
    $("no-casting-form").addEventListener("submit", (e) => this.askDecline(e));
    $("no-casting-no").addEventListener("click", () => this.confirmDecline(false));
    $("no-casting-yes").addEventListener("click", () => this.decline());
    this.desk.onKey.push(() => this.render());
  }

  /** await shows a poll that awaits the casting vote; options are those tied, if known. */
  await(poll, options) {
    const fresh = !this.poll || this.poll.id !== poll.id;
    this.poll = poll;
    this.options = options && options.length ? options : tiedOptions(poll);
    if (fresh) {
      this.given = false;
      $("casting-status").textContent = "";
      $("casting-receipt").hidden = true;
      $("no-casting-form").reset();
      $("no-casting-status").textContent = "";
      this.confirmDecline(false, false);
      const box = $("casting-options");
      box.replaceChildren(...this.options.map((o) => {
        const id = `casting-${poll.id}-${o}`;
        return el("label", { class: "check", for: id }, el("input", { type: "radio", name: "casting", value: o, id }), optionLabel(o));
      }));
    }
    this.render();
  }

  render() {
    const p = this.poll;
    const d = this.desk;
    if (!p) return;
    $("casting").hidden = false;
    const presiding = p.presiding ? d.name(p.presiding) : "the member presiding";
    const counts = countsText((p.closing && p.closing.counts) || []);
    const tied = this.options.map(optionLabel).join(" and ");
    if (p.status !== "awaiting_casting_vote") {
      $("casting-summary").textContent = resultText(p);
      $("casting-form").hidden = true;
      $("no-casting-form").hidden = true;
      return;
    }
    $("casting-summary").textContent = `The vote on “${p.question}” closed on an equality (${counts}): ` +
      `${tied} are tied. The result awaits the casting vote of ${presiding}.`;
    const mine = p.presiding === d.userId;
    $("casting-form").hidden = !mine || this.given;
    // The member presiding, the chair or a clerk may record that none will come.
    $("no-casting-form").hidden = this.given || !(mine || d.clerk || d.chairs());
    $("casting-legend").textContent = `Your casting vote: ${p.question}`;
    $("casting-button").disabled = !d.keyApproved;
    if (mine && !d.keyApproved && !this.given) {
      $("casting-status").textContent = "Your casting vote is signed with this device's key: set it up under Voting keys and have a clerk approve it.";
    }
  }

  /**
   * confirmDecline shows or hides the question asked before recording that no casting
   * vote will be given; focus moves to its answer, or back to the button that asked.
   */
  confirmDecline(show, focus = true) {
    $("no-casting-confirm").hidden = !show;
    $("no-casting-button").setAttribute("aria-expanded", String(show));
    if (focus) (show ? $("no-casting-yes") : $("no-casting-button")).focus();
  }

  /** askDecline checks the reason, then asks for confirmation. */
  askDecline(e) {
    e.preventDefault();
    const p = this.poll;
    const input = $("no-casting-reason");
    const out = $("no-casting-status");
    if (!input.value.trim()) {
      input.setAttribute("aria-invalid", "true");
      out.className = "error";
      out.textContent = "Say why no casting vote will be given first: the reason goes into the minutes.";
      this.confirmDecline(false, false);
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    out.className = "";
    out.textContent = "";
    $("no-casting-question").textContent = `Record that no casting vote will be given on “${p.question.replace(/[.\s]+$/, "")}”? ` +
      "The equality then stands: a motion is lost, a choice is not made. This cannot be undone.";
    this.confirmDecline(true);
  }

  /** decline records that no casting vote will be given, with the reason. */
  async decline() {
    const d = this.desk;
    const p = this.poll;
    const out = $("no-casting-status");
    const yes = $("no-casting-yes");
    yes.disabled = true;
    out.className = "";
    out.textContent = "Recording that no casting vote will be given…";
    try {
      const decided = await api("POST", `${d.base}/polls/${p.id}/no-casting-vote`, { reason: $("no-casting-reason").value.trim() });
      this.given = true;
      this.confirmDecline(false, false);
      this.poll = decided;
      this.render();
      out.className = "ok";
      out.textContent = "Recorded: no casting vote will be given, so the equality stands.";
      $("casting-title").focus();
    } catch (err) {
      out.className = "error";
      out.textContent = `It was not recorded: ${err.status === 422 ?
        "say why no casting vote will be given, in at most 500 characters." : refusal(err)}`;
      this.confirmDecline(false);
    } finally {
      yes.disabled = false;
    }
  }

  /** decided shows a poll's final result. */
  decided(poll) {
    if (!this.poll || this.poll.id !== poll.id) return;
    this.poll = poll;
    this.render();
  }

  async cast(e) {
    e.preventDefault();
    const d = this.desk;
    const p = this.poll;
    const out = $("casting-status");
    const chosen = $("casting-form").querySelector("input[name=casting]:checked");
    if (!chosen) {
      out.className = "error";
      out.textContent = "Choose one of the tied options first.";
      $("casting-form").querySelector("input[name=casting]").focus();
      return;
    }
    if (!d.key || !d.keyApproved) {
      out.className = "error";
      out.textContent = "This device's key is not approved, so it cannot sign the casting vote.";
      return;
    }
    const button = $("casting-button");
    button.disabled = true;
    out.className = "";
    out.textContent = "Signing and sending the casting vote…";
    try {
      const signed = await makeBallot(d.key.keyPair, p, d.userId, chosen.value, { casting: true });
      const receipt = await api("POST", `${d.base}/polls/${p.id}/casting-vote`, signed);
      this.given = true;
      const facts = $("casting-receipt-facts");
      facts.replaceChildren();
      for (const [k, v] of [["Casting vote", optionLabel(chosen.value)], ...receiptRows(receipt)]) facts.append(el("dt", {}, k), el("dd", {}, v));
      $("casting-receipt").hidden = false;
      const decided = await api("GET", `${d.base}/polls/${p.id}`);
      this.poll = decided;
      this.render();
      out.className = "ok";
      out.textContent = `Your casting vote (${optionLabel(chosen.value)}) is recorded. ${resultText(decided)}`;
      $("casting-receipt-title").focus();
    } catch (err) {
      out.className = "error";
      out.textContent = `Your casting vote was not recorded: ${refusal(err)}`;
    } finally {
      button.disabled = !d.keyApproved;
    }
  }
}

const MODES = { in_room: "In the room", remote_voting: "Remote", remote_non_voting: "Remote, no vote", proxy: "By proxy" };

/** Votes given in the room, by name or by proxy, and a show of hands by count (clerks). */
class InRoomPanel {
  constructor(desk) {
    this.desk = desk;
    this.poll = null;
    this.attending = new Map(); // user -> current attendance
  }

  start() {
    $("in-room-form").addEventListener("submit", (e) => this.record(e));
    $("count-form").addEventListener("submit", (e) => this.count(e));
    this.desk.onKey.push(() => this.renderKey());
  }

  async show(poll) {
    if (this.poll && this.poll.id === poll.id) return;
    this.poll = poll;
    $("in-room").hidden = false;
    $("in-room-status").textContent = "";
    $("count-status").textContent = "";
    $("in-room-question").textContent = `Open vote: ${poll.question}${poll.named ? " (a recorded vote: names go into the minutes)" : ""}`;
    try {
      const att = await api("GET", `${this.desk.base}/attendance`);
      this.attending = new Map(att.filter((a) => !a.left_at).map((a) => [a.user_id, a]));
    } catch {
      this.attending = new Map();
    }
    if (this.poll !== poll) return;
    this.renderRows(poll);
    this.renderCount(poll);
    this.renderKey();
  }

  hide(poll) {
    if (!this.poll || (poll && this.poll.id !== poll.id)) return;
    this.poll = null;
    $("in-room").hidden = true;
  }

  /** The proxy holder whose proxy a member's vote is given by, or 0. */
  proxyOf(user) {
    const a = this.attending.get(user);
    const proxies = this.desk.committee.profile && this.desk.committee.profile.proxies_allowed;
    return proxies && a && a.mode === "proxy" ? a.proxy_holder_id || 0 : 0;
  }

  renderRows(poll) {
    const d = this.desk;
    const rows = (poll.eligible || []).map((user) => {
      const who = d.name(user);
      const a = this.attending.get(user);
      const holder = this.proxyOf(user);
      const mode = holder ? `By proxy, held by ${d.name(holder)}` : a ? MODES[a.mode] || a.mode : "Not recorded as present";
      const id = `in-room-vote-${user}`;
      const select = el("select", { id, name: "vote", "data-user": user, "aria-label": `Vote of ${who}` },
        el("option", { value: "" }, "Not recorded"),
        ...poll.options.map((o) => el("option", { value: o }, optionLabel(o))));
      return el("tr", { "data-user": user },
        el("th", { scope: "row" }, who),
        el("td", {}, mode),
        el("td", {}, select),
        el("td", { class: "recorded", id: `in-room-result-${user}` }, "—"));
    });
    $("in-room-rows").replaceChildren(...rows);
  }

  renderCount(poll) {
    const form = $("count-form");
    form.hidden = poll.named;
    if (poll.named) return;
    $("count-fields").replaceChildren(...poll.options.map((o) => {
      const id = `count-${o}`;
      return el("p", {}, el("label", { for: id }, optionLabel(o)),
        el("input", { id, name: o, type: "number", min: "0", step: "1", inputmode: "numeric", value: "0", required: true, "aria-describedby": "count-hint" }));
    }));
  }

  renderKey() {
    const d = this.desk;
    const ready = !!d.key && d.keyApproved;
    const note = $("in-room-key");
    note.hidden = ready;
    note.textContent = ready ? "" : "Votes you record are signed with this device's key. Set it up under Voting keys; another clerk or an admin approves it.";
    $("in-room-button").disabled = !ready;
    $("count-button").disabled = !ready;
  }

  async record(e) {
    e.preventDefault();
    const d = this.desk;
    const poll = this.poll;
    const out = $("in-room-status");
    const chosen = [...$("in-room-rows").querySelectorAll("select")].filter((s) => s.value);
    if (!chosen.length) {
      out.className = "error";
      out.textContent = "Choose the vote of at least one member first.";
      $("in-room-rows").querySelector("select")?.focus();
      return;
    }
    const button = $("in-room-button");
    button.disabled = true;
    out.className = "";
    out.textContent = "Signing and recording the votes…";
    let done = 0;
    const refused = [];
    for (const select of chosen) {
      const user = Number(select.dataset.user);
      const who = d.name(user);
      const choice = select.value;
      const cell = $(`in-room-result-${user}`);
      const proxy = this.proxyOf(user);
      try {
        const signed = await makeBallot(d.key.keyPair, poll, user, choice, { recorder: d.userId, proxy });
        const answer = await api("POST", `${d.base}/polls/${poll.id}/in-room`, { ballots: [signed] });
        const r = answer.receipts[0];
        cell.className = "recorded ok";
        cell.textContent = `${optionLabel(choice)}${proxy ? " (by proxy)" : ""}, entry ${r.index} of the log`;
        select.value = "";
        done++;
      } catch (err) {
        const why = refusal(err, who);
        cell.className = "recorded error";
        cell.textContent = `Not recorded: ${why}`;
        refused.push(why);
      }
    }
    const votes = (n) => (n === 1 ? "1 vote" : `${n} votes`);
    out.className = refused.length ? "error" : "ok";
    out.textContent = `Recorded ${votes(done)}.` + (refused.length ? ` ${votes(refused.length)} refused: ${refused.join(" ")}` : "");
    button.disabled = false;
    this.renderKey();
  }

  async count(e) {
    e.preventDefault();
    const d = this.desk;
    const poll = this.poll;
    const out = $("count-status");
    const counts = [];
    for (const o of poll.options) {
      const input = $(`count-${o}`);
      const v = input.value.trim();
      if (!/^\d{1,9}$/.test(v)) {
        out.className = "error";
        out.textContent = `The hands for “${optionLabel(o)}” must be a whole number, 0 or more.`;
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      input.removeAttribute("aria-invalid");
      counts.push({ option: o, count: Number(v) });
    }
    const button = $("count-button");
    button.disabled = true;
    out.className = "";
    out.textContent = "Signing and recording the count…";
    try {
      const signed = await makeCount(d.key.keyPair, poll, d.userId, counts);
      const r = await api("POST", `${d.base}/polls/${poll.id}/room-count`, signed);
      out.className = "ok";
      out.textContent = `The count is recorded: ${countsText(counts)} (entry ${r.index} of the log). A new count replaces it.`;
    } catch (err) {
      out.className = "error";
      out.textContent = `The count was not recorded: ${refusal(err)}`;
    } finally {
      button.disabled = false;
      this.renderKey();
    }
  }
}

/**
 * Journal hands the meeting's journal events, which the console follows and announces
 * on its root element, to the panels one at a time, in order.
 */
class Journal {
  constructor(root, ready) {
    this.listeners = [];
    this.chain = ready; // events that arrive before the panels are ready wait
    root.addEventListener("console:event", (e) => {
      this.chain = this.chain.then(() => this.dispatch(e.detail));
    });
  }

  on(f) {
    this.listeners.push(f);
  }

  async dispatch(ev) {
    for (const f of this.listeners) {
      try {
        await f(ev);
      } catch (err) {
        console.error(err);
      }
    }
  }
}

async function start(root, box) {
  const desk = new Desk(root, box);
  let ready;
  const journal = new Journal(root, new Promise((r) => { ready = r; }));
  try {
    await desk.load();
  } catch (err) {
    $("device-key-status").textContent = `The votes could not load: ${refusal(err)}`;
    return;
  }
  const keyPanel = new KeyPanel(desk);
  const casting = new CastingPanel(desk);
  const room = desk.clerk ? new InRoomPanel(desk) : null;
  const minutes = new MinutesPanel(desk);
  casting.start();
  room?.start();
  await keyPanel.start();

  try {
    const polls = await api("GET", `${desk.base}/polls`);
    for (const p of polls) {
      if (p.status === "awaiting_casting_vote") casting.await(p);
      if (p.status === "open") room?.show(p);
    }
  } catch {
    // The journal brings the next change.
  }
  journal.on(async (ev) => {
    const p = ev.data;
    switch (ev.type) {
      case "poll.opened":
        room?.show(p);
        break;
      case "poll.closed":
        room?.hide(p);
        if (p.status === "awaiting_casting_vote") casting.await(p);
        break;
      case "poll.casting":
        casting.await(await api("GET", `${desk.base}/polls/${p.poll}`), p.options);
        break;
      case "poll.result":
        room?.hide(p);
        casting.decided(p);
        break;
    }
  });
  minutes.start(journal);
  ready();
  window.chamberConsoleVotes = { desk, keyPanel, casting, room, minutes };
}

const root = document.getElementById("console");
const box = document.getElementById("console-votes");
if (root && box) start(root, box);
