// Calls to Chamber's REST API from the pages: JSON in and out, the session's CSRF
// token on every write, and problem details (RFC 9457) turned into errors that say
// what went wrong in words a person can act on.

let csrf = "";

/** An error answered by the API: status, problem type and detail. */
export class APIError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem;
    // A refusal is final; trying again later may help with these.
    this.final = status >= 400 && status < 500 && status !== 408 && status !== 429;
  }
}

/** Reads the signed-in user and the session's CSRF token. */
export async function me() {
  const u = await api("GET", "/api/v1/me");
  csrf = u.csrf_token || csrf;
  return u;
}

/**
 * api sends one request. body, when given, is sent as JSON. opts.anonymous sends no
 * cookie (the public joining a room).
 */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && !opts.anonymous) {
    if (!csrf && path !== "/api/v1/auth/login") await me();
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: opts.anonymous ? "omit" : "same-origin",
      cache: "no-store",
    });
  } catch {
    const err = new Error("The server could not be reached. Check your connection.");
    err.final = false;
    throw err;
  }
  if (resp.status === 204) return null;
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!resp.ok) throw new APIError(resp.status, data || {});
  return data;
}

/** Sets the CSRF token (from a sign-in answer). */
export function setCSRF(token) {
  csrf = token;
}
