// A conversation: its history, the composer, and the streamed answer.
//
// User text is shown with textContent; assistant text goes through the
// Markdown renderer, which builds DOM nodes only. Citation markers [n] open
// the source panel with the quoted passage.

import { api, streamMessage } from "./api.js";
import { h, showError, openSource, sourceLocation } from "./ui.js";
import { renderMarkdown } from "./markdown.js";

const MODES = [
  ["grounded", "Grounded (documents first)"],
  ["documents_only", "Documents only"],
  ["free", "Free (no documents)"],
];
// Re-rendering the whole answer on every token is wasteful; ~30 renders a second look live.
const RENDER_INTERVAL_MS = 33;

const citationsOf = new WeakMap(); // message <li> → its citations

/// Renders conversation `cid` into `slot`. `opts.title`, `opts.onAnswered()`.
export function mountChat(slot, cid, signal, opts = {}) {
  const messages = h("ol", { id: "messages", class: "messages", dataset: { testid: "messages" }, "aria-label": "Messages" });
  const input = h("textarea", { id: "chat-input", name: "content", rows: 3, required: true, placeholder: "Ask about this project's documents…", "aria-describedby": "chat-hint", dataset: { testid: "chat-input" } });
  const mode = h("select", { id: "chat-mode", name: "mode", dataset: { testid: "chat-mode" } }, ...MODES.map(([v, label]) => h("option", { value: v }, label)));
  mode.value = "grounded";
  const send = h("button", { type: "submit", id: "chat-send", class: "primary", dataset: { testid: "chat-send" } }, "Send");
  const form = h(
    "form",
    { id: "chat-form", class: "composer" },
    h("label", { for: "chat-input", class: "visually-hidden" }, "Message"),
    input,
    h("div", { class: "row" },
      h("label", { for: "chat-mode" }, "Mode "),
      mode,
      h("span", { id: "chat-hint", class: "muted grow" }, "Enter sends, Shift+Enter starts a new line"),
      send,
    ),
  );
  const panel = h(
    "section",
    { id: "chat-panel", class: "card chat", dataset: { testid: "chat-panel", conversationId: cid }, "aria-labelledby": "chat-title" },
    h("h2", { id: "chat-title" }, opts.title || "Conversation"),
    messages,
    form,
  );
  slot.replaceChildren(panel);

  let sending = false;

  messages.addEventListener("click", (e) => {
    const button = e.target.closest("button.citation, button.source-link");
    if (!button) return;
    const n = Number(button.dataset.n);
    const cites = citationsOf.get(button.closest("li.message")) || [];
    openSource(n, cites.find((c) => Number(c.n) === n));
  });

  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const content = input.value.trim();
    if (!content || sending) return;
    sending = true;
    send.disabled = true;
    messages.append(messageItem({ role: "user", content, citations: [] }));
    input.value = "";
    const answer = streamingItem();
    messages.append(answer.item);
    scrollToEnd();
    try {
      await streamMessage(cid, content, mode.value, answer, signal);
      if (answer.item.isConnected && answer.bubble.dataset.streaming === "true") answer.finish();
      if (opts.onAnswered) opts.onAnswered();
    } catch (err) {
      answer.error(err);
      if (err.name !== "AbortError") input.value = input.value || content; // let the user retry
    } finally {
      sending = false;
      send.disabled = false;
      if (!signal.aborted) input.focus();
    }
  });

  function scrollToEnd() {
    messages.scrollTop = messages.scrollHeight;
  }

  // The bubble an answer streams into: tokens accumulate and are re-rendered
  // as Markdown at most every RENDER_INTERVAL_MS.
  function streamingItem() {
    const item = messageItem({ role: "assistant", content: "", citations: [] });
    const bubble = item.querySelector(".bubble");
    bubble.dataset.streaming = "true";
    bubble.setAttribute("aria-live", "polite");
    bubble.setAttribute("aria-busy", "true");
    bubble.classList.add("typing");
    let text = "";
    let timer = null;
    const render = () => {
      timer = null;
      const nearEnd = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
      bubble.replaceChildren(renderMarkdown(text));
      if (nearEnd) scrollToEnd();
    };
    const stop = () => {
      clearTimeout(timer);
      bubble.dataset.streaming = "false";
      bubble.removeAttribute("aria-busy");
      bubble.classList.remove("typing");
    };
    return {
      item,
      bubble,
      token(t) {
        text += t;
        if (!timer) timer = setTimeout(render, RENDER_INTERVAL_MS);
      },
      citation(c) {
        const cites = citationsOf.get(item);
        cites.push(c);
        renderSources(item, cites);
      },
      done({ message }) {
        if (!message) return this.finish();
        stop();
        // Keep the streamed citations if the stored message came without them.
        const streamed = citationsOf.get(item);
        const final = messageItem(message.citations?.length ? message : { ...message, citations: streamed });
        item.replaceWith(final);
        scrollToEnd();
      },
      error(err) {
        stop();
        if (text) render();
        if (err && err.name === "AbortError") return;
        item.classList.add("failed");
        bubble.append(h("p", { class: "error", dataset: { testid: "message-error" } }, (err && err.message) || "The answer failed"));
        showError(err);
      },
      finish() {
        stop();
        render();
      },
    };
  }

  api("GET", `/api/v1/conversations/${encodeURIComponent(cid)}/messages`, undefined, signal).then(
    ({ data }) => {
      // Keep anything sent before the history arrived below it.
      messages.prepend(...data.map(messageItem));
      scrollToEnd();
    },
    (err) => showError(err),
  );
  if (!signal.aborted) input.focus({ preventScroll: true });
}

/// A message as a list item: plain text for the user, Markdown for the assistant.
function messageItem(m) {
  const assistant = m.role === "assistant";
  const bubble = h("div", {
    class: assistant ? "bubble markdown" : "bubble",
    dataset: { testid: assistant ? "assistant-bubble" : "user-bubble", streaming: assistant ? "false" : null },
  });
  if (assistant) bubble.append(renderMarkdown(m.content || ""));
  else bubble.textContent = m.content;
  const item = h(
    "li",
    { class: `message ${assistant ? "assistant" : "user"}`, dataset: { testid: "message", role: m.role, id: m.id || null } },
    h("div", { class: "visually-hidden" }, assistant ? "Assistant:" : "You:"),
    bubble,
  );
  const cites = [...(m.citations || [])];
  citationsOf.set(item, cites);
  renderSources(item, cites);
  if (assistant && m.model) item.append(h("div", { class: "meta" }, m.model));
  return item;
}

function renderSources(item, cites) {
  let list = item.querySelector(".sources");
  if (!cites.length) return list?.remove();
  if (!list) {
    list = h("ol", { class: "sources", dataset: { testid: "sources" }, "aria-label": "Sources" });
    item.querySelector(".bubble").after(list);
  }
  const sorted = [...cites].sort((a, b) => a.n - b.n);
  list.replaceChildren(
    ...sorted.map((c) =>
      h(
        "li",
        {},
        h("button", { type: "button", class: "source-link", dataset: { n: c.n, testid: "source-link" } }, `[${c.n}] ${c.document_name || "Document"}`),
        " ",
        h("span", { class: "muted" }, sourceLocation(c)),
      ),
    ),
  );
}
