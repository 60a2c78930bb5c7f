// Wireframes. On the project page, the "Wireframes" card: the project's
// wireframes and the generator form (a description, optionally the newest
// SRS's requirements to cover). At #/projects/{pid}/wireframes/{wid}, one
// wireframe: a screen picker, the rendered screen in a sandboxed frame at
// desktop, tablet or phone width, change requests, version history with
// diffs, and exports. Viewers get no controls that change it.

import { api, whoami } from "./api.js";
import { runJob, jobFailed } from "./jobs.js";
import { historyCard as versionHistory } from "./versions.js";
import { h, showError, formatDate } from "./ui.js";

const enc = encodeURIComponent;
// Viewport widths the preview frame takes: a small laptop, an iPad in
// portrait, an iPhone SE / mini in portrait (CSS pixels).
const WIDTHS = [["desktop", "Desktop", 1024], ["tablet", "Tablet", 768], ["mobile", "Mobile", 375]];

const isViewer = () => whoami().then((me) => me.user.role === "viewer", () => false);
const wireframeHash = (pid, wid) => `#/projects/${enc(pid)}/wireframes/${enc(wid)}`;
let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

// ---- the project page's card --------------------------------------------------

/// The "Wireframes" card of project `pid`: {element, load(), readOnly()}.
export function wireframesCard(pid, signal) {
  const list = h("ul", { id: "wireframe-list", class: "wireframe-list", dataset: { testid: "wireframe-list" }, "aria-busy": "true" });
  const title = h("input", { id: "wireframe-title-input", name: "title", maxlength: 200, autocomplete: "off", dataset: { testid: "wireframe-title-input" } });
  const description = h("textarea", { id: "wireframe-description", name: "description", rows: 3, required: true, "aria-describedby": "wireframe-description-hint", dataset: { testid: "wireframe-description" } });
  const picker = h("fieldset", { id: "wireframe-requirements", class: "requirement-picker", hidden: true, dataset: { testid: "wireframe-requirements" } });
  const generate = h("button", { type: "submit", id: "wireframe-generate", class: "primary", dataset: { testid: "wireframe-generate" } }, "Generate");
  const job = h("div", { class: "job row", hidden: true });
  let srsId = null; // the SRS whose requirements the picker lists
  const form = h(
    "form",
    { id: "wireframe-form", class: "wireframe-form stack", "aria-labelledby": "wireframe-new-title" },
    h("h3", { id: "wireframe-new-title" }, "New wireframe"),
    h("div", {}, h("label", { for: "wireframe-title-input" }, "Title ", h("span", { class: "muted" }, "(optional)")), title),
    h("div", {},
      h("label", { for: "wireframe-description" }, "Description"),
      h("p", { id: "wireframe-description-hint", class: "meta" }, "The screen and what is on it, in your words: its fields, its tables and their columns, its buttons and links, e.g. “a booking screen where a member picks a room and a date, sees a table of bookings with date and status columns, and can cancel a booking or go back to the home page”. Labels are taken from these words."),
      description,
    ),
    picker,
    h("div", { class: "row" }, generate),
    job,
  );
  const element = h(
    "section",
    { id: "wireframes", class: "card", "aria-labelledby": "wireframes-title", dataset: { testid: "wireframes-card" } },
    h("h2", { id: "wireframes-title" }, "Wireframes"),
    list,
    form,
  );

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const { data } = await api("GET", `/api/v1/projects/${enc(pid)}/wireframes`, undefined, signal);
      list.replaceChildren(...data.map((w) =>
        h(
          "li",
          { class: "wireframe-item", dataset: { testid: "wireframe-item", id: w.id } },
          h("a", { href: wireframeHash(pid, w.id), dataset: { testid: "wireframe-link" } }, w.title || "Untitled wireframe"),
          h("p", { class: "meta" }, `version ${w.version} · updated `, formatDate(w.updated_at)),
          w.screens?.length ? h("ul", { class: "screen-names", "aria-label": "Screens" }, ...w.screens.map((s) => h("li", {}, s))) : null,
        ),
      ));
      if (!data.length) list.append(h("li", { class: "empty" }, "No wireframes yet."));
    } catch (err) {
      showError(err);
    } finally {
      list.setAttribute("aria-busy", "false");
    }
    loadRequirements();
  }

  /// Offers the requirements of the project's newest SRS, if it has one.
  async function loadRequirements() {
    try {
      const { data } = await api("GET", `/api/v1/projects/${enc(pid)}/srs`, undefined, signal);
      const newest = [...data].sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)))[0];
      if (!newest) return;
      const reqs = (await api("GET", `/api/v1/srs/${enc(newest.id)}/requirements`, undefined, signal)).data || [];
      srsId = reqs.length ? newest.id : null;
      picker.replaceChildren(
        h("legend", {}, "Requirements to cover ", h("span", { class: "muted" }, `(optional, from ${newest.title || "the newest SRS"})`)),
        ...reqs.map(({ requirement: r }) => {
          const id = nextId("wireframe-req");
          return h("div", { class: "choice" },
            h("input", { type: "checkbox", id, value: r.id, dataset: { testid: "wireframe-requirement" } }),
            h("label", { for: id }, h("code", {}, r.id), " ", r.title || r.statement));
        }),
      );
      picker.hidden = !reqs.length;
    } catch (err) {
      showError(err);
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!description.value.trim()) return description.focus();
    const body = { description: description.value.trim() };
    if (title.value.trim()) body.title = title.value.trim();
    const picked = [...picker.querySelectorAll("input:checked")].map((i) => i.value);
    if (picked.length && srsId) Object.assign(body, { requirement_ids: picked, srs_id: srsId });
    generate.disabled = true;
    try {
      const { job_id } = await api("POST", `/api/v1/projects/${enc(pid)}/wireframes`, body, signal);
      const done = await runJob(job, job_id, "Generating the wireframe", signal, { bar: "wireframe-progress" });
      const wid = done.result && done.result.wireframe_id;
      if (done.status === "succeeded" && wid) {
        location.hash = wireframeHash(pid, wid);
        return;
      }
      jobFailed(job, done, "Generation");
    } catch (err) {
      showError(err);
    } finally {
      generate.disabled = false;
    }
  });

  return { element, load, readOnly: () => form.remove() };
}

// ---- the wireframe page ---------------------------------------------------

/// Renders wireframe `wid` of project `pid` into `root`.
export function mountWireframe(root, pid, wid, signal) {
  const base = `/api/v1/wireframes/${enc(wid)}`;
  const viewer = isViewer();
  const crumb = h("span", {});
  const heading = h("h1", { id: "wireframe-title", class: "grow" }, "Wireframe");
  const version = h("span", { id: "wireframe-version", class: "badge", dataset: { testid: "wireframe-version" } });
  const tabs = h("div", { id: "wireframe-screens", class: "row screen-tabs", role: "group", "aria-label": "Screens", dataset: { testid: "wireframe-screens" } });
  // The preview is untrusted model output rendered by the server: an empty
  // sandbox (no scripts, an opaque origin) on top of the answer's own CSP.
  const frame = h("iframe", { id: "wireframe-preview", class: "wireframe-frame", title: "Screen preview", dataset: { testid: "wireframe-preview" } });
  frame.setAttribute("sandbox", "");
  const widthButtons = WIDTHS.map(([key, label, px]) => {
    const b = h("button", { type: "button", class: "small", "aria-pressed": "false", dataset: { testid: `width-${key}`, width: px } }, `${label} (${px})`);
    b.addEventListener("click", () => setWidth(px));
    return b;
  });
  const exportSvg = h("a", { class: "button secondary small", download: "", dataset: { testid: "wireframe-export-svg" } }, "SVG (this screen)");
  const exports = h(
    "nav",
    { class: "row export-links", "aria-label": "Export" },
    h("span", { class: "muted" }, "Export:"),
    h("a", { class: "button secondary small", href: `${base}/export?format=html`, download: "", dataset: { testid: "wireframe-export-html" } }, "HTML"),
    exportSvg,
    h("a", { class: "button secondary small", href: `${base}/export?format=zip`, download: "", dataset: { testid: "wireframe-export-zip" } }, "ZIP (all screens)"),
  );
  const request = h("textarea", { id: "wireframe-change", name: "request", rows: 3, required: true, dataset: { testid: "wireframe-change" } });
  const apply = h("button", { type: "submit", id: "wireframe-apply", class: "primary", dataset: { testid: "wireframe-apply" } }, "Apply change");
  const changeJob = h("div", { class: "job row", hidden: true });
  const changeForm = h(
    "form",
    { id: "wireframe-change-form", class: "card stack", "aria-labelledby": "wireframe-change-title" },
    h("h2", { id: "wireframe-change-title" }, "Request a change"),
    h("label", { for: "wireframe-change", class: "visually-hidden" }, "Change request"),
    request,
    h("div", { class: "row" }, apply),
    changeJob,
  );
  const history = historyCard(base, signal);
  let wf = null;
  let screenId = null;
  let width = 1024;

  root.replaceChildren(
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Projects"), " / ", h("a", { href: `#/projects/${enc(pid)}` }, "Project"), " / ", crumb),
    h("div", { class: "row srs-head" }, heading, version),
    exports,
    h("div", { class: "srs-grid" },
      h("div", { class: "stack" },
        h("section", { class: "card stack", "aria-label": "Preview" },
          tabs,
          h("div", { class: "row", role: "group", "aria-label": "Preview width" }, h("span", { class: "muted" }, "Width:"), ...widthButtons),
          h("div", { class: "wireframe-stage" }, frame),
        ),
        changeForm,
      ),
      history.element,
    ),
  );

  function setWidth(px) {
    width = px;
    frame.width = String(px);
    for (const b of widthButtons) b.setAttribute("aria-pressed", String(Number(b.dataset.width) === px));
  }

  function showScreen(id) {
    screenId = id;
    for (const b of tabs.children) b.setAttribute("aria-pressed", String(b.dataset.screen === id));
    const screen = wf.screens.find((s) => s.id === id);
    frame.title = `Preview of ${screen ? screen.title : "the screen"}`;
    frame.src = `${base}/preview?screen=${enc(id)}&version=${enc(wf.version)}`;
    exportSvg.href = `${base}/export?format=svg&screen=${enc(id)}`;
  }

  async function load() {
    try {
      const w = await api("GET", base, undefined, signal);
      const changed = wf && wf.version !== w.version;
      wf = w;
      heading.textContent = w.title || "Untitled wireframe";
      crumb.textContent = w.title || "Wireframe";
      document.title = `${w.title || "Wireframe"} · BA Copilot`;
      version.textContent = `Version ${w.version}`;
      version.dataset.version = w.version;
      tabs.replaceChildren(...w.screens.map((s) => {
        const b = h("button", { type: "button", class: "small", "aria-pressed": "false", dataset: { testid: "screen-tab", screen: s.id } }, s.title || s.id);
        b.addEventListener("click", () => showScreen(s.id));
        return b;
      }));
      const keep = w.screens.some((s) => s.id === screenId) ? screenId : w.screens[0]?.id;
      if (keep) showScreen(keep);
      setWidth(width);
      if (changed) history.load(true);
      if (await viewer) changeForm.remove();
    } catch (err) {
      showError(err);
    }
  }

  changeForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!request.value.trim()) return request.focus();
    apply.disabled = true;
    try {
      const { job_id } = await api("POST", `${base}/changes`, { request: request.value.trim() }, signal);
      const done = await runJob(changeJob, job_id, "Applying the change", signal, { bar: "wireframe-change-progress" });
      if (done.status === "succeeded") {
        request.value = "";
        changeJob.hidden = true;
        await load();
      } else {
        jobFailed(changeJob, done, "The change");
      }
    } catch (err) {
      showError(err);
    } finally {
      apply.disabled = false;
    }
  });

  load();
  history.load(false);
}

// ---- versions and diffs -----------------------------------------------------

/// The version list of the wireframe at `base`, each with its change request
/// and a button that lists what changed from the version before.
function historyCard(base, signal) {
  return versionHistory(base, signal, {
    ids: { title: "wireframe-history-title", list: "wireframe-versions", out: "wireframe-diff-slot" },
    testids: { list: "wireframe-versions", item: "wireframe-version-item" },
    note: (v) => v.request,
    renderDiff,
  });
}

function renderDiff(d) {
  const items = [
    ...(d.screens_added || []).map((s) => h("li", { class: "diff-added" }, h("ins", {}, `Screen added: ${s}`))),
    ...(d.screens_removed || []).map((s) => h("li", { class: "diff-removed" }, h("del", {}, `Screen removed: ${s}`))),
    ...(d.components || []).map((c) => {
      const what = `${c.screen}: ${c.type}${c.label ? ` “${c.label}”` : ""}`;
      if (c.change === "added") return h("li", { class: "diff-added" }, h("ins", {}, what));
      if (c.change === "removed") return h("li", { class: "diff-removed" }, h("del", {}, what));
      const fields = (c.fields || []).map((f) => (typeof f === "string" ? f : f.field || JSON.stringify(f)));
      return h("li", { class: "diff-changed" }, what, fields.length ? h("span", { class: "meta" }, ` (${fields.join(", ")})`) : null);
    }),
  ];
  return h(
    "div",
    { class: "diff", dataset: { from: d.from, to: d.to } },
    h("p", { class: "meta" }, `Changes from v${d.from} to v${d.to}`),
    items.length
      ? h("ul", { class: "diff-list", dataset: { testid: "wireframe-diff" } }, ...items)
      : h("p", { class: "muted", dataset: { testid: "wireframe-diff" } }, "No differences."),
  );
}
