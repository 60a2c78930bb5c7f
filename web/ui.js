// DOM helpers shared by the pages. Everything is built with createElement and
// textContent: the page's CSP forbids inline script and style, and no server
// or user text ever goes through an HTML parser.

/// h("button", {class: "x", type: "button", on: {click}}, "text", child…)
/// Keys: class, text, dataset, on, or any property/attribute name. "style"
/// and "on…" attributes are refused (the CSP would block them anyway).
export function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") e.className = value;
    else if (key === "text") e.textContent = value;
    else if (key === "dataset") {
      for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) e.dataset[k] = String(v);
    }
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) e.addEventListener(ev, fn);
    else if (key === "style" || key === "innerHTML" || /^on/i.test(key)) throw new Error(`h(): ${key} is not allowed`);
    else if (key.includes("-") || !(key in e)) e.setAttribute(key, value === true ? "" : String(value));
    else e[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    e.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return e;
}

const alertRegion = () => document.getElementById("alert");

/// Shows an error's message in the page's role="alert" region.
export function showError(err) {
  if (err && err.name === "AbortError") return; // we left the page; nothing to say
  const region = alertRegion();
  const message = (err && err.message) || String(err);
  region.replaceChildren(
    h("span", { class: "alert-text", dataset: { testid: "alert-text" } }, message),
    h("button", { type: "button", class: "link-button", on: { click: clearError } }, "Dismiss"),
  );
  region.classList.add("shown");
}

export function clearError() {
  const region = alertRegion();
  region.replaceChildren();
  region.classList.remove("shown");
}

/// An in-page confirmation (not window.confirm, which blocks the page and
/// any test driving it). Resolves to true when the user confirms.
export function confirmDialog(message, confirmLabel = "Delete") {
  const dialog = document.getElementById("confirm-dialog");
  const ok = document.getElementById("confirm-ok");
  document.getElementById("confirm-message").textContent = message;
  ok.textContent = confirmLabel;
  return new Promise((resolve) => {
    const onClose = () => {
      dialog.removeEventListener("close", onClose);
      resolve(dialog.returnValue === "ok");
    };
    dialog.returnValue = "";
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  });
}

export function wireDialogs() {
  const confirm = document.getElementById("confirm-dialog");
  document.getElementById("confirm-ok").addEventListener("click", () => confirm.close("ok"));
  document.getElementById("confirm-cancel").addEventListener("click", () => confirm.close("cancel"));
  const source = document.getElementById("source-panel");
  document.getElementById("source-close").addEventListener("click", () => source.close());
  // A click on the backdrop (the dialog element itself, outside its content) closes it.
  for (const d of [confirm, source]) {
    d.addEventListener("click", (e) => {
      if (e.target === d) d.close("cancel");
    });
  }
}

export function formatBytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export function formatDate(iso) {
  const d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleString();
}

/// "page 3", "Scope", "page 3 · Scope" or "" for a citation or search hit.
export function sourceLocation(item) {
  const parts = [];
  if (item.page !== null && item.page !== undefined) parts.push(`page ${item.page}`);
  if (item.heading) parts.push(item.heading);
  return parts.join(" · ");
}

/// Opens the source panel for citation `c` (or says the source is unknown).
export function openSource(n, c) {
  const panel = document.getElementById("source-panel");
  document.getElementById("source-title").textContent = `Source [${n}]`;
  panel.dataset.n = String(n);
  document.getElementById("source-document").textContent = c ? c.document_name || "Unnamed document" : "";
  document.getElementById("source-location").textContent = c ? sourceLocation(c) : "";
  document.getElementById("source-quote").textContent = c ? c.quote || "" : `No source [${n}] was cited with this answer.`;
  if (!panel.open) panel.showModal();
  document.getElementById("source-close").focus();
}

/// A table of `columns` (each a `th scope=col`; "" labels an actions column
/// for screen readers only) over `body`, scrolling sideways when narrow.
export function dataTable(props, columns, body) {
  const heading = (c) => h("th", { scope: "col" }, c || h("span", { class: "visually-hidden" }, "Actions"));
  return h(
    "div",
    { class: "table-wrap" },
    h("table", { class: "data-table", ...props }, h("thead", {}, h("tr", {}, ...columns.map(heading))), body),
  );
}

/// The row a table shows when it has nothing to list.
export function emptyRow(colspan, text) {
  return h("tr", { class: "empty" }, h("td", { colspan }, text));
}
