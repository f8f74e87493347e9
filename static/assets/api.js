// The admin API client. The token lives in sessionStorage (this tab only,
// gone when the tab closes) and travels only in the Authorization header.

const TOKEN_KEY = "kleis.adminToken";

export class ApiError extends Error {
  constructor(status, code, message, retryAfterSeconds) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Called when the API says the token is no longer good (set by main.js). */
let onUnauthorized = () => {};
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function parseRetryAfter(value) {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, Math.ceil((date - Date.now()) / 1000)) : undefined;
}

/**
 * Calls the admin API. Resolves with the parsed JSON body (or null for an
 * empty body); rejects with ApiError carrying the API's code and message.
 */
export async function api(method, path, body, options = {}) {
  const token = options.token ?? getToken();
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    if (typeof body === "string") {
      payload = body;
      headers["Content-Type"] = options.contentType ?? "application/json";
    } else {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, cache: "no-store" });
  } catch {
    throw new ApiError(0, "network_error", "Kleis could not be reached. Check the connection.");
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = options.raw ? text : null;
    }
  }
  if (!res.ok) {
    const code = data?.error?.code ?? `http_${res.status}`;
    const message = data?.error?.message ?? `Kleis answered ${res.status} ${res.statusText}.`;
    const error = new ApiError(
      res.status,
      code,
      message,
      parseRetryAfter(res.headers.get("Retry-After")),
    );
    if (res.status === 401 && !options.token) onUnauthorized(error);
    throw error;
  }
  return options.raw ? { data, text, headers: res.headers } : data;
}

export const get = (path, options) => api("GET", path, undefined, options);
export const post = (path, body = {}, options) => api("POST", path, body, options);
export const patch = (path, body) => api("PATCH", path, body);
export const put = (path, body) => api("PUT", path, body);
export const del = (path) => api("DELETE", path);

/** encodeURIComponent for path segments built from ids. */
export const seg = (value) => encodeURIComponent(String(value));
