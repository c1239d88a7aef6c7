// This device's voting key: an Ed25519 key pair made with WebCrypto, the private half
// non-extractable, kept in IndexedDB for the signed-in user; its public half is
// enrolled with the server, and a clerk approves it before it counts.

import { api } from "./api.js";
import { toBase64 } from "./ballot.js";

const DB = "chamber";
const STORE = "keys";

function openDB() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, f) {
  const db = await openDB();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const req = f(t.objectStore(STORE));
      t.oncomplete = () => resolve(req ? req.result : undefined);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

/** The stored key of a user: {keyPair, id, publicKey} or undefined. */
export function storedKey(userId) {
  return tx("readonly", (s) => s.get(`user-${userId}`));
}

/** Whether this browser can make Ed25519 keys. */
export async function supported() {
  try {
    await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes a new non-extractable key pair, enrols its public half and stores it for the
 * user. Returns the enrolled key as the server describes it.
 */
export async function enrol(userId, label) {
  const keyPair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", keyPair.publicKey));
  const key = await api("POST", "/api/v1/me/keys", { public_key: toBase64(pub), label });
  await tx("readwrite", (s) => s.put({ keyPair, id: key.id, publicKey: key.public_key }, `user-${userId}`));
  return key;
}

/** The server's view of a key: pending, approved or revoked. */
export async function keyStatus(id) {
  const k = await api("GET", `/api/v1/keys/${id}`);
  if (k.revoked_at) return { key: k, status: "revoked" };
  if (k.approved_at) return { key: k, status: "approved" };
  return { key: k, status: "pending" };
}

/** Forgets the stored key (after it was revoked). */
export function forget(userId) {
  return tx("readwrite", (s) => s.delete(`user-${userId}`));
}
