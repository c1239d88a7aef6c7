// What the live pages share about a meeting: following its current item on the
// server-rendered agenda, and putting poll results into words.

/**
 * Marks the agenda item with this id as current in every list.agenda on the page: the
 * style sheet shows "(now)" after its heading, as on the page the server renders.
 */
export function markCurrentItem(itemId) {
  for (const li of document.querySelectorAll("ol.agenda > li")) {
    const current = li.id === `item-${itemId}`;
    li.classList.toggle("current", current);
    if (current) li.setAttribute("aria-current", "true");
    else li.removeAttribute("aria-current");
  }
}

/** "Item 4, Land at Mill Lane" from an item reference ({number, title}). */
export function itemName(ref) {
  if (!ref) return "";
  return ref.number ? `item ${ref.number}, ${ref.title}` : ref.title;
}

const OPTION_WORDS = { for: "for", against: "against", abstain: "abstentions" };

/** Words for an option key. */
export function optionLabel(key) {
  const words = { for: "For", against: "Against", abstain: "Abstain" };
  return words[key] || key.replaceAll("_", " ").replaceAll("-", " ");
}

/** "For 5, against 2, abstentions 1" from [{option, count}]. */
export function countsText(counts) {
  return (counts || []).map((c, i) => {
    const w = OPTION_WORDS[c.option] || c.option;
    return `${i === 0 ? w[0].toUpperCase() + w.slice(1) : w} ${c.count}`;
  }).join(", ");
}

/** Puts a poll's outcome into words: a PollView with its closing or result. */
export function resultText(poll) {
  const r = poll.result;
  const c = poll.closing;
  const outcome = (r && r.outcome) || (c && c.outcome) || "";
  const counts = (r && r.counts) || (c && c.counts) || [];
  // Why an equality of votes stood, in the server's words.
  const stood = poll.equality_stood;
  const words = {
    carried: "Carried",
    lost: "Lost",
    decided: r && r.winner ? `Decided: ${optionLabel(r.winner)}` : "Decided",
    tied: "Tied: awaiting the chair's casting vote",
    undecided: stood ? "No decision" : "No decision (an equality)",
    inquorate: "No decision: the meeting was not quorate",
  };
  let text = `${poll.question.replace(/[.\s]+$/, "")}: ${words[outcome] || outcome}.`;
  if (counts.length) text += ` ${countsText(counts)}.`;
  if (r && r.casting_vote) text += ` The chair's casting vote: ${optionLabel(r.casting_vote)}.`;
  if (stood) text += ` There was an equality of votes, and ${stood}.`;
  const declined = poll.casting_declined;
  if (stood && declined && declined.reason) text += ` Reason given: ${declined.reason.trim().replace(/[.\s]+$/, "")}.`;
  return text;
}

/** Creates an element with attributes and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return e;
}

/** Adds the live pages' style sheet to a page that does not link it. */
export function useStyles() {
  if (document.querySelector('link[href="/static/live.css"]')) return;
  document.head.append(el("link", { rel: "stylesheet", href: "/static/live.css" }));
}
