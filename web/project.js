// The project page: documents (upload, ingest progress, delete), search,
// SRS documents, wireframes, members, and the conversations list with the open
// conversation beside it.
// Viewers get the page without the controls that change it.

import { api, uploadDocument, followJob, whoami } from "./api.js";
import { h, showError, confirmDialog, formatBytes, sourceLocation } from "./ui.js";
import { mountChat } from "./chat.js";
import { membersCard } from "./members.js";
import { srsCard } from "./srs.js";
import { wireframesCard } from "./wireframes.js";

const enc = encodeURIComponent;

/// Renders project `pid` into `root`; `signal` aborts its requests when the
/// user leaves. Returns {openChat(cid | null)}.
export function mountProject(root, pid, signal) {
  const title = h("h1", {}, "Project");
  const description = h("p", { class: "muted" });
  const rows = h("tbody", { id: "document-rows" });
  const uploads = h("ul", { class: "uploads", dataset: { testid: "uploads" }, "aria-live": "polite" });
  const fileInput = h("input", { type: "file", id: "file-input", class: "visually-hidden", multiple: true, dataset: { testid: "file-input" } });
  const dropZone = h(
    "div",
    { class: "drop-zone", dataset: { testid: "drop-zone" } },
    h("label", { for: "file-input", class: "button" }, "Upload documents"),
    h("span", { class: "muted" }, " or drop files here (PDF, DOCX, Markdown, text)"),
    fileInput,
  );
  const searchInput = h("input", { type: "search", id: "search-input", name: "q", required: true, dataset: { testid: "search-input" } });
  const searchResults = h("ol", { id: "search-results", class: "search-results", dataset: { testid: "search-results" }, "aria-live": "polite" });
  const conversations = h("ul", { id: "conversation-list", class: "conversation-list", dataset: { testid: "conversation-list" } });
  const newConversation = h("button", { type: "button", id: "new-conversation", class: "primary", dataset: { testid: "new-conversation" } }, "New conversation");
  const chatSlot = h("div", { class: "chat-slot" });
  const members = membersCard(pid, signal);
  const srs = srsCard(pid, signal);
  const wireframes = wireframesCard(pid, signal);
  // The server refuses a viewer's changes anyway; this only stops offering them.
  const viewer = whoami().then((me) => me.user.role === "viewer", () => false);
  let readOnly = false;

  let chat = null; // {cid, controller}
  let activeCid = null;
  let pollTimer = null;
  signal.addEventListener("abort", () => clearTimeout(pollTimer));

  // ---- documents ----------------------------------------------------------
  async function loadDocuments() {
    clearTimeout(pollTimer);
    try {
      const { data } = await api("GET", `/api/v1/projects/${enc(pid)}/documents`, undefined, signal);
      readOnly = await viewer; // rows need to know whether to offer Delete
      rows.replaceChildren(...data.map(documentRow));
      if (!data.length) rows.append(h("tr", { class: "empty" }, h("td", { colspan: 7 }, "No documents yet.")));
      // Documents still processing whose job we are not following (the page
      // was reloaded) are refreshed by polling the list.
      if (data.some((d) => d.status === "processing")) pollTimer = setTimeout(loadDocuments, 2000);
    } catch (err) {
      showError(err);
    }
  }

  function documentRow(d) {
    const status = h("td", { class: "status" }, h("span", { class: `badge ${d.status}` }, d.status));
    if (d.status === "failed" && d.error) status.append(h("span", { class: "reason", dataset: { testid: "document-error" } }, d.error));
    const del = readOnly ? null : h("button", { type: "button", class: "danger small", dataset: { testid: "document-delete" }, "aria-label": `Delete ${d.name}` }, "Delete");
    del?.addEventListener("click", async () => {
      if (!(await confirmDialog(`Delete "${d.name}"? Its passages leave the search index.`))) return;
      try {
        await api("DELETE", `/api/v1/documents/${enc(d.id)}`, undefined, signal);
        await loadDocuments();
      } catch (err) {
        showError(err);
      }
    });
    return h(
      "tr",
      { dataset: { testid: "document-row", id: d.id, status: d.status } },
      h("th", { scope: "row", class: "doc-name" }, d.name),
      h("td", {}, d.kind || ""),
      status,
      h("td", { class: "num" }, d.pages ?? "–"),
      h("td", { class: "num" }, d.chunk_count ?? "–"),
      h("td", { class: "num" }, formatBytes(d.size_bytes)),
      h("td", {}, del),
    );
  }

  async function upload(file) {
    const progress = h("progress", { max: 1, value: 0, dataset: { testid: "upload-progress" }, "aria-label": `Uploading ${file.name}` });
    const state = h("span", { class: "upload-state" }, "Uploading…");
    const item = h("li", { class: "upload", dataset: { testid: "upload-item", status: "uploading" } }, h("span", { class: "doc-name" }, file.name), progress, state);
    uploads.append(item);
    const set = (status, text) => {
      item.dataset.status = status;
      state.textContent = text;
    };
    try {
      const answer = await uploadDocument(pid, file, (f) => (progress.value = f), signal);
      progress.value = 1;
      await loadDocuments();
      if (answer.duplicate) set("duplicate", "Already in this project");
      if (answer.status === "processing" && answer.job_id) {
        set("processing", "Processing…");
        progress.removeAttribute("value"); // indeterminate until the job reports
        const job = await followJob(answer.job_id, (j) => {
          if (j.progress > 0) progress.value = j.progress;
          // A queued job waits for earlier documents; its message says so.
          set(j.status === "queued" ? "queued" : "processing", j.message || `Processing… ${Math.round((j.progress || 0) * 100)}%`);
        }, signal);
        set(job.status === "succeeded" ? "ready" : "failed", job.status === "succeeded" ? "Ready" : job.message || `Ingest ${job.status}`);
        await loadDocuments();
      } else if (!answer.duplicate) {
        set(answer.status, answer.status === "ready" ? "Ready" : answer.status);
      }
      if (item.dataset.status === "ready" || item.dataset.status === "duplicate") setTimeout(() => item.remove(), 4000);
    } catch (err) {
      set("failed", err.message || "Upload failed");
      showError(err);
    }
  }

  const uploadAll = (files) => {
    for (const f of files) upload(f);
  };
  fileInput.addEventListener("change", () => {
    uploadAll([...fileInput.files]);
    fileInput.value = ""; // choosing the same file again fires change again
  });
  for (const ev of ["dragenter", "dragover"]) {
    dropZone.addEventListener(ev, (e) => {
      e.preventDefault();
      dropZone.classList.add("dragging");
    });
  }
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
  dropZone.addEventListener("drop", (e) => {
    e.preventDefault();
    dropZone.classList.remove("dragging");
    uploadAll([...(e.dataTransfer?.files || [])]);
  });

  // ---- search -------------------------------------------------------------
  const searchForm = h(
    "form",
    { role: "search", class: "search-form", "aria-label": "Search this project's documents" },
    h("label", { for: "search-input", class: "visually-hidden" }, "Search documents"),
    searchInput,
    h("button", { type: "submit", id: "search-button", dataset: { testid: "search-button" } }, "Search"),
  );
  searchForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = searchInput.value.trim();
    if (!q) return;
    searchResults.setAttribute("aria-busy", "true");
    try {
      const { data } = await api("GET", `/api/v1/projects/${enc(pid)}/search?q=${enc(q)}&k=8`, undefined, signal);
      searchResults.replaceChildren(
        ...data.map((hit) =>
          h(
            "li",
            { class: "search-hit", dataset: { testid: "search-hit", documentId: hit.document_id, chunkId: hit.chunk_id } },
            h("div", {}, h("strong", {}, hit.document_name), " ", h("span", { class: "muted" }, sourceLocation(hit))),
            h("p", { class: "hit-text" }, hit.text),
          ),
        ),
      );
      if (!data.length) searchResults.append(h("li", { class: "empty" }, "No passages match."));
    } catch (err) {
      showError(err);
    } finally {
      searchResults.setAttribute("aria-busy", "false");
    }
  });

  // ---- conversations ------------------------------------------------------
  let conversationTitles = new Map();
  async function loadConversations() {
    try {
      const { data } = await api("GET", `/api/v1/projects/${enc(pid)}/conversations`, undefined, signal);
      conversationTitles = new Map(data.map((c) => [c.id, c.title]));
      conversations.replaceChildren(
        ...data.map((c) =>
          h(
            "li",
            { dataset: { testid: "conversation-item", id: c.id } },
            h("a", { href: `#/projects/${enc(pid)}/chat/${enc(c.id)}`, "aria-current": c.id === activeCid ? "page" : null }, c.title || "Untitled conversation"),
          ),
        ),
      );
      if (!data.length) conversations.append(h("li", { class: "empty" }, "No conversations yet."));
    } catch (err) {
      showError(err);
    }
  }
  newConversation.addEventListener("click", async () => {
    newConversation.disabled = true;
    try {
      const c = await api("POST", `/api/v1/projects/${enc(pid)}/conversations`, {}, signal);
      await loadConversations();
      location.hash = `#/projects/${enc(pid)}/chat/${enc(c.id)}`;
    } catch (err) {
      showError(err);
    } finally {
      newConversation.disabled = false;
    }
  });

  function openChat(cid) {
    if (chat && chat.cid === cid) return;
    if (chat) chat.controller.abort();
    chat = null;
    activeCid = cid;
    for (const a of conversations.querySelectorAll("a")) {
      if (a.closest("li").dataset.id === cid) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    if (!cid) {
      chatSlot.replaceChildren(h("p", { class: "muted card" }, "Open a conversation or start a new one to ask about this project's documents."));
      return;
    }
    const controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort(), { once: true });
    chat = { cid, controller };
    mountChat(chatSlot, cid, controller.signal, { title: conversationTitles.get(cid), onAnswered: loadConversations });
  }

  root.replaceChildren(
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Projects"), " / ", h("span", { id: "crumb-name" }, "")),
    title,
    description,
    h(
      "div",
      { class: "project-grid" },
      h(
        "div",
        { class: "stack" },
        h("section", { class: "card", "aria-labelledby": "documents-title" },
          h("h2", { id: "documents-title" }, "Documents"),
          dropZone,
          uploads,
          h("div", { class: "table-wrap" },
            h("table", { id: "documents", class: "documents", dataset: { testid: "documents" } },
              h("thead", {}, h("tr", {}, ...["Name", "Kind", "Status", "Pages", "Chunks", "Size"].map((c) => h("th", { scope: "col" }, c)), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
              rows,
            ),
          ),
        ),
        srs.element,
        wireframes.element,
        h("section", { class: "card", "aria-labelledby": "search-title" }, h("h2", { id: "search-title" }, "Search"), searchForm, searchResults),
        members.element,
      ),
      h(
        "div",
        { class: "stack" },
        h("section", { class: "card", "aria-labelledby": "conversations-title" },
          h("div", { class: "row" }, h("h2", { id: "conversations-title", class: "grow" }, "Conversations"), newConversation),
          conversations,
        ),
        chatSlot,
      ),
    ),
  );

  api("GET", `/api/v1/projects/${enc(pid)}`, undefined, signal).then(
    (p) => {
      title.textContent = p.name;
      document.getElementById("crumb-name").textContent = p.name;
      description.textContent = p.description || "";
      document.title = `${p.name} · BA Copilot`;
    },
    (err) => showError(err),
  );
  viewer.then((isViewer) => {
    if (!isViewer || signal.aborted) return;
    dropZone.remove();
    newConversation.remove();
    for (const b of rows.querySelectorAll("[data-testid=document-delete]")) b.remove();
    members.readOnly();
    srs.readOnly();
    wireframes.readOnly();
  });
  loadDocuments();
  members.load();
  srs.load();
  wireframes.load();
  loadConversations().then(() => {
    // The chat panel may have opened before titles were known.
    if (chat && conversationTitles.has(chat.cid)) {
      const heading = chatSlot.querySelector("#chat-title");
      if (heading) heading.textContent = conversationTitles.get(chat.cid) || "Conversation";
    }
  });
  return { openChat };
}
