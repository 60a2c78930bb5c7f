// The models page (administrators): every model in the models directory with
// its architecture, quantization, file size, the memory it may hold and holds, its
// context and state; load, unload and delete; pull a GGUF from the hub with
// its progress. The list refreshes itself, so a model unloading after its
// idle time, a file copied in or a finished pull shows up.

import { api } from "./api.js";
import { h, showError, formatBytes, dataTable, emptyRow, confirmDialog } from "./ui.js";

const enc = encodeURIComponent;
const REFRESH_MS = 3000;
const PULL_REFRESH_MS = 1000;
const RUNNING = new Set(["resolving", "downloading", "verifying"]);

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
      h("td", { title: "weights, the caches of running requests and the prefix cache, now", dataset: { testid: "model-resident" } }, m.resident_bytes == null ? "" : formatBytes(m.resident_bytes)),
      h("td", {}, m.context_length ?? ""),
      h("td", { title: keep }, h("span", { class: `badge ${state}`, dataset: { testid: "model-state" } }, state), m.in_flight ? ` ${m.in_flight} running` : ""),
      h("td", { class: "actions" }, ...actions),
    );
  }

  const pulls = h("ul", { class: "pulls", dataset: { testid: "pulls" }, "aria-live": "polite" });
  let pullsRunning = false;

  async function loadPulls() {
    try {
      const { data } = await api("GET", "/api/v1/admin/pulls", undefined, signal);
      const running = data.some((p) => RUNNING.has(p.state));
      pulls.replaceChildren(...data.map(pullRow));
      // A pull that just ended may have added a model.
      if (pullsRunning && !running) load();
      pullsRunning = running;
    } catch (err) {
      if (!signal.aborted) showError(err);
    }
  }

  function pullRow(p) {
    const running = RUNNING.has(p.state);
    const name = `${p.repo}${p.file ? ` / ${p.file}` : ""}`;
    // Without a size from the hub the bar is indeterminate while it runs.
    const progress = h("progress", { "aria-label": `Progress of ${name}` });
    if (p.total_bytes) {
      progress.max = p.total_bytes;
      progress.value = p.received_bytes;
    } else if (!running) progress.value = 1;
    const amount = p.total_bytes ? `${formatBytes(p.received_bytes)} of ${formatBytes(p.total_bytes)}` : formatBytes(p.received_bytes);
    const outcome = p.state === "done" ? `served as ${p.model}` : p.error ?? "";
    const cancel = running ? h("button", { type: "button", class: "small", dataset: { testid: "pull-cancel" }, "aria-label": `Cancel the pull of ${name}` }, "Cancel") : null;
    cancel?.addEventListener("click", async () => {
      try {
        await api("DELETE", `/api/v1/admin/pulls/${enc(p.id)}`, undefined, signal);
      } catch (err) {
        showError(err);
      }
      loadPulls();
    });
    return h(
      "li",
      { class: "pull", dataset: { testid: "pull", id: p.id, state: p.state } },
      h("div", { class: "pull-head" }, h("strong", {}, name), " ", h("span", { class: `badge ${p.state}`, dataset: { testid: "pull-state" } }, p.state), cancel),
      progress,
      h("div", { class: "muted pull-detail", dataset: { testid: "pull-detail" } }, amount, outcome ? ` · ${outcome}` : ""),
    );
  }

  const repo = h("input", { id: "pull-repo", name: "repo", required: true, autocomplete: "off", placeholder: "owner/name, e.g. bartowski/Qwen2.5-0.5B-Instruct-GGUF", dataset: { testid: "pull-repo" } });
  const file = h("input", { id: "pull-file", name: "file", autocomplete: "off", placeholder: "model-Q4_K_M.gguf", dataset: { testid: "pull-file" } });
  const pullForm = h(
    "form",
    { id: "pull-form", class: "card stack form-card", noValidate: true, "aria-labelledby": "pull-title" },
    h("h2", { id: "pull-title" }, "Pull from the hub"),
    h("label", { for: "pull-repo" }, "Repository"),
    repo,
    h("label", { for: "pull-file" }, "File ", h("span", { class: "muted" }, "(optional)")),
    file,
    h("p", { class: "meta" }, "Without a file name the repository's Q4_K_M GGUF is chosen. The download is checked against the hub's SHA-256 before the model is offered."),
    h("div", {}, h("button", { type: "submit", dataset: { testid: "pull-start" } }, "Pull")),
    pulls,
  );
  pullForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!repo.value.trim()) {
      repo.focus();
      return;
    }
    try {
      await api("POST", "/api/v1/admin/pulls", { repo: repo.value.trim(), file: file.value.trim() || undefined }, signal);
      repo.value = file.value = "";
    } catch (err) {
      showError(err);
    }
    loadPulls();
  });

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
      dataTable({ id: "models", dataset: { testid: "models" } }, ["Model", "Kind", "Architecture", "Quantization", "File", "Memory at most", "In memory", "Context", "State", ""], rows),
    ),
    pullForm,
  );
  load();
  loadPulls();
  const timer = setInterval(() => {
    if (!busy.size) load();
    if (!pullsRunning) loadPulls(); // one started elsewhere (the API)
  }, REFRESH_MS);
  const pullTimer = setInterval(() => {
    if (pullsRunning) loadPulls();
  }, PULL_REFRESH_MS);
  signal.addEventListener("abort", () => {
    clearInterval(timer);
    clearInterval(pullTimer);
  });
}
