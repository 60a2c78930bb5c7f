// The audit log: filters, a page of 100 events at a time, and a CSV export of
// everything the filters match.

import { api } from "./api.js";
import { h, showError, formatDate, dataTable, emptyRow } from "./ui.js";

const PAGE_SIZE = 100;

/// Renders the audit log into `root` under the administrators' sub-navigation `nav`.
export function mountAudit(root, nav, signal) {
  document.title = "Audit log · BA Copilot";
  const input = (id, label, props) => [h("label", { for: id }, label), h("input", { id, name: id, dataset: { testid: id }, ...props })];
  const [actorLabel, actor] = input("audit-actor", "Actor", { type: "text", autocomplete: "off" });
  const [actionLabel, action] = input("audit-action", "Action", { type: "text", autocomplete: "off", placeholder: "e.g. login" });
  const [sinceLabel, since] = input("audit-since", "Since", { type: "datetime-local" });
  const [untilLabel, until] = input("audit-until", "Until", { type: "datetime-local" });
  const apply = h("button", { type: "submit", id: "audit-apply", class: "primary", dataset: { testid: "audit-apply" } }, "Apply");
  const exportLink = h("a", { id: "audit-export", class: "button secondary", download: "audit.csv", href: "/api/v1/audit/export", dataset: { testid: "audit-export" } }, "Export CSV");
  const form = h(
    "form",
    { id: "audit-filters", class: "card filters", role: "search", "aria-label": "Filter the audit log" },
    h("div", { class: "filter" }, actorLabel, actor),
    h("div", { class: "filter" }, actionLabel, action),
    h("div", { class: "filter" }, sinceLabel, since),
    h("div", { class: "filter" }, untilLabel, until),
    h("div", { class: "filter-actions" }, apply, exportLink),
  );
  const rows = h("tbody", { id: "audit-rows" });
  const tableWrap = dataTable({ id: "audit", dataset: { testid: "audit" }, "aria-busy": "true" }, ["#", "Time", "Actor", "Address", "Action", "Target", "Details"], rows);
  const more = h("button", { type: "button", id: "audit-more", hidden: true, dataset: { testid: "audit-more" } }, "Load more");

  /// The filters as query parameters; local date-times become UTC ISO-8601.
  /// Throws when a date cannot be read.
  function filters() {
    const q = new URLSearchParams();
    if (actor.value.trim()) q.set("actor", actor.value.trim());
    if (action.value.trim()) q.set("action", action.value.trim());
    for (const [key, el] of [["since", since], ["until", until]]) {
      if (!el.value) continue;
      const d = new Date(el.value);
      if (isNaN(d)) throw new Error(`"${el.value}" is not a date and time`);
      q.set(key, d.toISOString());
    }
    return q;
  }

  function updateExport() {
    try {
      const q = filters().toString();
      exportLink.href = `/api/v1/audit/export${q ? `?${q}` : ""}`;
    } catch {
      /* keep the last valid link until the date is complete */
    }
  }

  let cursor = null;
  let generation = 0; // answers to an older filter are dropped

  async function load(after) {
    let q;
    try {
      q = filters();
    } catch (err) {
      return showError(err);
    }
    q.set("limit", String(PAGE_SIZE));
    if (after) q.set("cursor", after);
    const mine = ++generation;
    tableWrap.querySelector("table").setAttribute("aria-busy", "true");
    try {
      const { data, next_cursor } = await api("GET", `/api/v1/audit?${q}`, undefined, signal);
      if (mine !== generation) return;
      const built = data.map(auditRow);
      if (after) rows.append(...built);
      else rows.replaceChildren(...built);
      if (!rows.children.length) rows.append(emptyRow(7, "No events match."));
      cursor = next_cursor ?? null;
      more.hidden = !cursor;
    } catch (err) {
      if (mine === generation) showError(err);
    } finally {
      if (mine === generation) tableWrap.querySelector("table").setAttribute("aria-busy", "false");
    }
  }

  form.addEventListener("input", updateExport);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    updateExport();
    cursor = null;
    load(null);
  });
  more.addEventListener("click", () => load(cursor));

  root.replaceChildren(
    nav,
    h("h1", {}, "Audit log"),
    form,
    h("section", { class: "card", "aria-label": "Events" }, tableWrap, more),
  );
  load(null);
}

function auditRow(e) {
  return h(
    "tr",
    { dataset: { testid: "audit-row", seq: e.seq, action: e.action } },
    h("td", { class: "num" }, e.seq),
    h("td", { class: "nowrap" }, formatDate(e.at)),
    h("td", {}, e.actor ?? ""),
    h("td", {}, e.address ?? ""),
    h("td", {}, e.action),
    h("td", { class: "wrap-anywhere" }, e.target ?? ""),
    h("td", {}, h("code", { class: "details" }, details(e.details))),
  );
}

/// Details as compact JSON, or nothing when there are none.
function details(d) {
  if (d === null || d === undefined) return "";
  if (typeof d === "object" && !Array.isArray(d) && Object.keys(d).length === 0) return "";
  return typeof d === "string" ? d : JSON.stringify(d);
}
