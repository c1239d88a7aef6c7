// Ballots and counts of hands as voting/BALLOT.md defines them, built and signed in the
// browser, and the checks a voter can make of their receipt: the inclusion proof (RFC
// 6962 hashing) against the checkpoint, and the checkpoint's signature (a C2SP signed
// note) by the meeting's verifier key.

const TAG = new TextEncoder().encode("chamber/ballot/1");
const CHOICE = /^[a-z0-9_-]{1,32}$/;
const MAX_ID = (1n << 63n) - 1n;

/**
 * encodeBallot returns the canonical bytes of a ballot: ids as BigInts (or safe
 * integers), castAt in milliseconds since 1970, challenge and nonce 32 bytes each.
 */
export function encodeBallot(b) {
  if (!CHOICE.test(b.choice)) throw new Error("The choice is not one of the poll's option keys.");
  const ids = [b.meeting, b.item, b.poll, b.voter, b.recorder ?? 0, b.proxy ?? 0, b.castAt].map((v) => BigInt(v));
  ids.forEach((v, i) => {
    const required = i < 4 || i === 6;
    if (v < 0n || v > MAX_ID || (required && v === 0n)) throw new Error("A ballot's ids and time must be positive.");
  });
  if (b.challenge.length !== 32 || b.nonce.length !== 32) throw new Error("The challenge and the nonce are 32 bytes each.");
  const choice = new TextEncoder().encode(b.choice);
  const out = new Uint8Array(138 + choice.length);
  const view = new DataView(out.buffer);
  out.set(TAG, 0);
  ids.forEach((v, i) => view.setBigUint64(16 + 8 * i, v));
  out.set(b.challenge, 72);
  out.set(b.nonce, 104);
  out[136] = b.casting ? 1 : 0;
  out[137] = choice.length;
  out.set(choice, 138);
  return out;
}

/** The signed ballot to send: {ballot, signature, public_key}, each standard base64. */
export async function signBallot(key, bytes) {
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, bytes));
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", key.publicKey));
  return { ballot: toBase64(bytes), signature: toBase64(sig), public_key: toBase64(pub) };
}

/**
 * A fresh ballot for a poll (a PollView), by voter, for choice, signed with key. extra
 * may set recorder and proxy (a vote the clerk records) or casting (a casting vote).
 */
export async function makeBallot(key, poll, voter, choice, extra = {}) {
  const bytes = encodeBallot({
    ...extra, meeting: poll.meeting, item: poll.item, poll: poll.id, voter, castAt: Date.now(),
    challenge: fromBase64(poll.challenge), nonce: crypto.getRandomValues(new Uint8Array(32)), choice,
  });
  return signBallot(key, bytes);
}

const COUNT_TAG = new TextEncoder().encode("chamber/counts/1");
const MAX_HANDS = 2 ** 31 - 1;

/**
 * encodeCount returns the canonical bytes of a count of hands: ids as BigInts (or safe
 * integers), countedAt in milliseconds, challenge and nonce 32 bytes each, and counts
 * ([{option, count}]) for every option of the poll in its order.
 */
export function encodeCount(c) {
  const ids = [c.meeting, c.item, c.poll, c.recorder, c.countedAt].map((v) => BigInt(v));
  if (ids.some((v) => v <= 0n || v > MAX_ID)) throw new Error("A count's ids and time must be positive.");
  if (c.challenge.length !== 32 || c.nonce.length !== 32) throw new Error("The challenge and the nonce are 32 bytes each.");
  if (!c.counts.length || c.counts.length > 255) throw new Error("A count gives from 1 to 255 options.");
  const keys = c.counts.map((oc) => {
    if (!CHOICE.test(oc.option)) throw new Error("An option is not one of the poll's option keys.");
    if (!Number.isInteger(oc.count) || oc.count < 0 || oc.count > MAX_HANDS) throw new Error("A number of hands must be a whole number, 0 or more.");
    return new TextEncoder().encode(oc.option);
  });
  if (c.counts.reduce((n, oc) => n + oc.count, 0) > MAX_HANDS) throw new Error("Too many hands.");
  const out = new Uint8Array(121 + keys.reduce((n, k) => n + 5 + k.length, 0));
  const view = new DataView(out.buffer);
  out.set(COUNT_TAG, 0);
  ids.forEach((v, i) => view.setBigUint64(16 + 8 * i, v));
  out.set(c.challenge, 56);
  out.set(c.nonce, 88);
  out[120] = c.counts.length;
  let off = 121;
  keys.forEach((k, i) => {
    out[off] = k.length;
    out.set(k, off + 1);
    view.setUint32(off + 1 + k.length, c.counts[i].count);
    off += 5 + k.length;
  });
  return out;
}

/** The signed count to send: {count, signature, public_key}, each standard base64. */
export async function signCount(key, bytes) {
  const { ballot, ...signed } = await signBallot(key, bytes);
  return { count: ballot, ...signed };
}

/** A fresh count of hands for a poll (a PollView) by the clerk recorder, signed with key. */
export async function makeCount(key, poll, recorder, counts) {
  const bytes = encodeCount({
    meeting: poll.meeting, item: poll.item, poll: poll.id, recorder, countedAt: Date.now(),
    challenge: fromBase64(poll.challenge), nonce: crypto.getRandomValues(new Uint8Array(32)), counts,
  });
  return signCount(key, bytes);
}

export function toBase64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(s) {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

export function toHex(bytes) {
  return Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function sha256(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const buf = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

/** The log entry of an accepted ballot (kind 0x01). */
export function ballotEntry(signed) {
  const ballot = fromBase64(signed.ballot);
  const sig = fromBase64(signed.signature);
  const pub = fromBase64(signed.public_key);
  const out = new Uint8Array(3 + ballot.length + sig.length + pub.length);
  out[0] = 0x01;
  out[1] = ballot.length >> 8;
  out[2] = ballot.length & 0xff;
  out.set(ballot, 3);
  out.set(sig, 3 + ballot.length);
  out.set(pub, 3 + ballot.length + sig.length);
  return out;
}

/** The root a proof leads to from a leaf hash (RFC 9162 section 2.1.3.2), or null. */
export async function rootFromProof(index, size, leafHash, proof) {
  if (index < 0 || index >= size) return null;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leafHash;
  const one = new Uint8Array([1]);
  for (const p of proof) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(one, p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await sha256(one, r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

/** Parses a checkpoint's text: origin, size and root hash. */
export function parseCheckpoint(text) {
  const [origin, size, root] = text.split("\n");
  return { origin, size: Number(size), root: fromBase64(root) };
}

/**
 * Opens a signed note with a verifier key "<name>+<hash>+<base64 of 0x01 ‖ key>":
 * returns the note's text if a signature by that key verifies, else throws.
 */
export async function openNote(signed, verifierKey) {
  // The key's base64 may itself hold "+": split at the first two only.
  const m = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(verifierKey);
  if (!m) throw new Error("The verifier key is not in the signed-note format.");
  const [, name, hash, keyB64] = m;
  const key = fromBase64(keyB64);
  if (key.length !== 33 || key[0] !== 1) throw new Error("The verifier key is not an Ed25519 key.");
  const split = signed.lastIndexOf("\n\n");
  if (split < 0) throw new Error("The checkpoint is not a signed note.");
  const text = signed.slice(0, split + 1);
  const sigs = signed.slice(split + 2).split("\n").filter((l) => l);
  const pub = await crypto.subtle.importKey("raw", key.slice(1), { name: "Ed25519" }, false, ["verify"]);
  for (const line of sigs) {
    const sig = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!sig || sig[1] !== name) continue;
    const raw = fromBase64(sig[2]);
    if (raw.length !== 68 || toHex(raw.slice(0, 4)) !== hash) continue;
    if (await crypto.subtle.verify({ name: "Ed25519" }, pub, raw.slice(4), new TextEncoder().encode(text))) return text;
  }
  throw new Error("The checkpoint is not signed by the meeting's log key.");
}

/**
 * Checks a receipt: the ballot's entry is in the log at the checkpoint's size, and
 * the checkpoint is signed by the meeting's verifier key. It returns what was checked
 * or throws with the reason.
 */
export async function checkReceipt(receipt, signed, log) {
  const text = await openNote(receipt.checkpoint, log.verifier_key);
  const cp = parseCheckpoint(text);
  if (cp.origin !== log.origin) throw new Error("The checkpoint is for another log.");
  const leaf = await sha256(new Uint8Array([0]), ballotEntry(signed));
  const proof = (receipt.proof || []).map(fromBase64);
  const root = await rootFromProof(receipt.index, cp.size, leaf, proof);
  if (!root || toHex(root) !== toHex(cp.root)) throw new Error("The inclusion proof does not lead to the checkpoint's root.");
  const ballotHash = toHex(await sha256(fromBase64(signed.ballot)));
  return { origin: cp.origin, size: cp.size, index: receipt.index, ballotHash };
}
