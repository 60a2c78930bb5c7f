// The operations page (administrators): webhooks (register an endpoint for
// events, its signing secret shown once, the delivery log, a test event,
// delete) and backups (those in [backup] dir, take one now, download).

import { api, followJob } from "./api.js";
import { h, showError, formatBytes, formatDate, dataTable, emptyRow, confirmDialog } from "./ui.js";

const enc = encodeURIComponent;
const REFRESH_MS = 3000;

/// Renders the operations page into `root` under the administrators' sub-navigation `nav`.
export function mountOperations(root, nav, signal) {
  document.title = "Operations · BA Copilot";
  const hooks = h("tbody", { id: "webhook-rows" });
  const log = h("section", { class: "card", hidden: true, "aria-labelledby": "log-title", dataset: { testid: "delivery-log" } });
  const secretNote = h("div", { class: "card notice", hidden: true, role: "status", dataset: { testid: "webhook-secret" } });
  const eventBoxes = h("fieldset", { class: "checks" }, h("legend", {}, "Events"));
  const url = h("input", { id: "webhook-url", name: "url", type: "url", required: true, autocomplete: "off", placeholder: "https://hooks.example.lan/bacopilot", dataset: { testid: "webhook-url" } });
  const allowed = h("p", { class: "meta" });
  let shownLog = null; // the webhook whose log is open

  async function loadHooks() {
    try {
      const body = await api("GET", "/api/v1/webhooks", undefined, signal);
      hooks.replaceChildren(...body.data.map(hookRow));
      if (!body.data.length) hooks.append(emptyRow(5, "No webhooks yet."));
      if (!eventBoxes.querySelector("input")) {
        eventBoxes.append(
          ...body.events.map((e) =>
            h("label", { class: "check" }, h("input", { type: "checkbox", name: "events", value: e, dataset: { testid: `event-${e}` } }), ` ${e}`),
          ),
        );
      }
      allowed.textContent = body.allowed_hosts.length
        ? `Allowed hosts ([webhooks] allowed_hosts): ${body.allowed_hosts.join(", ")}`
        : "No host is allowed yet: add the receiver's host to [webhooks] allowed_hosts in the config.";
      if (shownLog) showLog(shownLog);
    } catch (err) {
      if (!signal.aborted) showError(err);
    }
  }

  function small(label, testid, onClick, danger, aria) {
    const b = h("button", { type: "button", class: danger ? "danger small" : "small", dataset: { testid }, "aria-label": aria }, label);
    b.addEventListener("click", onClick);
    return b;
  }

  function hookRow(w) {
    const state = w.failed ? `${w.failed} failed` : w.pending ? `${w.pending} waiting` : "all delivered";
    return h(
      "tr",
      { dataset: { testid: "webhook-row", id: w.id } },
      h("th", { scope: "row" }, w.url),
      h("td", {}, w.events.join(", ")),
      h("td", {}, formatDate(w.created_at)),
      h("td", { dataset: { testid: "webhook-state" } }, state),
      h(
        "td",
        { class: "actions" },
        small("Send test event", "webhook-test", async () => {
          try {
            await api("POST", `/api/v1/webhooks/${enc(w.id)}/test`, {}, signal);
            showLog(w);
          } catch (err) {
            showError(err);
          }
        }, false, `Send a test event to ${w.url}`),
        small("Deliveries", "webhook-log", () => showLog(w), false, `Deliveries to ${w.url}`),
        small("Delete", "webhook-delete", async () => {
          if (!(await confirmDialog(`Delete the webhook to ${w.url}? Deliveries waiting for it are dropped.`))) return;
          try {
            await api("DELETE", `/api/v1/webhooks/${enc(w.id)}`, undefined, signal);
            if (shownLog?.id === w.id) {
              shownLog = null;
              log.hidden = true;
            }
          } catch (err) {
            showError(err);
          }
          loadHooks();
        }, true, `Delete the webhook to ${w.url}`),
      ),
    );
  }

  async function showLog(w) {
    shownLog = w;
    try {
      const { data } = await api("GET", `/api/v1/webhooks/${enc(w.id)}/deliveries`, undefined, signal);
      const rows = h("tbody", {});
      rows.append(
        ...data.map((d) =>
          h(
            "tr",
            { dataset: { testid: "delivery-row", type: d.type, status: d.status } },
            h("td", {}, formatDate(d.created_at)),
            h("td", {}, d.type),
            h("td", {}, h("span", { class: `badge ${d.status}` }, d.status)),
            h("td", {}, String(d.attempts)),
            h("td", {}, d.last_status ? String(d.last_status) : ""),
            h("td", {}, d.last_error ?? ""),
          ),
        ),
      );
      if (!data.length) rows.append(emptyRow(6, "Nothing sent yet."));
      log.hidden = false;
      log.replaceChildren(h("h2", { id: "log-title" }, `Deliveries to ${w.url}`), dataTable({}, ["Queued", "Event", "State", "Attempts", "Last answer", "Last error"], rows));
    } catch (err) {
      if (!signal.aborted) showError(err);
    }
  }

  const form = h(
    "form",
    { id: "webhook-form", class: "card stack form-card", noValidate: true, "aria-labelledby": "webhook-title" },
    h("h2", { id: "webhook-title" }, "Register a webhook"),
    h("label", { for: "webhook-url" }, "Receiver URL"),
    url,
    allowed,
    eventBoxes,
    h("p", { class: "meta" }, "Each delivery is signed: x-bacopilot-signature: t=<unix time>,v1=<HMAC-SHA256 of \"t.body\" under the secret>. Failed deliveries are retried with growing waits."),
    h("div", {}, h("button", { type: "submit", dataset: { testid: "webhook-create" } }, "Register")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const events = [...eventBoxes.querySelectorAll("input:checked")].map((i) => i.value);
    try {
      const created = await api("POST", "/api/v1/webhooks", { url: url.value.trim(), events }, signal);
      secretNote.hidden = false;
      secretNote.replaceChildren(
        h("strong", {}, "Signing secret, shown this once: "),
        h("code", { dataset: { testid: "webhook-secret-value" } }, created.secret),
        h("p", { class: "meta" }, "Copy it to the receiver now; it cannot be shown again."),
      );
      url.value = "";
      eventBoxes.querySelectorAll("input").forEach((i) => (i.checked = false));
    } catch (err) {
      showError(err);
    }
    loadHooks();
  });

  const backups = h("tbody", { id: "backup-rows" });
  const backupNote = h("p", { class: "meta", dataset: { testid: "backup-note" } });
  const backupNow = h("button", { type: "button", dataset: { testid: "backup-now" } }, "Back up now");

  async function loadBackups() {
    try {
      const body = await api("GET", "/api/v1/admin/backups", undefined, signal);
      backups.replaceChildren(
        ...body.data
          .slice()
          .reverse()
          .map((b) =>
            h(
              "tr",
              { dataset: { testid: "backup-row", name: b.name } },
              h("th", { scope: "row" }, b.name),
              h("td", {}, formatDate(b.created_at)),
              h("td", {}, formatBytes(b.bytes)),
              h("td", {}, `${b.counts.documents ?? 0} documents, ${b.counts.conversations ?? 0} conversations`),
              h("td", {}, h("a", { href: `/api/v1/admin/backups/${enc(b.name)}/download`, download: `${b.name}.tar`, dataset: { testid: "backup-download" } }, "Download")),
            ),
          ),
      );
      if (!body.data.length) backups.append(emptyRow(5, "No backups yet."));
      backupNow.disabled = !body.dir;
      backupNote.textContent = body.dir
        ? `Backups go to ${body.dir}${body.interval_secs ? `, every ${Math.round(body.interval_secs / 3600)} h` : ""}, keeping the newest ${body.keep || "all"}.`
        : "No backup directory is configured: set [backup] dir in the config. `bacopilot backup DIR` works without it.";
    } catch (err) {
      if (!signal.aborted) showError(err);
    }
  }

  backupNow.addEventListener("click", async () => {
    backupNow.disabled = true;
    try {
      const { job_id } = await api("POST", "/api/v1/admin/backups", {}, signal);
      const job = await followJob(job_id, () => {}, signal);
      if (job.status !== "succeeded") showError(new Error(job.message));
    } catch (err) {
      showError(err);
    }
    loadBackups();
  });

  root.replaceChildren(
    nav,
    h("h1", {}, "Operations"),
    h("section", { class: "card", "aria-label": "Webhooks" }, h("h2", {}, "Webhooks"), dataTable({ id: "webhooks", dataset: { testid: "webhooks" } }, ["Receiver", "Events", "Registered", "Deliveries", ""], hooks)),
    secretNote,
    form,
    log,
    h("section", { class: "card", "aria-label": "Backups" }, h("h2", {}, "Backups"), backupNote, h("div", {}, backupNow), dataTable({ id: "backups", dataset: { testid: "backups" } }, ["Backup", "Taken", "Size", "Holds", ""], backups)),
  );
  loadHooks();
  loadBackups();
  const timer = setInterval(() => {
    loadHooks();
  }, REFRESH_MS);
  signal.addEventListener("abort", () => clearInterval(timer));
}
