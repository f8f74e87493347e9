// Entry point: sign-in, sign-out, and switching between the four views.
import { ApiError, clearToken, get, getToken, setToken, setUnauthorizedHandler } from "./api.js";
import { announce } from "./dom.js";
import { duration } from "./format.js";
import { accountsView } from "./accounts.js";
import { keysView } from "./keys.js";
import { usageView } from "./usage.js";
import { auditView } from "./audit.js";
import { alertsView } from "./alerts.js";
import { aliasesView } from "./aliases.js";

const VIEWS = {
  accounts: accountsView,
  keys: keysView,
  usage: usageView,
  audit: auditView,
  alerts: alertsView,
  aliases: aliasesView,
};
const mounted = new Map();

const signinSection = document.getElementById("signin");
const signinForm = document.getElementById("signin-form");
const signinInput = document.getElementById("signin-token");
const signinMessage = document.getElementById("signin-message");
const signinSubmit = document.getElementById("signin-submit");
const appRoot = document.getElementById("app");

let lockoutTimer;

function showSignin(message = "") {
  appRoot.hidden = true;
  for (const view of mounted.values()) view.unmount?.();
  mounted.clear();
  for (const el of document.querySelectorAll(".view")) el.replaceChildren();
  for (const dialog of document.querySelectorAll("dialog")) dialog.close();
  signinSection.hidden = false;
  signinMessage.textContent = message;
  signinInput.value = "";
  signinInput.focus();
}

function showLockout(seconds) {
  clearInterval(lockoutTimer);
  const until = Date.now() + seconds * 1000;
  const render = () => {
    const left = until - Date.now();
    if (left <= 0) {
      clearInterval(lockoutTimer);
      signinSubmit.disabled = false;
      signinMessage.textContent = "You can try again now.";
      return;
    }
    signinMessage.textContent = `Too many wrong tokens from this address. Try again in ${
      duration(left, true)
    }.`;
  };
  signinSubmit.disabled = true;
  render();
  lockoutTimer = setInterval(render, 1000);
}

/** Checks a token with one cheap authenticated call; only 401/429 mean "not signed in". */
async function verifyToken(token) {
  try {
    await get("/admin/audit?limit=1", { token });
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 429)) throw error;
    if (error instanceof ApiError && error.status === 0) throw error;
    // Any other answer came after the admin check passed.
  }
}

signinForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = signinInput.value.trim();
  if (!token) {
    signinMessage.textContent = "Enter the admin token.";
    signinInput.focus();
    return;
  }
  signinSubmit.disabled = true;
  signinMessage.textContent = "Signing in…";
  try {
    await verifyToken(token);
    setToken(token);
    signinInput.value = "";
    signinMessage.textContent = "";
    signinSubmit.disabled = false;
    showApp();
  } catch (error) {
    signinSubmit.disabled = false;
    if (error instanceof ApiError && error.status === 429) {
      showLockout(error.retryAfterSeconds ?? 60);
    } else if (error instanceof ApiError && error.status === 401) {
      signinMessage.textContent = "That admin token is wrong. Check it and try again.";
    } else {
      signinMessage.textContent = error.message;
    }
    signinInput.select();
  }
});

document.getElementById("signout").addEventListener("click", () => {
  clearToken();
  location.hash = "";
  showSignin("You are signed out.");
});

setUnauthorizedHandler(() => {
  clearToken();
  showSignin("The admin token is no longer accepted. Sign in again.");
});

function currentView() {
  const name = location.hash.replace(/^#/, "");
  return name in VIEWS ? name : "accounts";
}

function route() {
  if (!getToken()) return;
  const name = currentView();
  for (const link of document.querySelectorAll("#tabs a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const [viewName] of Object.entries(VIEWS)) {
    const section = document.getElementById(`view-${viewName}`);
    section.hidden = viewName !== name;
  }
  const section = document.getElementById(`view-${name}`);
  if (!mounted.has(name)) {
    const view = VIEWS[name](section);
    mounted.set(name, view);
  } else {
    mounted.get(name).show?.();
  }
}

function showApp() {
  signinSection.hidden = true;
  appRoot.hidden = false;
  route();
  document.getElementById("main").focus();
  announce("Signed in.");
}

globalThis.addEventListener("hashchange", () => {
  route();
  // Focus moves to the new view for keyboard and screen reader users; the view starts at its top.
  document.getElementById("main").focus({ preventScroll: true });
  globalThis.scrollTo(0, 0);
});

// Ticks every live countdown on the page once a second (token expiry, cooldowns).
setInterval(() => {
  for (const el of document.querySelectorAll("[data-tick]")) {
    el.dispatchEvent(new CustomEvent("tick"));
  }
}, 1000);

if (getToken()) {
  signinSection.hidden = true;
  appRoot.hidden = false;
  route();
} else {
  showSignin();
}
