// API keys: the signed-in user's (an administrator sees everyone's), a form
// that creates one and shows its secret exactly once, and revocation.

import { api } from "./api.js";
import { h, showError, confirmDialog, formatDate, dataTable, emptyRow } from "./ui.js";

const enc = encodeURIComponent;
const SCOPES = [
  ["inference", "Inference only (/v1)"],
  ["full", "Full API"],
  ["metrics", "Metrics only (GET /metrics, for Prometheus)"],
];
const scopeLabel = (s) => (SCOPES.find(([v]) => v === s) || [s, s])[1];

/// "active", "revoked" or "expired" for key `k` as of now.
function keyStatus(k) {
  if (k.revoked_at) return "revoked";
  if (k.expires_at && new Date(k.expires_at) <= new Date()) return "expired";
  return "active";
}

/// Renders the keys page into `root`; `nav` is the administrators' sub-navigation or null.
export function mountKeys(root, nav, me, signal) {
  document.title = "API keys · BA Copilot";
  const admin = me.user.role === "admin";
  const rows = h("tbody", { id: "key-rows" });
  const more = h("button", { type: "button", id: "keys-more", hidden: true, dataset: { testid: "keys-more" } }, "Load more");
  let cursor = null;

  async function load(after) {
    try {
      const query = after ? `?cursor=${enc(after)}` : "";
      const { data, next_cursor } = await api("GET", `/api/v1/keys${query}`, undefined, signal);
      const built = data.map(keyRow);
      if (after) rows.append(...built);
      else rows.replaceChildren(...built);
      if (!rows.children.length) rows.append(emptyRow(8, "No API keys yet."));
      cursor = next_cursor ?? null;
      more.hidden = !cursor;
    } catch (err) {
      showError(err);
    }
  }
  more.addEventListener("click", () => load(cursor));

  function keyRow(k) {
    const status = keyStatus(k);
    let action = null;
    if (status === "active") {
      action = h("button", { type: "button", class: "danger small key-revoke", dataset: { testid: "key-revoke" }, "aria-label": `Revoke key ${k.name}` }, "Revoke");
      action.addEventListener("click", async () => {
        const owner = k.user_name && k.user_name !== me.user.name ? ` (${k.user_name}'s)` : "";
        if (!(await confirmDialog(`Revoke key "${k.name}"${owner}? Programs using it are refused from now on.`, "Revoke"))) return;
        try {
          await api("DELETE", `/api/v1/keys/${enc(k.id)}`, undefined, signal);
          await load();
        } catch (err) {
          showError(err);
        }
      });
    }
    return h(
      "tr",
      { dataset: { testid: "key-row", id: k.id, status } },
      h("th", { scope: "row" }, k.name),
      h("td", {}, k.user_name || ""),
      h("td", {}, scopeLabel(k.scope)),
      h("td", {}, h("span", { class: `badge ${status}` }, status)),
      h("td", {}, formatDate(k.created_at)),
      h("td", {}, k.expires_at ? formatDate(k.expires_at) : "Never"),
      h("td", {}, k.last_used_at ? formatDate(k.last_used_at) : "Never"),
      h("td", {}, action),
    );
  }

  // ---- the new key, shown once ---------------------------------------------
  const notice = h("section", { id: "new-key-notice", class: "card notice", hidden: true, dataset: { testid: "new-key-notice" }, "aria-labelledby": "new-key-title" });

  function showNewKey(record) {
    const code = h("code", { id: "new-key", class: "new-key", dataset: { testid: "new-key" } }, record.key);
    const copy = h("button", { type: "button", id: "new-key-copy", class: "small", dataset: { testid: "new-key-copy" } }, "Copy");
    const copied = h("span", { class: "meta", role: "status" });
    copy.addEventListener("click", async () => {
      copied.textContent = (await copyText(code)) ? "Copied." : "Select the key and copy it by hand.";
    });
    const done = h("button", { type: "button", id: "new-key-done", class: "small", dataset: { testid: "new-key-done" } }, "I have saved it");
    done.addEventListener("click", () => {
      notice.replaceChildren(); // the secret leaves the page
      notice.hidden = true;
    });
    notice.replaceChildren(
      h("h2", { id: "new-key-title" }, `Key "${record.name}" created`),
      h("p", {}, "Copy this key now and keep it somewhere safe. It will not be shown again."),
      h("p", { class: "new-key-line" }, code),
      h("div", { class: "row" }, copy, done, copied),
    );
    notice.hidden = false;
    notice.scrollIntoView({ block: "nearest" });
    copy.focus();
  }

  // ---- new key form -----------------------------------------------------------
  const name = h("input", { id: "key-name", name: "name", required: true, maxlength: 100, autocomplete: "off", dataset: { testid: "key-name" } });
  const scope = h("select", { id: "key-scope", name: "scope", "aria-describedby": "key-scope-hint", dataset: { testid: "key-scope" } }, ...SCOPES.map(([v, label]) => h("option", { value: v }, label)));
  scope.value = "inference";
  const expires = h("input", { id: "key-expires", name: "expires_in_days", type: "number", min: 1, step: 1, inputmode: "numeric", "aria-describedby": "key-expires-hint", dataset: { testid: "key-expires" } });
  const create = h("button", { type: "submit", id: "key-create", class: "primary", dataset: { testid: "key-create" } }, "Create key");
  const form = h(
    "form",
    { id: "key-form", class: "card stack form-card", noValidate: true, "aria-labelledby": "new-key-form-title" },
    h("h2", { id: "new-key-form-title" }, "New API key"),
    h("label", { for: "key-name" }, "Name"),
    name,
    h("label", { for: "key-scope" }, "Scope"),
    scope,
    h("p", { id: "key-scope-hint", class: "meta" }, "Inference keys reach only the OpenAI-compatible /v1 endpoints. Full keys act as you on the whole API."),
    h("label", { for: "key-expires" }, "Expires after (days) ", h("span", { class: "muted" }, "(optional)")),
    expires,
    h("p", { id: "key-expires-hint", class: "meta" }, "Leave empty for a key that does not expire."),
    h("div", {}, create),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!name.value.trim()) return name.focus();
    const body = { name: name.value.trim(), scope: scope.value };
    if (expires.value.trim()) {
      const days = Number(expires.value);
      if (!Number.isInteger(days) || days < 1) {
        showError(new Error("Expiry must be a whole number of days, at least 1, or empty."));
        return expires.focus();
      }
      body.expires_in_days = days;
    }
    create.disabled = true;
    try {
      const record = await api("POST", "/api/v1/keys", body, signal);
      form.reset();
      scope.value = "inference";
      showNewKey(record);
      await load();
    } catch (err) {
      showError(err);
    } finally {
      create.disabled = false;
    }
  });

  const intro = admin
    ? "Keys of every user. Revoking one refuses its requests at once."
    : "Keys let programs call BA Copilot as you. Revoking one refuses its requests at once.";
  root.replaceChildren(
    ...[nav, h("h1", {}, "API keys"), h("p", { class: "muted" }, intro), notice].filter(Boolean),
    h(
      "div",
      { class: "two-col" },
      h(
        "section",
        { class: "card", "aria-label": "API keys" },
        dataTable({ id: "keys", dataset: { testid: "keys" } }, ["Name", "Owner", "Scope", "Status", "Created", "Expires", "Last used", ""], rows),
        more,
      ),
      form,
    ),
  );
  load();
}

/// Copies the text of `node`: the Clipboard API where the page is a secure
/// context, else the selection and execCommand (plain-HTTP appliances on a LAN).
async function copyText(node) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(node.textContent);
      return true;
    } catch {
      /* refused: fall back to the selection */
    }
  }
  const selection = window.getSelection();
  selection.selectAllChildren(node);
  try {
    return document.execCommand("copy");
  } catch {
    return false; // the text stays selected for the user to copy
  }
}
