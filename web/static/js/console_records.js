// The records the console's roll call and declarations panels show: the committee's
// members and substitutes, the meeting's attendance, apologies, substitutions and
// declarations. They are read over the REST API, and read again whenever the meeting's
// journal (followed by the console) says one of them changed. A "change" event tells
// the panels; "failed" says a read did not work.

import { api } from "./api.js";

// Journal events after which the records are read again.
const RECORD_EVENTS = ["apology.", "substitution.", "attendance.", "declaration."];

/** Words for committee roles. */
export const ROLE_WORDS = { chair: "chair", vice_chair: "vice-chair", member: "member", substitute: "substitute" };

export class Records extends EventTarget {
  constructor(console) {
    super();
    this.console = console;
    this.committeeId = 0;
    this.members = []; // [{user_id, name, role}]
    this.attendance = [];
    this.apologies = [];
    this.substitutions = [];
    this.declarations = [];
    this.loaded = false;
    this.reading = null;
    this.again = false;
    const root = console.root;
    root.addEventListener("console:meeting", (e) => {
      const m = e.detail.meeting;
      if (m && m.committee_id !== this.committeeId) {
        this.committeeId = m.committee_id;
        this.reload(true);
      }
    });
    root.addEventListener("console:event", (e) => {
      if (RECORD_EVENTS.some((p) => e.detail.type.startsWith(p))) this.reload(false);
    });
  }

  /** Reads the records again (and the committee's members when asked); one read at a time. */
  reload(withMembers = false) {
    this.withMembers = this.withMembers || withMembers;
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        const base = this.console.base;
        const members = this.withMembers;
        this.withMembers = false;
        try {
          const [ms, att, ap, subs, decl] = await Promise.all([
            members ? api("GET", `/api/v1/committees/${this.committeeId}/members`) : this.members,
            api("GET", `${base}/attendance`),
            api("GET", `${base}/apologies`),
            api("GET", `${base}/substitutions`),
            api("GET", `${base}/declarations`),
          ]);
          Object.assign(this, { members: ms, attendance: att, apologies: ap, substitutions: subs, declarations: decl, loaded: true });
          this.dispatchEvent(new CustomEvent("change"));
        } catch (err) {
          if (members) this.withMembers = true;
          this.dispatchEvent(new CustomEvent("failed", { detail: { message: err.message } }));
        }
      } while (this.again);
    })().finally(() => { this.reading = null; });
    return this.reading;
  }

  member(userId) { return this.members.find((m) => m.user_id === userId); }

  name(userId) {
    const m = this.member(userId);
    return m ? m.name : `Person ${userId}`;
  }

  /** The person's stretches of attendance, in order of arrival. */
  stretches(userId) { return this.attendance.filter((a) => a.user_id === userId); }

  /** The person's attendance now, if they are present. */
  present(userId) { return this.attendance.find((a) => a.user_id === userId && !a.left_at); }

  apology(userId) { return this.apologies.find((a) => a.user_id === userId); }

  /** The member a substitute sits for at this meeting (0: none). */
  sittingFor(userId) {
    const s = this.substitutions.find((x) => x.substitute_id === userId);
    return s ? s.member_id : 0;
  }

  /** The substitute sitting for a member at this meeting (0: none). */
  substituteFor(userId) {
    const s = this.substitutions.find((x) => x.member_id === userId);
    return s ? s.substitute_id : 0;
  }

  /** Declarations on one item (0: those made for the meeting as a whole). */
  declarationsOn(itemId) { return this.declarations.filter((d) => (d.item_id || 0) === (itemId || 0)); }
}
