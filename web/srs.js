// Over 500 lines: one screen (document list, generation form, sections,
// requirement editor, lint marks, exports) whose parts share its state; the
// version history card is versions.js.
// SRS documents. On the project page, the "Requirements (SRS)" card: the
// project's documents and the New SRS form (optional clarifying questions,
// then a generation job with progress and Cancel). At
// #/projects/{pid}/srs/{sid}, the document: sections, requirement cards with
// the linter's findings marked in their statements, inline editing, version
// history with diffs, and exports. Viewers get no controls that change it.

import { api, whoami } from "./api.js";
import { runJob, jobFailed } from "./jobs.js";
import { historyCard as versionHistory } from "./versions.js";
import { h, showError, confirmDialog, formatDate } from "./ui.js";

const enc = encodeURIComponent;
const PRIORITIES = { must: "Must have", should: "Should have", could: "Could have", wont: "Won't have" };
const VERIFICATIONS = { test: "Test", analysis: "Analysis", inspection: "Inspection", demonstration: "Demonstration" };
const STATUSES = { draft: "Draft", reviewed: "Reviewed", approved: "Approved", rejected: "Rejected" };
const EXPORTS = [["md", "Markdown"], ["html", "HTML"], ["pdf", "PDF"], ["docx", "Word (DOCX)"], ["trace.csv", "Traceability CSV"]];
const SEVERITY_RANK = { error: 0, warning: 1, info: 2 };

const isViewer = () => whoami().then((me) => me.user.role === "viewer", () => false);
const srsHash = (pid, sid) => `#/projects/${enc(pid)}/srs/${enc(sid)}`;
let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

// ---- the project page's card --------------------------------------------------

/// The "Requirements (SRS)" card of project `pid`: {element, load(), readOnly()}.
export function srsCard(pid, signal) {
  const list = h("ul", { id: "srs-list", class: "srs-list", dataset: { testid: "srs-list" }, "aria-busy": "true" });
  const title = h("input", { id: "srs-title", name: "title", maxlength: 200, autocomplete: "off", dataset: { testid: "srs-title" } });
  const brief = h("textarea", { id: "srs-brief", name: "brief", rows: 4, required: true, "aria-describedby": "srs-brief-hint", dataset: { testid: "srs-brief" } });
  const clarify = h("button", { type: "button", id: "srs-clarify", dataset: { testid: "srs-clarify" } }, "Ask clarifying questions first");
  const generate = h("button", { type: "submit", id: "srs-generate", class: "primary", dataset: { testid: "srs-generate" } }, "Generate");
  const questions = h("div", { id: "srs-questions", class: "clarifications stack", dataset: { testid: "srs-questions" }, hidden: true });
  const job = h("div", { id: "srs-job", class: "job row", hidden: true });
  const form = h(
    "form",
    { id: "srs-form", class: "srs-form stack", "aria-labelledby": "srs-new-title" },
    h("h3", { id: "srs-new-title" }, "New SRS"),
    h("div", {}, h("label", { for: "srs-title" }, "Title ", h("span", { class: "muted" }, "(optional)")), title),
    h("div", {},
      h("label", { for: "srs-brief" }, "Brief"),
      h("p", { id: "srs-brief-hint", class: "meta" }, "What the system is for and who uses it. The project's documents are used as sources."),
      brief,
    ),
    questions,
    h("div", { class: "row" }, clarify, generate),
    job,
  );
  const element = h(
    "section",
    { id: "srs", class: "card", "aria-labelledby": "srs-card-title", dataset: { testid: "srs-card" } },
    h("h2", { id: "srs-card-title" }, "Requirements (SRS)"),
    list,
    form,
  );
  let asked = []; // the clarifications on show, each with its radio group

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const { data } = await api("GET", `/api/v1/projects/${enc(pid)}/srs`, undefined, signal);
      list.replaceChildren(...data.map((d) => {
        const bits = [`version ${d.version}`, `${d.requirements ?? 0} requirement${d.requirements === 1 ? "" : "s"}`];
        if (d.lint_score !== null && d.lint_score !== undefined) bits.push(`lint ${d.lint_score}/100`);
        return h(
          "li",
          { dataset: { testid: "srs-item", id: d.id } },
          h("a", { href: srsHash(pid, d.id), dataset: { testid: "srs-link" } }, d.title || "Untitled SRS"),
          h("p", { class: "meta" }, bits.join(" · "), " · updated ", formatDate(d.updated_at)),
        );
      }));
      if (!data.length) list.append(h("li", { class: "empty" }, "No SRS documents yet."));
    } catch (err) {
      showError(err);
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  function showQuestions(items) {
    asked = items.map((q, i) => {
      const name = nextId("clarification");
      const radios = q.choices.map((choice, j) => {
        const id = `${name}-${j}`;
        const input = h("input", { type: "radio", id, name, value: choice, checked: j === (q.recommended ?? 0) });
        return h("div", { class: "choice" }, input, h("label", { for: id }, choice, j === q.recommended ? h("span", { class: "muted" }, " (recommended)") : null));
      });
      const fieldset = h("fieldset", { class: "clarification", dataset: { testid: "clarification", index: i } }, h("legend", {}, q.question), ...radios);
      return { q, fieldset };
    });
    questions.replaceChildren(
      h("p", { class: "meta" }, asked.length ? "Answer what you can; the recommended choice is selected." : "The model has no questions about this brief."),
      ...asked.map((a) => a.fieldset),
    );
    questions.hidden = false;
  }

  clarify.addEventListener("click", async () => {
    if (!brief.value.trim()) return brief.focus();
    clarify.disabled = true;
    clarify.textContent = "Asking…";
    try {
      const { clarifications } = await api("POST", `/api/v1/projects/${enc(pid)}/srs/questions`, { brief: brief.value.trim() }, signal);
      showQuestions(clarifications || []);
      questions.querySelector("input:checked")?.focus();
    } catch (err) {
      showError(err);
    } finally {
      clarify.disabled = false;
      clarify.textContent = "Ask clarifying questions again";
    }
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!brief.value.trim()) return brief.focus();
    const body = { brief: brief.value.trim() };
    if (title.value.trim()) body.title = title.value.trim();
    if (asked.length) {
      body.clarifications = asked.map(({ q, fieldset }) => ({
        question: q.question,
        choices: q.choices,
        answer: fieldset.querySelector("input:checked")?.value ?? null,
      }));
    }
    generate.disabled = clarify.disabled = true;
    try {
      const { job_id } = await api("POST", `/api/v1/projects/${enc(pid)}/srs`, body, signal);
      const ids = { bar: "srs-progress", message: "srs-progress-message", cancel: "srs-cancel" };
      const done = await runJob(job, job_id, "Generating the SRS", signal, ids);
      const sid = done.result && done.result.srs_id;
      if (done.status === "succeeded" && sid) {
        location.hash = srsHash(pid, sid);
        return;
      }
      jobFailed(job, done, "Generation");
    } catch (err) {
      showError(err);
    } finally {
      generate.disabled = clarify.disabled = false;
    }
  });

  return { element, load, readOnly: () => form.remove() };
}

// ---- the document page -----------------------------------------------------

/// Renders SRS `sid` of project `pid` into `root`.
export function mountSrs(root, pid, sid, signal) {
  const base = `/api/v1/srs/${enc(sid)}`;
  const viewer = isViewer();
  const projectCrumb = h("a", { href: `#/projects/${enc(pid)}` }, "Project");
  const crumb = h("span", {});
  const heading = h("h1", { id: "srs-doc-title", class: "grow" }, "Requirements");
  const version = h("span", { id: "srs-version", class: "badge", dataset: { testid: "srs-version" } });
  const score = h("span", { id: "srs-lint", class: "badge", dataset: { testid: "lint-score" } });
  const exports = h(
    "nav",
    { class: "row export-links", "aria-label": "Export" },
    h("span", { class: "muted" }, "Export:"),
    ...EXPORTS.map(([format, label]) =>
      h("a", { class: "button secondary small", href: `${base}/export?format=${enc(format)}`, download: "", dataset: { testid: `export-${format.replace(".", "-")}` } }, label),
    ),
  );
  const extras = h("div", { class: "stack" }); // clarifications and document-wide findings
  const sections = h("div", { id: "srs-sections", class: "stack", "aria-busy": "true" });
  const history = historyCard(base, signal);
  let doc = null;
  let readOnly = true;
  const documentNames = new Map();
  const outlineKinds = new Map(); // section key → the current template's section

  root.replaceChildren(
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Projects"), " / ", projectCrumb, " / ", crumb),
    h("div", { class: "row srs-head" }, heading, version, score),
    exports,
    h("div", { class: "srs-grid" }, h("div", { class: "stack" }, extras, sections), history.element),
  );

  async function load() {
    try {
      const d = await api("GET", base, undefined, signal);
      readOnly = await viewer;
      render(d);
    } catch (err) {
      showError(err);
    }
  }

  /// Shows document `d` (a fresh GET or the answer to an edit); `focusId`
  /// is a requirement whose Edit button gets the focus back.
  function render(d, focusId) {
    const changed = doc && doc.version !== d.version;
    doc = d;
    heading.textContent = d.title || "Untitled SRS";
    crumb.textContent = d.title || "SRS";
    document.title = `${d.title || "SRS"} · BA Copilot`;
    version.textContent = `Version ${d.version}`;
    version.dataset.version = d.version;
    const s = d.lint ? d.lint.score : null;
    score.textContent = s === null ? "Not linted" : `Lint ${s}/100`;
    score.className = `badge lint-score ${s === null ? "" : s >= 80 ? "good" : s >= 50 ? "fair" : "poor"}`;
    score.dataset.score = s ?? "";
    extras.replaceChildren(clarificationsCard(d.clarifications || []), documentFindings(d));
    sections.replaceChildren(...d.sections.map(sectionCard));
    sections.setAttribute("aria-busy", "false");
    if (changed) history.load();
    if (focusId) {
      const card = [...sections.querySelectorAll("[data-testid=requirement]")].find((c) => c.dataset.id === focusId);
      (card?.querySelector("[data-testid=edit-requirement]") || card)?.focus();
    }
  }

  function documentFindings(d) {
    const ids = new Set(d.sections.flatMap((s) => s.requirements.map((r) => r.id)));
    const keys = new Set(d.sections.map((s) => s.key));
    // Findings about a requirement or a section's text show where they point.
    const loose = (d.lint?.findings || []).filter((f) => (f.requirement_id ? !ids.has(f.requirement_id) : !keys.has(f.section)));
    if (!loose.length) return null;
    return h("section", { class: "card", "aria-label": "Findings about the whole document" }, h("ul", { class: "findings" }, ...loose.map(findingItem)));
  }

  function sectionCard(s) {
    const titleId = nextId("section");
    const sectionFindings = (doc.lint?.findings || []).filter((f) => !f.requirement_id && f.section === s.key);
    const kind = sectionKind(s, outlineKinds.get(s.key));
    const body = s.requirements.length ? h("div", { class: "stack requirements" }, ...s.requirements.map(requirementCard)) : null;
    const empty = kind === "requirements" && !body ? h("p", { class: "muted" }, "No requirements in this section.") : null;
    const job = h("div", { class: "job row", hidden: true });
    const formSlot = h("div", {});
    let tools = null;
    if (!readOnly && (kind === "requirements" || kind === "text")) {
      const add = h("button", { type: "button", class: "small", dataset: { testid: "add-requirement" } }, "Add requirement");
      const regenerate = h("button", { type: "button", class: "small", dataset: { testid: "regenerate-section" } }, "Regenerate section");
      add.addEventListener("click", () => {
        add.disabled = true;
        const blank = { title: "", statement: "", rationale: "", priority: "should", verification: "test", acceptance_criteria: [] };
        const form = requirementForm(blank, "Add", async (values) => {
          const d = await api("POST", `${base}/requirements`, { section: s.key, ...values }, signal);
          render(d);
        }, () => {
          form.remove();
          add.disabled = false;
          add.focus();
        });
        formSlot.replaceChildren(form);
        form.querySelector("input")?.focus();
      });
      regenerate.addEventListener("click", async () => {
        const question = `Regenerate section ${s.key} "${s.title}"? Its text and requirements are replaced by a new draft (with new requirement ids); the current version stays in the history.`;
        if (!(await confirmDialog(question, "Regenerate"))) return;
        regenerate.disabled = true;
        try {
          const { job_id } = await api("POST", `${base}/sections/${enc(s.key)}/regenerate`, {}, signal);
          const done = await runJob(job, job_id, `Regenerating section ${s.key}`, signal);
          if (done.status === "succeeded") await load();
          else jobFailed(job, done, "Regeneration");
        } catch (err) {
          showError(err);
        } finally {
          regenerate.disabled = false;
        }
      });
      tools = h("div", { class: "row section-tools" }, kind === "requirements" ? add : null, regenerate);
    }
    return h(
      "section",
      { class: `card srs-section ${kind}`, "aria-labelledby": titleId, dataset: { testid: "srs-section", key: s.key } },
      h("h2", { id: titleId }, h("span", { class: "section-key" }, s.key), " ", s.title),
      s.text ? h("p", { class: "section-text", dataset: { testid: "section-text" } }, ...markedStatement(s.text, sectionFindings)) : null,
      sectionFindings.length
        ? h("ul", { class: "findings", dataset: { testid: "section-findings" }, "aria-label": `Findings about section ${s.key}` }, ...sectionFindings.map(findingItem))
        : null,
      body,
      empty,
      job,
      tools,
      formSlot,
    );
  }

  function requirementCard(r) {
    const titleId = nextId("requirement");
    const findings = (doc.lint?.findings || []).filter((f) => f.requirement_id === r.id);
    const view = h(
      "div",
      { class: "requirement-view" },
      h("p", { class: "statement", dataset: { testid: "statement" } }, ...markedStatement(r.statement || "", findings)),
      findings.length ? h("ul", { class: "findings", dataset: { testid: "findings" }, "aria-label": `Findings about ${r.id}` }, ...findings.map(findingItem)) : null,
      h("dl", { class: "facts" },
        fact("Priority", h("span", { class: `badge priority ${r.priority}`, dataset: { testid: "priority" } }, PRIORITIES[r.priority] || r.priority)),
        fact("Verification", VERIFICATIONS[r.verification] || r.verification),
        fact("Status", h("span", { class: `badge req-status ${r.status}`, dataset: { testid: "status" } }, STATUSES[r.status] || r.status)),
      ),
      r.rationale ? h("p", { class: "rationale" }, h("strong", {}, "Rationale: "), r.rationale) : null,
      r.acceptance_criteria?.length
        ? h("div", {}, h("h4", {}, "Acceptance criteria"), h("ol", { class: "criteria", dataset: { testid: "criteria" } }, ...r.acceptance_criteria.map(criterionItem)))
        : null,
      r.assumption
        ? h("p", { class: "assumption", dataset: { testid: "assumption" } }, h("span", { class: "badge assumption-badge" }, "Assumption"), " ", r.assumption)
        : null,
      r.sources?.length
        ? h("div", {}, h("h4", {}, "Source"), h("ul", { class: "req-sources", dataset: { testid: "requirement-sources" } }, ...r.sources.map((src) =>
          h("li", {}, h("span", { class: "muted", dataset: { testid: "source-name" } }, sourceName(src)), h("blockquote", { class: "quote", dataset: { testid: "source-quote" } }, src.quote)))))
        : r.assumption
          ? null
          : h("p", { class: "assumption unsourced", dataset: { testid: "no-source" } }, h("span", { class: "badge assumption-badge" }, "No source"), " Neither a source sentence nor an assumption supports this requirement."),
    );
    const head = h("div", { class: "row requirement-head" }, h("code", { class: "requirement-id" }, r.id), h("h3", { id: titleId, class: "grow" }, r.title || "Untitled requirement"));
    const card = h("article", { class: "requirement", tabindex: -1, "aria-labelledby": titleId, dataset: { testid: "requirement", id: r.id } }, head, view);
    if (readOnly) return card;

    const edit = h("button", { type: "button", class: "small", dataset: { testid: "edit-requirement" }, "aria-label": `Edit ${r.id}` }, "Edit");
    const del = h("button", { type: "button", class: "danger small", dataset: { testid: "delete-requirement" }, "aria-label": `Delete ${r.id}` }, "Delete");
    head.append(edit, del);
    edit.addEventListener("click", () => {
      edit.disabled = true;
      view.hidden = true;
      const form = requirementForm(r, "Save", async (values) => {
        const patch = {};
        for (const [k, v] of Object.entries(values)) if (JSON.stringify(v) !== JSON.stringify(r[k] ?? "")) patch[k] = v;
        if (!Object.keys(patch).length) return close();
        render(await api("PATCH", `${base}/requirements/${enc(r.id)}`, { ...patch, base_version: doc.version }, signal), r.id);
      }, close);
      function close() {
        form.remove();
        view.hidden = false;
        edit.disabled = false;
        edit.focus();
      }
      card.append(form);
      form.querySelector("textarea")?.focus();
    });
    del.addEventListener("click", async () => {
      if (!(await confirmDialog(`Delete requirement ${r.id} "${r.title}"? Its id is not reused.`))) return;
      try {
        render(await api("DELETE", `${base}/requirements/${enc(r.id)}?base_version=${doc.version}`, undefined, signal));
      } catch (err) {
        showError(err);
      }
    });
    return card;
  }

  /// Where a requirement's sentence came from: a document, the brief or an answer.
  function sourceName(src) {
    if (src.document_id === "brief") return "Brief";
    if (src.document_id === "clarifications") return "Clarifications";
    return documentNames.get(src.document_id) || "Document";
  }

  api("GET", `/api/v1/projects/${enc(pid)}`, undefined, signal).then((p) => (projectCrumb.textContent = p.name), showError);
  // Sources name their document by id; the names make the quotes readable.
  const names = api("GET", `/api/v1/projects/${enc(pid)}/documents`, undefined, signal).then(
    ({ data }) => data.forEach((d) => documentNames.set(d.id, d.name)),
    () => {}, // quotes still show without their document's name
  );
  // Sections do not say what they hold; the outline does (see sectionKind).
  const outline = api("GET", "/api/v1/srs-template", undefined, signal).then(
    (t) => t.outline.sections.forEach((o) => outlineKinds.set(o.key, o)),
    () => {},
  );
  Promise.all([names, outline]).then(load);
  history.load();
}

/// What a section holds: its own `kind` if the server names it, else the
/// template's for the same key and title (the template may have changed since
/// the document was written), else a guess. Only requirements sections take
/// new requirements; only text and requirements sections are regenerated.
function sectionKind(s, templateSection) {
  if (s.kind) return s.kind;
  if (templateSection && templateSection.title === s.title) return templateSection.kind;
  if (s.requirements.length) return "requirements";
  return s.text ? "text" : "heading";
}

/// The statement with each linter finding's span in a <mark>. Spans count
/// Unicode code points (the server's `chars()`), so the text is split by
/// code point, not by UTF-16 unit.
function markedStatement(statement, findings) {
  const chars = Array.from(statement);
  const clamp = (n) => Math.max(0, Math.min(chars.length, Number(n) || 0));
  const spans = findings.filter((f) => f.span).map((f) => ({ f, start: clamp(f.span.start), end: clamp(f.span.end) })).filter((s) => s.end > s.start);
  const cuts = [...new Set([0, chars.length, ...spans.flatMap((s) => [s.start, s.end])])].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [a, b] = [cuts[i], cuts[i + 1]];
    const text = chars.slice(a, b).join("");
    const over = spans.filter((s) => s.start <= a && s.end >= b).map((s) => s.f);
    if (!over.length) {
      out.push(text);
      continue;
    }
    const worst = over.map((f) => f.severity).sort((x, y) => (SEVERITY_RANK[x] ?? 3) - (SEVERITY_RANK[y] ?? 3))[0];
    out.push(h("mark", { class: `lint ${worst}`, title: over.map((f) => f.message).join("\n"), dataset: { rule: over.map((f) => f.rule).join(" ") } }, text));
  }
  return out;
}

function findingItem(f) {
  return h(
    "li",
    { class: `finding ${f.severity}`, dataset: { testid: "finding", rule: f.rule } },
    h("span", { class: "severity" }, f.severity),
    " ",
    f.message,
    " ",
    h("code", { class: "muted" }, f.rule),
  );
}

function fact(label, value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, value));
}

function criterionItem(c) {
  return h("li", {}, h("strong", {}, "Given "), c.given, h("strong", {}, " when "), c.when, h("strong", {}, " then "), c.then);
}

function clarificationsCard(items) {
  const answered = items.filter((c) => c.answer);
  if (!answered.length) return null;
  return h(
    "details",
    { class: "card clarifications-used" },
    h("summary", {}, `Clarifications used (${answered.length})`),
    h("dl", {}, ...answered.flatMap((c) => [h("dt", {}, c.question), h("dd", {}, c.answer)])),
  );
}

/// A form for a requirement's fields, filled from `r`. `onSubmit(values)`
/// sends them (errors are shown and the form stays); `onCancel()` closes it.
function requirementForm(r, submitLabel, onSubmit, onCancel) {
  const field = (label, control) => h("div", { class: "field" }, h("label", { for: control.id }, label), control);
  const select = (id, testid, options, value) => {
    const s = h("select", { id, dataset: { testid } }, ...Object.entries(options).map(([v, label]) => h("option", { value: v }, label)));
    if (value && !(value in options)) s.append(h("option", { value }, value));
    s.value = value;
    return s;
  };
  const title = h("input", { id: nextId("req-title"), value: r.title || "", required: true, maxlength: 200, dataset: { testid: "edit-title" } });
  const statement = h("textarea", { id: nextId("req-statement"), rows: 3, required: true, dataset: { testid: "edit-statement" } });
  statement.value = r.statement || "";
  const rationale = h("textarea", { id: nextId("req-rationale"), rows: 2, dataset: { testid: "edit-rationale" } });
  rationale.value = r.rationale || "";
  const priority = select(nextId("req-priority"), "edit-priority", PRIORITIES, r.priority);
  const verification = select(nextId("req-verification"), "edit-verification", VERIFICATIONS, r.verification);
  const status = r.status ? select(nextId("req-status"), "edit-status", STATUSES, r.status) : null;
  const criteria = criteriaEditor(r.acceptance_criteria || []);
  const save = h("button", { type: "submit", class: "primary", dataset: { testid: "save-requirement" } }, submitLabel);
  const cancel = h("button", { type: "button", dataset: { testid: "cancel-edit" }, on: { click: onCancel } }, "Cancel");
  const form = h(
    "form",
    { class: "requirement-form stack", "aria-label": r.id ? `Edit ${r.id}` : "New requirement", dataset: { testid: "requirement-form" } },
    field("Title", title),
    field("Statement", statement),
    field("Rationale", rationale),
    h("div", { class: "row" }, field("Priority", priority), field("Verification", verification), status ? field("Status", status) : null),
    criteria.element,
    h("div", { class: "row" }, save, cancel),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!title.value.trim()) return title.focus();
    if (!statement.value.trim()) return statement.focus();
    const values = {
      title: title.value.trim(),
      statement: statement.value.trim(),
      rationale: rationale.value.trim(),
      priority: priority.value,
      verification: verification.value,
      acceptance_criteria: criteria.value(),
    };
    if (status) values.status = status.value;
    save.disabled = true;
    try {
      await onSubmit(values);
    } catch (err) {
      showError(err.status === 409 ? new Error(`${err.message} Reload the page to see the newer version.`) : err);
      save.disabled = false;
    }
  });
  return form;
}

/// Given/When/Then rows with add and remove; value() drops empty rows.
function criteriaEditor(initial) {
  const rows = h("ol", { class: "criteria-edit" });
  const add = (c = { given: "", when: "", then: "" }) => {
    const parts = ["given", "when", "then"].map((k) => {
      const id = nextId(`criterion-${k}`);
      return h("div", { class: "field grow" }, h("label", { for: id }, k[0].toUpperCase() + k.slice(1)), h("input", { id, value: c[k] || "", dataset: { part: k } }));
    });
    const remove = h("button", { type: "button", class: "small", "aria-label": "Remove this criterion" }, "Remove");
    const row = h("li", { class: "row criterion-row" }, ...parts, remove);
    remove.addEventListener("click", () => row.remove());
    rows.append(row);
    return row;
  };
  initial.forEach((c) => add(c));
  const more = h("button", { type: "button", class: "small" }, "Add criterion");
  more.addEventListener("click", () => add().querySelector("input").focus());
  return {
    element: h("fieldset", { class: "criteria-fieldset" }, h("legend", {}, "Acceptance criteria"), rows, more),
    value: () =>
      [...rows.children]
        .map((row) => Object.fromEntries([...row.querySelectorAll("input")].map((i) => [i.dataset.part, i.value.trim()])))
        .filter((c) => c.given || c.when || c.then),
  };
}

// ---- versions and diffs -----------------------------------------------------

/// The version list and the compare form of the SRS at `base`.
function historyCard(base, signal) {
  return versionHistory(base, signal, {
    ids: { card: "srs-history", title: "srs-history-title", list: "srs-versions", out: "srs-diff", from: "diff-from", to: "diff-to", show: "diff-show" },
    testids: { list: "versions", item: "version", from: "diff-from", to: "diff-to", show: "diff-show" },
    picker: true,
    note: (v) => v.note,
    renderDiff,
  });
}

function renderDiff(d) {
  const show = (v) => {
    if (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)) return "(none)";
    if (typeof v === "string") return v;
    if (Array.isArray(v) && v.every((c) => c && "given" in c)) return v.map((c) => `Given ${c.given} when ${c.when} then ${c.then}`).join("\n");
    if (Array.isArray(v) && v.every((c) => c && "quote" in c)) return v.map((c) => `“${c.quote}”`).join("\n");
    return JSON.stringify(v);
  };
  const change = (label, from, to) => h("li", {}, h("span", { class: "diff-field" }, label), h("del", {}, show(from)), h("ins", {}, show(to)));
  const req = (x) => `${x.requirement.id} (${x.section}) ${x.requirement.title}: ${x.requirement.statement}`;
  const group = (title, items) => (items.length ? h("div", {}, h("h3", {}, title), h("ul", { class: "diff-list" }, ...items)) : null);
  const added = (d.added || []).map((x) => h("li", { class: "diff-added" }, h("ins", {}, req(x))));
  const removed = (d.removed || []).map((x) => h("li", { class: "diff-removed" }, h("del", {}, req(x))));
  const changed = (d.changed || []).map((c) => h("li", {}, h("code", {}, c.id), h("ul", { class: "diff-fields" }, ...c.fields.map((f) => change(f.field, f.from, f.to)))));
  const sections = (d.sections || []).map((s) => change(`${s.key} ${s.field}`, s.from, s.to));
  const title = d.title ? [change("title", d.title.from, d.title.to)] : [];
  const empty = !added.length && !removed.length && !changed.length && !sections.length && !title.length;
  return h(
    "div",
    { class: "diff", dataset: { testid: "diff", from: d.from, to: d.to } },
    h("p", { class: "meta" }, `Changes from v${d.from} to v${d.to}`),
    empty ? h("p", { class: "muted" }, "No differences.") : null,
    group("Title", title),
    group("Added", added),
    group("Removed", removed),
    group("Changed", changed),
    group("Sections", sections),
  );
}
