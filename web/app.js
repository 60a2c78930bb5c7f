// BA Copilot's pages: a hash router, the signed-in user's header and the
// projects list.
//
// Routes: #/ (projects), #/projects/{pid} (documents, search, conversations),
// #/projects/{pid}/chat/{cid} (the same page with that conversation open),
// #/projects/{pid}/srs/{sid} (an SRS document),
// #/projects/{pid}/wireframes/{wid} (a wireframe), #/keys (API keys),
// #/admin/users, #/admin/audit, #/admin/models and #/admin/operations
// (administrators).

import { api, whoami, requireSignIn } from "./api.js";
import { h, showError, clearError, confirmDialog, wireDialogs } from "./ui.js";
import { mountProject } from "./project.js";
import { mountAdmin } from "./admin.js";
import { mountSrs } from "./srs.js";
import { mountWireframe } from "./wireframes.js";

requireSignIn();

const main = document.getElementById("main");
let current = null; // {pid, view, controller} of the mounted page (view: the project page's)

function unmount() {
  if (current) current.controller.abort();
  current = null;
}

function parseRoute(hash) {
  try {
    const parts = hash.slice(2).split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] === "projects" && parts[1]) {
      if (parts[2] === "srs" && parts[3]) return { pid: parts[1], sid: parts[3] };
      if (parts[2] === "wireframes" && parts[3]) return { pid: parts[1], wid: parts[3] };
      return { pid: parts[1], cid: parts[2] === "chat" && parts[3] ? parts[3] : null };
    }
    if (parts[0] === "keys") return { page: "keys" };
    if (parts[0] === "admin") return { page: ["audit", "models", "operations"].includes(parts[1]) ? parts[1] : "users" };
  } catch {
    /* a malformed %-escape: show the projects list */
  }
  return {};
}

function route() {
  const hash = location.hash || "#/";
  // "#main" and other in-page anchors (the skip link) are not routes.
  if (!hash.startsWith("#/") && current) return;
  const { pid, cid, sid, wid, page } = hash.startsWith("#/") ? parseRoute(hash) : {};
  clearError();
  markCurrentNav(page);
  // Another conversation of the open project page keeps the page.
  if (pid && !sid && !wid && current && current.pid === pid && current.view) {
    current.view.openChat(cid);
    return;
  }
  unmount();
  const controller = new AbortController();
  if (sid) {
    mountSrs(main, pid, sid, controller.signal);
    current = { pid, view: null, controller };
  } else if (wid) {
    mountWireframe(main, pid, wid, controller.signal);
    current = { pid, view: null, controller };
  } else if (pid) {
    const view = mountProject(main, pid, controller.signal);
    view.openChat(cid);
    current = { pid, view, controller };
  } else if (page) {
    mountAdmin(main, page, controller.signal);
    current = { pid: null, view: null, controller };
  } else {
    mountProjects(main, controller.signal);
    current = { pid: null, view: null, controller };
  }
  main.focus({ preventScroll: true });
}

function mountProjects(root, signal) {
  document.title = "Projects · BA Copilot";
  const list = h("ul", { id: "project-list", class: "project-list", dataset: { testid: "project-list" }, "aria-busy": "true" });
  const name = h("input", { id: "project-name", name: "name", required: true, maxlength: 200, autocomplete: "off", dataset: { testid: "project-name" } });
  const description = h("textarea", { id: "project-description", name: "description", rows: 2, dataset: { testid: "project-description" } });
  const create = h("button", { type: "submit", id: "project-create", class: "primary", dataset: { testid: "project-create" } }, "Create project");
  const form = h(
    "form",
    { id: "project-form", class: "card stack", "aria-labelledby": "new-project-title" },
    h("h2", { id: "new-project-title" }, "New project"),
    h("label", { for: "project-name" }, "Name"),
    name,
    h("label", { for: "project-description" }, "Description ", h("span", { class: "muted" }, "(optional)")),
    description,
    h("div", {}, create),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!name.value.trim()) {
      name.focus();
      return;
    }
    create.disabled = true;
    try {
      const project = await api("POST", "/api/v1/projects", { name: name.value.trim(), description: description.value.trim() }, signal);
      location.hash = `#/projects/${encodeURIComponent(project.id)}`;
    } catch (err) {
      showError(err);
    } finally {
      create.disabled = false;
    }
  });

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const { data } = await api("GET", "/api/v1/projects", undefined, signal);
      list.replaceChildren(...data.map(projectItem));
      if (!data.length) list.append(h("li", { class: "empty" }, "No projects yet. Create one to upload documents and ask questions about them."));
    } catch (err) {
      showError(err);
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  function projectItem(p) {
    const count = p.document_count ?? 0;
    const del = h("button", { type: "button", class: "danger small", dataset: { testid: "project-delete" }, "aria-label": `Delete project ${p.name}` }, "Delete");
    del.addEventListener("click", async () => {
      if (!(await confirmDialog(`Delete project "${p.name}" with its ${count} document(s) and conversations?`))) return;
      try {
        await api("DELETE", `/api/v1/projects/${encodeURIComponent(p.id)}`, undefined, signal);
        await load();
      } catch (err) {
        showError(err);
      }
    });
    return h(
      "li",
      { class: "card project-item", dataset: { testid: "project-item", id: p.id } },
      h("div", { class: "grow" },
        h("a", { class: "project-link", href: `#/projects/${encodeURIComponent(p.id)}`, dataset: { testid: "project-link" } }, p.name),
        p.description ? h("p", { class: "muted" }, p.description) : null,
        h("p", { class: "meta" }, `${count} document${count === 1 ? "" : "s"}`),
      ),
      del,
    );
  }

  root.replaceChildren(
    h("h1", {}, "Projects"),
    h("div", { class: "two-col" }, h("section", { "aria-label": "Your projects" }, list), form),
  );
  load();
}

// ---- header: who is signed in, their pages, sign out ------------------------
const userNav = document.getElementById("user-nav");

async function mountHeader() {
  let me;
  try {
    me = await whoami();
  } catch (err) {
    if (err.status !== 401) showError(err); // a 401 is already on its way to /login
    return;
  }
  const logout = h("button", { type: "button", id: "logout", class: "small", dataset: { testid: "logout" } }, "Sign out");
  logout.addEventListener("click", async () => {
    logout.disabled = true;
    try {
      await api("POST", "/api/v1/auth/logout");
      location.href = "/login";
    } catch (err) {
      showError(err);
      logout.disabled = false;
    }
  });
  userNav.replaceChildren(
    me.user.role === "admin"
      ? h("a", { id: "nav-admin", href: "#/admin/users", dataset: { testid: "nav-admin", page: "admin" } }, "Administration")
      : null,
    h("a", { id: "nav-keys", href: "#/keys", dataset: { testid: "nav-keys", page: "keys" } }, "API keys"),
    h(
      "span",
      { id: "whoami", class: "whoami", dataset: { testid: "whoami", role: me.user.role } },
      h("span", { class: "whoami-name" }, me.user.name),
      " ",
      h("span", { class: "badge role" }, me.user.role),
    ),
    logout,
  );
  markCurrentNav(parseRoute(location.hash || "#/").page);
}

function markCurrentNav(page) {
  const section = page === "keys" ? "keys" : page ? "admin" : null;
  for (const a of userNav.querySelectorAll("a[data-page]")) {
    if (a.dataset.page === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

wireDialogs();
mountHeader();
window.addEventListener("hashchange", route);
route();
