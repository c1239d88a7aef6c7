// Declarations of interest in the console: those made on the current item (and for
// the meeting as a whole), and a form for the clerk to record one for a member: its
// kind, whether the member leaves the room for the item, and any dispensation.

import { api } from "./api.js";
import { el, itemName } from "./meeting.js";
import { clock } from "./console_ui.js";

const $ = (id) => document.getElementById(id);

/**
 * Words for the kinds of interest: England's (Localism Act 2011 and local codes) and
 * the Welsh code's. The form offers only those of the committee's code.
 */
export const KIND_WORDS = {
  pecuniary: "disclosable pecuniary interest",
  registrable: "other registrable interest",
  non_registrable: "non-registrable interest",
  personal: "personal interest",
  prejudicial: "prejudicial interest",
  other: "other interest",
};

export class DeclarationsPanel {
  constructor(console, records) {
    this.console = console;
    this.records = records;
    this.itemId = -1; // the current item the form was last set to
    this.membersSig = "";
  }

  start() {
    $("declaration-form").addEventListener("submit", (e) => this.declare(e));
    this.records.addEventListener("change", () => this.render());
    this.console.root.addEventListener("console:meeting", () => this.render());
  }

  render() {
    const m = this.console.meeting;
    if (!m) return;
    const current = this.console.items.find((i) => i.id === m.current_item_id);
    if (this.itemId !== m.current_item_id) {
      // The agenda moved on: declarations are now taken on the new item.
      this.itemId = m.current_item_id || 0;
      $("declaration-item").value = String(this.itemId || "");
    }
    $("declarations-now").textContent = current ? `On ${itemName(current)}:` : "No item is being taken.";
    this.fill($("declarations-list"), current ? this.records.declarationsOn(current.id) : [], "None declared on this item.");
    this.fill($("declarations-general"), this.records.declarationsOn(0), "None declared for the meeting as a whole.");
    this.fillMembers();
  }

  fill(ul, decls, none) {
    if (!this.records.loaded) return;
    ul.replaceChildren(...decls.map((d) => el("li", { "data-user": d.user_id, "data-kind": d.kind }, this.words(d))));
    if (!decls.length) ul.append(el("li", { class: "none" }, none));
  }

  words(d) {
    let text = `${this.records.name(d.user_id)}: ${KIND_WORDS[d.kind] || d.kind}. ${d.description}`.replace(/\.?\s*$/, ".");
    if (d.withdraws) text += " Leaves the room for the item.";
    if (d.dispensation) text += ` Dispensation: ${d.dispensation.replace(/\.?\s*$/, ".")}`;
    return `${text} (${clock(d.created_at)})`;
  }

  // fillMembers lists the committee's members and substitutes in the form.
  fillMembers() {
    const select = $("declaration-member");
    const ms = this.records.members;
    const sig = ms.map((m) => `${m.user_id}:${m.name}`).join("|");
    if (sig === this.membersSig) return;
    this.membersSig = sig;
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, "Choose a member"),
      ...[...ms].sort((a, b) => a.name.localeCompare(b.name)).map((m) => el("option", { value: m.user_id }, m.name)));
    select.value = chosen;
  }

  async declare(e) {
    e.preventDefault();
    const form = e.target;
    const out = $("declaration-result");
    const user = Number($("declaration-member").value);
    const kind = form.querySelector("input[name=kind]:checked");
    const description = $("declaration-description").value.trim();
    const problem = !user ? ["Choose the member who declares.", $("declaration-member")]
      : !kind ? ["Choose the kind of interest.", form.querySelector("input[name=kind]")]
        : !description ? ["Say what the interest is.", $("declaration-description")] : null;
    if (problem) {
      out.className = "error";
      out.textContent = problem[0];
      problem[1].focus();
      return;
    }
    const item = Number($("declaration-item").value || 0);
    const body = { user_id: user, item_id: item, kind: kind.value, description, withdraws: $("declaration-withdraws").checked };
    const dispensation = $("declaration-dispensation").value.trim();
    if (dispensation) body.dispensation = dispensation;
    try {
      await api("POST", `${this.console.base}/declarations`, body);
      out.className = "ok";
      out.textContent = `Recorded: ${this.records.name(user)}, ${KIND_WORDS[kind.value]}.`;
      form.reset();
      $("declaration-item").value = String(this.itemId || "");
    } catch (err) {
      out.className = "error";
      out.textContent = `Not recorded: ${err.message}`;
    }
    await this.records.reload();
  }
}
