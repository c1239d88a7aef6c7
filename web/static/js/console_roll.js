// The roll call in the console: the committee's members and substitutes with their
// attendance (mode and times), apologies and substitutions, buttons to record each in
// the modes the committee's rules allow, and the quorum. The rules come with the page
// (#roll's data and the #roll-modes list the server renders from the rules profile).

import { api } from "./api.js";
import { el } from "./meeting.js";
import { clock, redraw, signature, srOnly } from "./console_ui.js";
import { ROLE_WORDS } from "./console_records.js";

const $ = (id) => document.getElementById(id);

// Words for modes the rules no longer offer but that an earlier record may carry.
const MODE_WORDS = { in_room: "In the room", remote_voting: "Remote", remote_non_voting: "Remote, no vote", proxy: "By proxy" };

export class RollPanel {
  constructor(console, records) {
    this.console = console;
    this.records = records;
    const section = $("roll");
    this.quorum = Number(section.dataset.quorum);
    this.modes = [...document.querySelectorAll("#roll-modes li[data-mode]")].map((li) => ({
      mode: li.dataset.mode, label: li.dataset.label, counts: li.dataset.counts === "true", votes: li.dataset.votes === "true",
    }));
    this.rows = new Map(); // user id -> {tr, sig}
    this.form = null; // {user, kind, tr}
  }

  start() {
    this.records.addEventListener("change", () => this.render());
    this.records.addEventListener("failed", (e) => this.say(`The roll could not be read: ${e.detail.message}`, "error"));
    this.console.root.addEventListener("console:meeting", () => this.render());
  }

  say(text, kind = "ok") {
    const out = $("roll-result");
    out.className = kind;
    out.textContent = text;
  }

  modeLabel(mode) {
    const m = this.modes.find((x) => x.mode === mode);
    return m ? m.label : MODE_WORDS[mode] || mode;
  }

  // people lists the voting members first, then the substitutes.
  people() {
    const ms = this.records.members;
    return [...ms.filter((m) => m.role !== "substitute"), ...ms.filter((m) => m.role === "substitute")];
  }

  // sits reports whether the person holds a voting seat at this meeting: a member not
  // replaced by a substitute, or a substitute sitting for a member.
  sits(m) {
    if (m.role === "substitute") return this.records.sittingFor(m.user_id) !== 0;
    return this.records.substituteFor(m.user_id) === 0;
  }

  // barred reports whether a declaration bars the person from the item: any interest
  // they withdraw for, whatever the dispensation, or a pecuniary or prejudicial interest
  // without one (agenda.Declaration.Disqualifies, as the votes' roll reckons it).
  barred(userId, itemId) {
    if (!itemId) return false;
    return this.records.declarationsOn(itemId).some((d) => d.user_id === userId && (d.withdraws ||
      (!(d.dispensation || "").trim() && (d.kind === "pecuniary" || d.kind === "prejudicial"))));
  }

  // quorumText says how many count towards the quorum now, on the current item.
  quorumText() {
    const item = this.console.meeting ? this.console.meeting.current_item_id : 0;
    let counting = 0;
    let barred = 0;
    for (const m of this.records.members) {
      const a = this.records.present(m.user_id);
      const rule = a && this.modes.find((x) => x.mode === a.mode);
      if (!this.sits(m) || !rule || !rule.counts) continue;
      if (this.barred(m.user_id, item)) barred++;
      else counting++;
    }
    const voting = this.records.members.filter((m) => m.role !== "substitute").length;
    let text = `Quorum: ${this.quorum} of the ${voting} voting members. Present and counting: ${counting}`;
    if (barred) text += ` (and ${barred} barred from this item by an interest)`;
    text += counting >= this.quorum ? ". The meeting is quorate." : `. Not quorate: ${this.quorum - counting} more needed.`;
    return { text, quorate: counting >= this.quorum };
  }

  // attendanceText puts a person's attendance into words, with times.
  attendanceText(m) {
    const r = this.records;
    const now = r.present(m.user_id);
    const all = r.stretches(m.user_id);
    let main;
    if (now) {
      main = `${this.modeLabel(now.mode)} since ${clock(now.arrived_at)}`;
      if (now.mode === "proxy" && now.proxy_holder_id) main += `, represented by ${r.name(now.proxy_holder_id)}`;
      if (now.source === "presence") main += " (joined the meeting room)";
    } else if (r.apology(m.user_id)) {
      const a = r.apology(m.user_id);
      main = `Apologies${a.reason ? `: ${a.reason}` : ""} (sent ${clock(a.created_at)})`;
    } else if (all.length) {
      main = `Left at ${clock(all[all.length - 1].left_at)}`;
    } else {
      main = "Not recorded";
    }
    const notes = [];
    const sitting = r.sittingFor(m.user_id);
    if (sitting) notes.push(`Sitting for ${r.name(sitting)}`);
    const sub = r.substituteFor(m.user_id);
    if (sub) notes.push(`Substitute: ${r.name(sub)}`);
    const earlier = all.filter((a) => a !== now && a.left_at)
      .map((a) => `${this.modeLabel(a.mode).toLowerCase()} ${clock(a.arrived_at)}–${clock(a.left_at)}`);
    if (earlier.length) notes.push(`Earlier: ${earlier.join("; ")}`);
    return { main, notes, state: now ? now.mode : r.apology(m.user_id) ? "apologies" : all.length ? "left" : "absent" };
  }

  // actions lists the buttons of a person's row.
  actions(m) {
    const r = this.records;
    const now = r.present(m.user_id);
    const out = this.modes.map((x) => ({ action: "mode", mode: x.mode, label: x.label, pressed: !!now && now.mode === x.mode }));
    if (now) out.push({ action: "left", label: "Left" });
    else if (r.apology(m.user_id)) out.push({ action: "withdraw-apology", label: "Withdraw apologies" });
    else out.push({ action: "apologies", label: "Apologies…" });
    return out;
  }

  render() {
    if (!this.records.loaded) return;
    const q = this.quorumText();
    const qp = $("quorum");
    if (qp.textContent !== q.text) qp.textContent = q.text;
    qp.dataset.quorate = String(q.quorate);
    const body = $("roll-body");
    const people = this.people();
    redraw(body, () => {
      const seen = new Set();
      let at = 0;
      let group = "";
      for (const m of people) {
        const g = m.role === "substitute" ? "substitutes" : "members";
        if (g !== group) {
          group = g;
          const head = this.groupRow(g);
          if (body.children[at] !== head) body.insertBefore(head, body.children[at] || null);
          at++;
        }
        seen.add(m.user_id);
        const row = this.row(m);
        if (body.children[at] !== row) body.insertBefore(row, body.children[at] || null);
        at++;
        if (this.form && this.form.user === m.user_id) {
          if (body.children[at] !== this.form.tr) body.insertBefore(this.form.tr, body.children[at] || null);
          at++;
        }
      }
      for (const [user, r] of this.rows) {
        if (!seen.has(user)) {
          r.tr.remove();
          this.rows.delete(user);
        }
      }
      while (body.children.length > at) body.lastElementChild.remove();
    }, $("roll-title"));
  }

  groupRow(g) {
    this.groups = this.groups || {};
    if (!this.groups[g]) {
      this.groups[g] = el("tr", { class: "group", role: "row" },
        el("th", { scope: "rowgroup", colspan: "3", role: "rowheader" }, g === "members" ? "Members" : "Substitutes"));
    }
    return this.groups[g];
  }

  // row returns the person's row, brought up to date; its buttons are made again only
  // when they change, so that the focus stays put.
  row(m) {
    let r = this.rows.get(m.user_id);
    if (!r) {
      // The explicit roles keep the table a table where narrow screens stack its cells.
      const tr = el("tr", { "data-user": m.user_id, role: "row" },
        el("th", { scope: "row", role: "rowheader" }, el("span", { class: "name" }), " ", el("span", { class: "tag role" })),
        el("td", { class: "attendance", role: "cell" }, el("span", { class: "main" }), el("span", { class: "notes tag" })),
        el("td", { class: "actions", role: "cell" }, el("div", { class: "row-actions" })));
      r = { tr, sig: "" };
      this.rows.set(m.user_id, r);
    }
    const tr = r.tr;
    tr.querySelector(".name").textContent = m.name;
    tr.querySelector(".role").textContent = `(${ROLE_WORDS[m.role] || m.role})`;
    const a = this.attendanceText(m);
    tr.dataset.state = a.state;
    tr.querySelector(".main").textContent = a.main;
    tr.querySelector(".notes").textContent = a.notes.join(". ");
    const acts = this.actions(m);
    const sig = signature(acts);
    if (sig !== r.sig) {
      r.sig = sig;
      const box = tr.querySelector(".row-actions");
      box.replaceChildren(...acts.map((x) => el("button", {
        type: "button",
        class: x.pressed ? "" : "secondary",
        "data-action": x.action,
        "data-mode": x.mode,
        "data-key": `${m.user_id}:${x.action}:${x.mode || ""}`,
        "aria-pressed": x.action === "mode" ? String(x.pressed) : null,
        onclick: (e) => this.act(m, x, e.currentTarget),
      }, x.label, srOnly(`: ${m.name}`))));
    }
    return tr;
  }

  async act(m, x, button) {
    switch (x.action) {
      case "mode":
        if (x.mode === "proxy") return this.openForm(m, "proxy", button);
        return this.write(() => api("POST", `${this.console.base}/attendance`, { user_id: m.user_id, mode: x.mode }),
          `${m.name}: ${x.label.toLowerCase()}.`);
      case "left":
        return this.write(() => api("POST", `${this.console.base}/attendance/${m.user_id}/departure`), `${m.name} has left.`);
      case "withdraw-apology":
        return this.write(() => api("DELETE", `${this.console.base}/apologies/${m.user_id}`), `${m.name}'s apologies are withdrawn.`);
      case "apologies":
        return this.openForm(m, "apologies", button);
    }
  }

  // write makes a change, says so, and reads the records again.
  async write(change, done) {
    try {
      await change();
      this.say(done);
    } catch (err) {
      this.say(`Not recorded: ${err.message}`, "error");
    }
    await this.records.reload();
  }

  // openForm opens a small form under the person's row: apologies (with a substitute
  // where the committee has one free) or attendance by proxy.
  openForm(m, kind, opener) {
    this.closeForm(false);
    const id = `roll-form-${m.user_id}`;
    const fields = [];
    if (kind === "apologies") {
      fields.push(el("p", {}, el("label", { for: `${id}-reason` }, `Reason for ${m.name}'s apologies (optional)`),
        el("input", { id: `${id}-reason`, name: "reason", type: "text", maxlength: "1000", autocomplete: "off" })));
      const free = this.records.members.filter((s) => s.role === "substitute" && !this.records.sittingFor(s.user_id) &&
        !this.records.apology(s.user_id));
      if (m.role !== "substitute" && free.length) {
        fields.push(el("p", {}, el("label", { for: `${id}-substitute` }, "Substitute sitting for them"),
          el("select", { id: `${id}-substitute`, name: "substitute" }, el("option", { value: "" }, "No substitute"),
            ...free.map((s) => el("option", { value: s.user_id }, s.name)))));
      }
    } else {
      const holders = this.records.members.filter((h) => h.user_id !== m.user_id &&
        this.records.present(h.user_id) && this.records.present(h.user_id).mode !== "proxy");
      if (!holders.length) {
        this.say(`Nobody present can hold ${m.name}'s proxy: record the holder's attendance first.`, "error");
        return;
      }
      fields.push(el("p", {}, el("label", { for: `${id}-holder` }, `Who holds ${m.name}'s proxy`),
        el("select", { id: `${id}-holder`, name: "holder" }, ...holders.map((h) => el("option", { value: h.user_id }, h.name)))));
    }
    const submit = kind === "apologies" ? "Record apologies" : "Record the proxy";
    const form = el("form", { class: "inline-form", novalidate: true, "aria-label": `${kind === "apologies" ? "Apologies" : "Proxy"} for ${m.name}` },
      ...fields,
      el("p", { class: "toolbar" }, el("button", { type: "submit" }, submit),
        el("button", { type: "button", class: "secondary", onclick: () => this.closeForm(true) }, "Cancel")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submitForm(m, kind, form);
    });
    form.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        this.closeForm(true);
      }
    });
    const tr = el("tr", { class: "roll-form", "data-form-for": m.user_id, role: "row" }, el("td", { colspan: "3", role: "cell" }, form));
    this.form = { user: m.user_id, kind, tr, opener: opener.dataset.key };
    this.render();
    form.querySelector("input, select").focus();
  }

  closeForm(refocus) {
    if (!this.form) return;
    const { tr, opener } = this.form;
    this.form = null;
    tr.remove();
    if (refocus) {
      const b = $("roll-body").querySelector(`[data-key="${CSS.escape(opener)}"]`);
      if (b) b.focus();
    }
  }

  async submitForm(m, kind, form) {
    const base = this.console.base;
    if (kind === "apologies") {
      const reason = form.elements.reason.value.trim();
      const sub = form.elements.substitute ? Number(form.elements.substitute.value) : 0;
      try {
        await api("POST", `${base}/apologies`, { user_id: m.user_id, reason });
        if (sub) await api("POST", `${base}/substitutions`, { substitute_id: sub, member_id: m.user_id });
        this.say(sub ? `${m.name} sent apologies; ${this.records.name(sub)} sits for them.` : `${m.name} sent apologies.`);
        this.closeForm(true);
      } catch (err) {
        this.say(`Not recorded: ${err.message}`, "error");
      }
    } else {
      const holder = Number(form.elements.holder.value);
      try {
        await api("POST", `${base}/attendance`, { user_id: m.user_id, mode: "proxy", proxy_holder_id: holder });
        this.say(`${m.name} is represented by ${this.records.name(holder)}.`);
        this.closeForm(true);
      } catch (err) {
        this.say(`Not recorded: ${err.message}`, "error");
      }
    }
    await this.records.reload();
  }
}
