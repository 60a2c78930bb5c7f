// The models page (administrators): every model in the models directory with
// its architecture, quantization, file size, the memory it may hold, its
// context and state; load, unload and delete. The list refreshes itself, so a
// model unloading after its idle time or a file copied in shows up.

import { api } from "./api.js";
import { h, showError, formatBytes, dataTable, emptyRow, confirmDialog } from "./ui.js";

const enc = encodeURIComponent;
const REFRESH_MS = 3000;

/// Renders the models page into `root` under the administrators' sub-navigation `nav`.
export function mountModels(root, nav, signal) {
  document.title = "Models · BA Copilot";
  const rows = h("tbody", { id: "model-rows" });
  const busy = new Set(); // ids with an action in flight

  async function load() {
    try {
      const { data } = await api("GET", "/api/v1/admin/models", undefined, signal);
      rows.replaceChildren(...data.map(modelRow));
      if (!data.length) rows.append(emptyRow(9, "No models. Copy a .gguf file into the models directory."));
    } catch (err) {
      if (!signal.aborted) showError(err);
    }
  }

  async function act(m, method, path, label) {
    busy.add(m.id);
    await load();
    try {
      await api(method, path, method === "DELETE" ? undefined : {}, signal);
    } catch (err) {
      showError(err);
    } finally {
      busy.delete(m.id);
    }
    await load();
  }

  function button(m, label, testid, onClick, danger) {
    const b = h("button", { type: "button", class: danger ? "danger small" : "small", disabled: busy.has(m.id), dataset: { testid }, "aria-label": `${label} ${m.id}` }, label);
    b.addEventListener("click", onClick);
    return b;
  }

  function modelRow(m) {
    const base = `/api/v1/admin/models/${enc(m.id)}`;
    const state = busy.has(m.id) && m.state !== "loading" ? "working" : m.state;
    const actions = [];
    if (m.state === "loaded") actions.push(button(m, "Unload", "model-unload", () => act(m, "POST", `${base}/unload`)));
    if (m.state === "unloaded" || m.state === "failed") actions.push(button(m, m.state === "failed" ? "Retry" : "Load", "model-load", () => act(m, "POST", `${base}/load`)));
    if (!m.role_model) {
      actions.push(
        button(m, "Delete", "model-delete", async () => {
          if (await confirmDialog(`Delete ${m.file}? The file is removed from the models directory.`)) act(m, "DELETE", base);
        }, true),
      );
    }
    const note = m.error ? h("div", { class: "muted model-error" }, m.error) : null;
    const keep = m.keep_alive_secs === null ? "kept loaded" : `unloads after ${m.keep_alive_secs} s idle`;
    return h(
      "tr",
      { dataset: { testid: "model-row", id: m.id, state: m.state } },
      h("th", { scope: "row" }, m.id, m.role_model ? h("span", { class: "badge" }, "role model") : null, note),
      h("td", {}, m.kind),
      h("td", {}, m.architecture ?? ""),
      h("td", {}, m.quantization ?? ""),
      h("td", {}, formatBytes(m.size_bytes)),
      h("td", { title: "weights, the KV caches of every batched sequence at full context, and the prefix cache" }, formatBytes(m.memory_bytes)),
      h("td", {}, m.context_length ?? ""),
      h("td", { title: keep }, h("span", { class: `badge ${state}`, dataset: { testid: "model-state" } }, state), m.in_flight ? ` ${m.in_flight} running` : ""),
      h("td", { class: "actions" }, ...actions),
    );
  }

  root.replaceChildren(
    nav,
    h("h1", {}, "Models"),
    h(
      "p",
      { class: "muted" },
      "Role models load at start-up and stay loaded; others load on their first request and unload when idle. ",
      "Copy a .gguf file into the models directory and it appears here.",
    ),
    h(
      "section",
      { class: "card", "aria-label": "Models" },
      dataTable({ id: "models", dataset: { testid: "models" } }, ["Model", "Kind", "Architecture", "Quantization", "File", "Memory at most", "Context", "State", ""], rows),
    ),
  );
  load();
  const timer = setInterval(() => {
    if (!busy.size) load();
  }, REFRESH_MS);
  signal.addEventListener("abort", () => clearInterval(timer));
}
