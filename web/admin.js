// The administration pages: users (here), the audit log (audit.js), models
// (models.js), webhooks and backups (operations.js) and API keys (keys.js, which every user sees for their own keys).
//
// The server decides who may do what; these pages only avoid offering what it
// would refuse.

import { api, whoami } from "./api.js";
import { h, showError, formatDate, dataTable, emptyRow } from "./ui.js";
import { mountKeys } from "./keys.js";
import { mountAudit } from "./audit.js";
import { mountModels } from "./models.js";
import { mountOperations } from "./operations.js";

const enc = encodeURIComponent;
const ROLES = [
  ["admin", "Administrator"],
  ["analyst", "Analyst"],
  ["viewer", "Viewer"],
];
// The server's rule for new passwords, checked here to save a round trip.
const MIN_PASSWORD = 10;

/// Renders `page` ("users", "audit", "models", "operations" or "keys") into `root` once the signed-in
/// user is known.
export function mountAdmin(root, page, signal) {
  root.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  whoami().then(
    (me) => {
      if (signal.aborted) return;
      const admin = me.user.role === "admin";
      const nav = admin ? subnav(page) : null;
      if (page === "keys") mountKeys(root, nav, me, signal);
      else if (!admin) notAllowed(root);
      else if (page === "audit") mountAudit(root, nav, signal);
      else if (page === "models") mountModels(root, nav, signal);
      else if (page === "operations") mountOperations(root, nav, signal);
      else mountUsers(root, nav, signal);
    },
    (err) => showError(err),
  );
}

function notAllowed(root) {
  document.title = "Administration · BA Copilot";
  root.replaceChildren(
    h("h1", {}, "Administration"),
    h(
      "p",
      { class: "card", dataset: { testid: "not-allowed" } },
      "Only administrators can open this page. ",
      h("a", { href: "#/" }, "Back to projects"),
    ),
  );
}

function subnav(page) {
  const link = (p, href, label) => h("a", { href, "aria-current": p === page ? "page" : null, dataset: { testid: `subnav-${p}` } }, label);
  return h(
    "nav",
    { class: "subnav", "aria-label": "Administration" },
    link("users", "#/admin/users", "Users"),
    link("audit", "#/admin/audit", "Audit log"),
    link("models", "#/admin/models", "Models"),
    link("operations", "#/admin/operations", "Operations"),
    link("keys", "#/keys", "API keys"),
  );
}

function roleSelect(props, value) {
  const select = h("select", props, ...ROLES.map(([v, label]) => h("option", { value: v }, label)));
  select.value = value;
  return select;
}

function mountUsers(root, nav, signal) {
  document.title = "Users · BA Copilot";
  const rows = h("tbody", { id: "user-rows" });
  const more = h("button", { type: "button", id: "users-more", hidden: true, dataset: { testid: "users-more" } }, "Load more");
  let cursor = null;

  async function load(after) {
    try {
      const query = after ? `?cursor=${enc(after)}` : "";
      const { data, next_cursor } = await api("GET", `/api/v1/users${query}`, undefined, signal);
      const built = data.map(userRow);
      if (after) rows.append(...built);
      else rows.replaceChildren(...built);
      if (!rows.children.length) rows.append(emptyRow(5, "No users."));
      cursor = next_cursor ?? null;
      more.hidden = !cursor;
    } catch (err) {
      showError(err);
    }
  }
  more.addEventListener("click", () => load(cursor));

  async function patch(u, change) {
    try {
      await api("PATCH", `/api/v1/users/${enc(u.id)}`, change, signal);
    } catch (err) {
      showError(err);
    }
    await load(); // the table shows what the server holds, changed or not
  }

  function userRow(u) {
    const role = roleSelect({ class: "user-role", "aria-label": `Role of ${u.name}`, dataset: { testid: "user-role" } }, u.role);
    role.addEventListener("change", () => {
      role.disabled = true;
      patch(u, { role: role.value });
    });
    const toggle = h(
      "button",
      { type: "button", class: u.disabled ? "small user-disable" : "danger small user-disable", dataset: { testid: "user-disable" }, "aria-label": `${u.disabled ? "Enable" : "Disable"} ${u.name}` },
      u.disabled ? "Enable" : "Disable",
    );
    toggle.addEventListener("click", () => {
      toggle.disabled = true;
      patch(u, { disabled: !u.disabled });
    });
    const status = u.disabled ? "disabled" : "active";
    return h(
      "tr",
      { dataset: { testid: "user-row", name: u.name, id: u.id, disabled: String(Boolean(u.disabled)) } },
      h("th", { scope: "row" }, u.name),
      h("td", {}, role),
      h("td", {}, h("span", { class: `badge ${status}` }, status)),
      h("td", {}, formatDate(u.created_at)),
      h("td", {}, toggle),
    );
  }

  // ---- new user -----------------------------------------------------------
  const name = h("input", { id: "user-name", name: "name", required: true, maxlength: 100, autocomplete: "off", dataset: { testid: "user-name" } });
  const role = roleSelect({ id: "user-role", name: "role", dataset: { testid: "user-role-new" } }, "analyst");
  const password = h("input", { id: "user-password", name: "password", type: "password", required: true, autocomplete: "new-password", "aria-describedby": "user-password-hint", dataset: { testid: "user-password" } });
  const create = h("button", { type: "submit", id: "user-create", class: "primary", dataset: { testid: "user-create" } }, "Create user");
  const form = h(
    "form",
    { id: "user-form", class: "card stack form-card", noValidate: true, "aria-labelledby": "new-user-title" },
    h("h2", { id: "new-user-title" }, "New user"),
    h("label", { for: "user-name" }, "User name"),
    name,
    h("label", { for: "user-role" }, "Role"),
    role,
    h("label", { for: "user-password" }, "Initial password"),
    password,
    h("p", { id: "user-password-hint", class: "meta" }, `At least ${MIN_PASSWORD} characters. Give it to the user over a trusted channel.`),
    h("div", {}, create),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!name.value.trim()) return name.focus();
    if (password.value.length < MIN_PASSWORD) {
      showError(new Error(`The password needs at least ${MIN_PASSWORD} characters.`));
      return password.focus();
    }
    create.disabled = true;
    try {
      await api("POST", "/api/v1/users", { name: name.value.trim(), role: role.value, password: password.value }, signal);
      form.reset();
      role.value = "analyst";
      await load();
    } catch (err) {
      showError(err);
    } finally {
      create.disabled = false;
    }
  });

  root.replaceChildren(
    nav,
    h("h1", {}, "Users"),
    h(
      "div",
      { class: "two-col" },
      h(
        "section",
        { class: "card", "aria-label": "Users" },
        dataTable({ id: "users", dataset: { testid: "users" } }, ["Name", "Role", "Status", "Created", ""], rows),
        more,
      ),
      form,
    ),
  );
  load();
}
