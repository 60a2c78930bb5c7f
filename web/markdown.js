// A small Markdown renderer for model answers that builds DOM nodes only.
//
// Model output is untrusted (it can echo a poisoned document), so nothing here
// ever parses HTML: raw HTML stays literal text, images show their alt text
// and never load, and a link becomes an <a> only when its scheme is http(s),
// mailto or none (relative). Citation markers such as [1] or [1, 2] become
// <button class="citation" data-n="1"> for the chat page to wire up.

const SAFE_SCHEMES = new Set(["http:", "https:", "mailto:"]);
// Deep nesting costs recursion; past this depth markup is shown as text.
const MAX_DEPTH = 12;

/// The href to use for `url`, or null when it must not become a link.
export function safeHref(url) {
  // Browsers drop tabs and newlines anywhere in a URL and C0 controls and
  // spaces at its ends, so "java\tscript:" is "javascript:". To decide the
  // scheme we remove every control, space and invisible character and
  // case-fold: anything that could read as a scheme to a browser reads as one here.
  const href = String(url).replace(/[\t\n\r]/g, "").trim();
  const probe = href
    .replace(/[\u0000-\u0020\u007f-\u00a0\u00ad\u200b-\u200f\u2028\u2029\u2060\ufeff]/g, "")
    .toLowerCase();
  const scheme = /^([a-z][a-z0-9+.\-]*):/.exec(probe);
  if (scheme && !SAFE_SCHEMES.has(scheme[1] + ":")) return null;
  if (!scheme && /^[^/?#]*:/.test(probe)) return null; // "1x:..." and other odd colons
  // Defence in depth: resolve it the way the browser will.
  try {
    const base = typeof document !== "undefined" ? document.baseURI : "http://localhost/";
    if (!SAFE_SCHEMES.has(new URL(href, base).protocol)) return null;
  } catch {
    return null;
  }
  return href;
}

/// The default citation marker: a real button, so Enter and Space work.
export function citationButton(n) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "citation";
  b.dataset.n = String(n);
  b.dataset.testid = "citation";
  b.setAttribute("aria-label", `Source ${n}`);
  b.textContent = `[${n}]`;
  return b;
}

/// Renders `text` to a DocumentFragment. `options.citation(n)` may replace the
/// default citation button.
export function renderMarkdown(text, options = {}) {
  const ctx = { citation: options.citation || citationButton };
  const frag = document.createDocumentFragment();
  renderBlocks(String(text ?? "").replace(/\r\n?/g, "\n").split("\n"), frag, ctx, 0);
  return frag;
}

function el(tag, className) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  return e;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?/;
const BULLET = /^( {0,3})([-*+])(\s+|$)/;
const ORDERED = /^( {0,3})(\d{1,9})([.)])(\s+|$)/;

function listMarker(line) {
  const m = BULLET.exec(line) || ORDERED.exec(line);
  if (!m) return null;
  const ordered = m[2] >= "0" && m[2] <= "9";
  return { ordered, start: ordered ? parseInt(m[2], 10) : 1, width: m[0].length };
}

function startsBlock(line) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || listMarker(line);
}

function renderBlocks(lines, parent, ctx, depth) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
      continue;
    }
    if (depth >= MAX_DEPTH) {
      const p = el("p");
      p.textContent = lines.slice(i).join("\n");
      parent.append(p);
      return;
    }
    let m;
    if ((m = FENCE.exec(line))) {
      const fence = m[1];
      const body = [];
      i++;
      while (i < lines.length && !new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[i])) {
        body.push(lines[i++]);
      }
      i++; // the closing fence (absent while an answer is still streaming)
      const pre = el("pre");
      const code = el("code");
      if (m[2]) code.className = "language-" + m[2].replace(/[^\w+\-.#]/g, "");
      code.textContent = body.join("\n");
      pre.append(code);
      parent.append(pre);
    } else if ((m = HEADING.exec(line))) {
      // Inside a chat bubble the page's own h1/h2 stay above answer headings.
      const h = el("h" + Math.min(m[1].length + 2, 6));
      renderInline(m[2] || "", h, ctx, depth);
      parent.append(h);
      i++;
    } else if (RULE.test(line)) {
      parent.append(el("hr"));
      i++;
    } else if (QUOTE.test(line)) {
      const body = [];
      while (i < lines.length && lines[i].trim() && (QUOTE.test(lines[i]) || !startsBlock(lines[i]))) {
        body.push(lines[i++].replace(QUOTE, ""));
      }
      const q = el("blockquote");
      renderBlocks(body, q, ctx, depth + 1);
      parent.append(q);
    } else if ((m = listMarker(line))) {
      i = renderList(lines, i, m, parent, ctx, depth);
    } else {
      const body = [];
      while (i < lines.length && lines[i].trim() && (body.length === 0 || !startsBlock(lines[i]))) {
        body.push(lines[i++].trim());
      }
      const p = el("p");
      renderInline(body.join("\n"), p, ctx, depth);
      parent.append(p);
    }
  }
}

// A list runs while lines are items of the same kind, indented continuations,
// or blank lines followed by either.
function renderList(lines, i, first, parent, ctx, depth) {
  const list = el(first.ordered ? "ol" : "ul");
  if (first.ordered && first.start !== 1) list.start = first.start;
  let item = null;
  let loose = false;
  const items = [];
  while (i < lines.length) {
    const line = lines[i];
    const m = listMarker(line);
    if (m && m.ordered === first.ordered) {
      item = [line.slice(m.width)];
      items.push(item);
      i++;
    } else if (!line.trim()) {
      const next = lines[i + 1];
      if (next === undefined || !(/^\s{2,}\S/.test(next) || (listMarker(next) || {}).ordered === first.ordered)) break;
      item.push("");
      loose = loose || !/^\s{2,}\S/.test(next);
      i++;
    } else if (/^\s{2,}\S/.test(line) || !startsBlock(line)) {
      item.push(line.replace(/^\s{1,4}/, ""));
      i++;
    } else {
      break;
    }
  }
  for (const body of items) {
    const li = el("li");
    renderBlocks(body, li, ctx, depth + 1);
    // A tight item holds its text directly, not a paragraph.
    if (!loose && li.firstChild && li.firstChild.nodeName === "P") li.firstChild.replaceWith(...li.firstChild.childNodes);
    list.append(li);
  }
  parent.append(list);
  return i;
}

const ESCAPABLE = /[\\`*_{}\[\]()#+\-.!<>~|"']/;
const CITATION = /^\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\](?!\()/;
const BARE_URL = /^(?:https?:\/\/|mailto:)[^\s<>]*[^\s<>.,;:!?'")\]]/;

function renderInline(src, parent, ctx, depth) {
  let text = "";
  const flush = () => {
    if (text) parent.append(document.createTextNode(text));
    text = "";
  };
  const emit = (node) => {
    flush();
    parent.append(node);
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const rest = src.slice(i);
    let m;
    if (c === "\\" && ESCAPABLE.test(src[i + 1] || "")) {
      text += src[i + 1];
      i += 2;
    } else if (c === "\\" && src[i + 1] === "\n") {
      emit(el("br"));
      i += 2;
    } else if (c === "`" && (m = /^(`+)([\s\S]*?[^`])\1(?!`)/.exec(rest))) {
      const code = el("code");
      code.textContent = m[2].replace(/^ (.*) $/s, "$1");
      emit(code);
      i += m[0].length;
    } else if (c === "!" && src[i + 1] === "[" && (m = linkAt(src, i + 1))) {
      // Images never load (no tracking pixels, no img-src surprises): the alt text stands in.
      text += m.label;
      i = m.end;
    } else if (c === "[" && !ctx.noLinks && (m = CITATION.exec(rest))) {
      flush();
      m[1].split(",").forEach((n, k) => {
        if (k > 0) parent.append(document.createTextNode(" "));
        parent.append(ctx.citation(parseInt(n, 10)));
      });
      i += m[0].length;
    } else if (c === "[" && (m = linkAt(src, i))) {
      const href = safeHref(m.url);
      if (href !== null && depth < MAX_DEPTH) {
        const a = el("a");
        a.setAttribute("href", href);
        a.rel = "noopener noreferrer nofollow";
        a.target = "_blank";
        if (m.title) a.title = m.title;
        renderInline(m.label, a, { ...ctx, noLinks: true }, depth + 1);
        emit(a);
      } else {
        text += m.label;
      }
      i = m.end;
    } else if (c === "<" && (m = /^<((?:https?|mailto):[^\s<>]+)>/i.exec(rest)) && !ctx.noLinks) {
      emit(link(m[1]) || document.createTextNode(m[0]));
      i += m[0].length;
    } else if ((c === "h" || c === "m") && (i === 0 || /[\s(]/.test(src[i - 1])) && !ctx.noLinks && (m = BARE_URL.exec(rest))) {
      emit(link(m[0]) || document.createTextNode(m[0]));
      i += m[0].length;
    } else if ((c === "*" || c === "_" || c === "~") && (m = emphasisAt(src, i)) && depth < MAX_DEPTH) {
      const e = el(m.tag);
      renderInline(m.inner, e, ctx, depth + 1);
      emit(e);
      i = m.end;
    } else if (c === " " && src.startsWith("  \n", i)) {
      emit(el("br"));
      i += 3;
    } else {
      text += c;
      i++;
    }
  }
  flush();
}

function link(url) {
  const href = safeHref(url);
  if (href === null) return null;
  const a = el("a");
  a.setAttribute("href", href);
  a.rel = "noopener noreferrer nofollow";
  a.target = "_blank";
  a.textContent = url;
  return a;
}

// [label](url "title") starting at src[i] === "[", with nested brackets in the
// label and balanced parentheses in the URL.
function linkAt(src, i) {
  let depth = 0;
  let j = i;
  for (; j < src.length; j++) {
    if (src[j] === "\\") j++;
    else if (src[j] === "[") depth++;
    else if (src[j] === "]" && --depth === 0) break;
  }
  if (j >= src.length || src[j + 1] !== "(") return null;
  const label = src.slice(i + 1, j);
  let k = j + 2;
  let parens = 0;
  for (; k < src.length; k++) {
    if (src[k] === "\\") k++;
    else if (src[k] === "(") parens++;
    else if (src[k] === ")" && parens-- === 0) break;
  }
  if (k >= src.length) return null;
  const inner = src.slice(j + 2, k).trim();
  const m = /^(?:<([^>]*)>|(\S*))(?:\s+["'(](.*)["')])?$/s.exec(inner) || [null, null, inner, null];
  return { label, url: m[1] ?? m[2] ?? "", title: m[3] || "", end: k + 1 };
}

// **strong**, __strong__, *em*, _em_, ~~del~~: the closing run must follow a
// non-space character, and "_" does not open or close inside a word.
function emphasisAt(src, i) {
  const c = src[i];
  const double = src[i + 1] === c;
  if (c === "~" && !double) return null;
  const run = double ? c + c : c;
  const open = i + run.length;
  if (!src[open] || /\s/.test(src[open])) return null;
  if (c === "_" && i > 0 && /\w/.test(src[i - 1])) return null;
  for (let j = open + 1; j <= src.length - run.length; j++) {
    if (src[j] === "\\") {
      j++;
      continue;
    }
    if (src[j] === "`") {
      const code = /^(`+)[\s\S]*?[^`]\1(?!`)/.exec(src.slice(j));
      if (code) j += code[0].length - 1;
      continue;
    }
    if (!src.startsWith(run, j) || /\s/.test(src[j - 1])) continue;
    if (!double && src[j + 1] === c) {
      j++; // a "**" inside "*...*" belongs to a nested strong
      continue;
    }
    if (c === "_" && /\w/.test(src[j + run.length] || "")) continue;
    const tag = c === "~" ? "del" : double ? "strong" : "em";
    return { tag, inner: src.slice(open, j), end: j + run.length };
  }
  return null;
}
