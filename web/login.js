// The sign-in page, and at /setup the form that creates the first
// administrator. The server also answers a browser's unauthenticated visit to
// any page with this file, so everything here works from any path: URLs are
// absolute and only the public modules are imported.

import { api, setSession } from "./api.js";
import { h } from "./ui.js";

const main = document.getElementById("main");
const params = new URLSearchParams(location.search);
// The server accepts 10; checking here too saves a round trip.
const MIN_PASSWORD = 10;

const errorArea = h("p", { id: "login-error", class: "login-error", role: "alert", dataset: { testid: "login-error" } });

function say(...content) {
  errorArea.replaceChildren(...content);
}

function invalid(input, message) {
  say(message);
  input.focus();
}

/// Where to go after signing in: `?next=` when it is a path on this site
/// ("/x", never "//host" or "/\host", which browsers read as another host).
function nextTarget() {
  const next = params.get("next");
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return null;
  if (/[\u0000-\u001f\u007f]/.test(next)) return null; // URL parsing drops tabs and newlines: "/\t/host"
  try {
    const url = new URL(next, location.origin);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : null;
  } catch {
    return null;
  }
}

function afterLogin() {
  const next = nextTarget();
  if (next) location.assign(next);
  else if (location.pathname !== "/login") location.reload(); // the page we asked for, now signed in
  else location.assign("/");
}

function field(id, label, props) {
  return [h("label", { for: id }, label), h("input", { id, name: id, dataset: { testid: id }, ...props })];
}

/// Holds `button` disabled for `seconds` after a 429, then lets the user retry.
function holdOff(button, seconds) {
  if (!seconds) return;
  button.disabled = true;
  setTimeout(() => (button.disabled = false), seconds * 1000);
}

function mountLogin() {
  document.title = "Sign in · BA Copilot";
  const [nameLabel, name] = field("login-name", "User name", { type: "text", autocomplete: "username", required: true });
  const [passwordLabel, password] = field("login-password", "Password", { type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", id: "login-submit", class: "primary", dataset: { testid: "login-submit" } }, "Sign in");
  const form = h(
    "form",
    { id: "login-form", class: "card stack login-form", noValidate: true, "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Sign in to BA Copilot"),
    nameLabel, name,
    passwordLabel, password,
    errorArea,
    h("div", {}, submit),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!name.value.trim()) return invalid(name, "Enter your user name.");
    if (!password.value) return invalid(password, "Enter your password.");
    say();
    submit.disabled = true;
    let retryAfter = null;
    try {
      const me = await api("POST", "/api/v1/auth/login", { name: name.value.trim(), password: password.value });
      setSession(me);
      afterLogin();
      return; // leaving the page; keep the button disabled
    } catch (err) {
      if (err.status === 401) {
        say("Wrong user name or password");
        password.value = "";
        password.focus();
      } else {
        say(err.message || "Signing in failed");
        if (err.status === 429) retryAfter = err.retryAfter;
      }
    }
    submit.disabled = false;
    holdOff(submit, retryAfter);
  });
  main.replaceChildren(form);
  name.focus();
}

function mountSetup() {
  document.title = "Set up · BA Copilot";
  const token = params.get("token") || "";
  const [nameLabel, name] = field("setup-name", "Administrator's user name", { type: "text", autocomplete: "username", required: true });
  const [passwordLabel, password] = field("setup-password", "Password", { type: "password", autocomplete: "new-password", required: true, minLength: MIN_PASSWORD, "aria-describedby": "setup-hint" });
  const [repeatLabel, repeat] = field("setup-password2", "Repeat the password", { type: "password", autocomplete: "new-password", required: true });
  const submit = h("button", { type: "submit", id: "setup-submit", class: "primary", dataset: { testid: "setup-submit" } }, "Create administrator");
  const form = h(
    "form",
    { id: "setup-form", class: "card stack login-form", noValidate: true, "aria-labelledby": "setup-title" },
    h("h1", { id: "setup-title" }, "Create the first administrator"),
    h("p", { class: "muted" }, "This account manages users, API keys and the audit log."),
    nameLabel, name,
    passwordLabel, password,
    h("p", { id: "setup-hint", class: "meta" }, `At least ${MIN_PASSWORD} characters.`),
    repeatLabel, repeat,
    errorArea,
    h("div", {}, submit),
  );
  const signInLink = () => h("a", { href: "/login", dataset: { testid: "login-link" } }, "Sign in");
  if (!token) say("This setup link is incomplete: it has no token. Open the full link from the server's log.");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!name.value.trim()) return invalid(name, "Enter a user name.");
    if (password.value.length < MIN_PASSWORD) return invalid(password, `The password needs at least ${MIN_PASSWORD} characters.`);
    if (password.value !== repeat.value) return invalid(repeat, "The two passwords differ.");
    say();
    submit.disabled = true;
    let retryAfter = null;
    try {
      const me = await api("POST", "/api/v1/auth/setup", { token, name: name.value.trim(), password: password.value });
      setSession(me);
      location.assign("/");
      return;
    } catch (err) {
      if (err.status === 409) say("An administrator already exists. ", signInLink(), " instead.");
      else if (err.status === 403) say("This setup link is invalid or has expired.");
      else {
        say(err.message || "Setup failed");
        if (err.status === 429) retryAfter = err.retryAfter;
      }
    }
    submit.disabled = false;
    holdOff(submit, retryAfter);
  });
  main.replaceChildren(form);
  name.focus();
}

if (location.pathname === "/setup") mountSetup();
else mountLogin();
