// Reference JavaScript for the ballot encoding of BALLOT.md, and a check of the test
// vectors in testdata/ballot: node testdata/ballot.mjs [vector files...]
// It runs in browsers too (WebCrypto Ed25519); only main() uses node's fs.

const TAG = new TextEncoder().encode("chamber/ballot/1");
const CHOICE = /^[a-z0-9_-]{1,32}$/;
const MAX_ID = (1n << 63n) - 1n;

// encodeBallot returns the canonical bytes of b, whose ids are BigInts, castAt
// milliseconds since 1970 (a Number), challenge and nonce Uint8Arrays of 32 bytes.
export function encodeBallot(b) {
  if (!CHOICE.test(b.choice)) throw new Error("choice is not an option key");
  for (const k of ["meeting", "item", "poll", "voter"]) {
    if (typeof b[k] !== "bigint" || b[k] <= 0n || b[k] > MAX_ID) throw new Error(k + " must be a positive BigInt");
  }
  const ids = [b.meeting, b.item, b.poll, b.voter, b.recorder ?? 0n, b.proxy ?? 0n, BigInt(b.castAt)];
  if (ids[6] <= 0n) throw new Error("castAt must be after 1970");
  if (b.challenge.length !== 32 || b.nonce.length !== 32) throw new Error("challenge and nonce are 32 bytes");
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

// decodeBallot parses canonical bytes strictly, throwing on anything else.
export function decodeBallot(bytes) {
  if (bytes.length < 139 || bytes.length > 138 + 32) throw new Error("wrong length");
  for (let i = 0; i < TAG.length; i++) if (bytes[i] !== TAG[i]) throw new Error("wrong tag");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u = (i) => view.getBigUint64(16 + 8 * i);
  const [meeting, item, poll, voter, recorder, proxy, castAt] = [0, 1, 2, 3, 4, 5, 6].map(u);
  for (const v of [meeting, item, poll, voter, recorder, proxy, castAt]) if (v > MAX_ID) throw new Error("top bit set");
  if (!meeting || !item || !poll || !voter || !castAt) throw new Error("zero id or time");
  if (bytes[136] > 1) throw new Error("unknown flags");
  if (bytes[137] !== bytes.length - 138) throw new Error("choice length");
  const choice = new TextDecoder().decode(bytes.subarray(138));
  if (!CHOICE.test(choice)) throw new Error("choice is not an option key");
  return {
    meeting, item, poll, voter, recorder, proxy, castAt: Number(castAt),
    challenge: bytes.slice(72, 104), nonce: bytes.slice(104, 136), casting: bytes[136] === 1, choice,
  };
}

// signBallot signs with a WebCrypto Ed25519 private key (non-extractable is fine).
export async function signBallot(privateKey, bytes) {
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, privateKey, bytes));
}

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

async function main() {
  const fs = await import("node:fs");
  let failed = 0;
  for (const path of process.argv.slice(2)) {
    const f = Object.fromEntries(fs.readFileSync(path, "utf8").split("\n")
      .filter((l) => l && !l.startsWith("#")).map((l) => l.split(": ")));
    const bytes = hex(f.ballot);
    const again = encodeBallot(decodeBallot(bytes));
    // PKCS #8 for an Ed25519 seed: a fixed 16-byte prefix, then the seed.
    const pkcs8 = new Uint8Array([...hex("302e020100300506032b657004220420"), ...hex(f.seed)]);
    const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
    const sig = await signBallot(key, bytes);
    const pub = await crypto.subtle.importKey("raw", Uint8Array.from(atob(f.public_key), (c) => c.charCodeAt(0)),
      { name: "Ed25519" }, false, ["verify"]);
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, pub, hex(f.signature), bytes);
    const problems = [];
    if (toHex(again) !== f.ballot) problems.push("re-encoding differs");
    if (toHex(sig) !== f.signature) problems.push("signature differs");
    if (!ok) problems.push("signature does not verify");
    console.log(path + ": " + (problems.length ? problems.join(", ") : "ok"));
    failed += problems.length ? 1 : 0;
  }
  process.exit(failed ? 1 : 0);
}

if (typeof process !== "undefined" && process.argv[1]?.endsWith("ballot.mjs")) await main();
