// The version-history card of a versioned document (an SRS document, a
// wireframe): its versions newest first, each with what made it and a
// "changes" button, an optional From/to compare form, and the diff between
// two versions, drawn by the document's own `renderDiff`. One card for both,
// since the API gives both the same `/versions` and `/diff?from=&to=`.

import { api } from "./api.js";
import { h, showError, formatDate } from "./ui.js";

const enc = encodeURIComponent;

/// The card for the document at `base` (e.g. `/api/v1/srs/{sid}`).
/// `o.ids` names the elements (`card`, `title`, `list`, `out`, and `from`,
/// `to`, `show` with `o.picker`); `o.testids` the test hooks (`list`,
/// `item`, and `from`, `to`, `show`); `o.note(v)` is what made version `v`.
/// `load(latest)` lists the versions, and with `latest` shows the newest
/// version's changes.
export function historyCard(base, signal, o) {
  const list = h("ol", { id: o.ids.list, class: "versions", dataset: { testid: o.testids.list } });
  const out = h("div", { id: o.ids.out, "aria-live": "polite" });
  const picker = o.picker ? comparePicker(o, (a, b) => compare(a, b)) : null;
  const element = h(
    "aside",
    { id: o.ids.card, class: "card", "aria-labelledby": o.ids.title },
    h("h2", { id: o.ids.title }, "Version history"),
    list,
    picker?.form,
    out,
  );

  async function load(latest) {
    try {
      const { data } = await api("GET", `${base}/versions`, undefined, signal);
      const versions = [...data].sort((a, b) => b.version - a.version);
      list.replaceChildren(...versions.map((v) => {
        const previous = versions.find((x) => x.version < v.version);
        const changes = previous ? h("button", { type: "button", class: "link-button", "aria-label": `Changes in version ${v.version}` }, "changes") : null;
        changes?.addEventListener("click", () => compare(previous.version, v.version));
        return h(
          "li",
          { dataset: { testid: o.testids.item, version: v.version } },
          h("strong", {}, `v${v.version}`), " ", o.note(v) || "", " ",
          h("span", { class: "meta" }, formatDate(v.created_at)), " ", changes,
        );
      }));
      picker?.offer(versions);
      if (latest && versions.length > 1) compare(versions[1].version, versions[0].version);
    } catch (err) {
      showError(err);
    }
  }

  async function compare(a, b) {
    picker?.pick(a, b);
    out.setAttribute("aria-busy", "true");
    try {
      out.replaceChildren(o.renderDiff(await api("GET", `${base}/diff?from=${enc(a)}&to=${enc(b)}`, undefined, signal)));
    } catch (err) {
      showError(err);
    } finally {
      out.setAttribute("aria-busy", "false");
    }
  }

  return { element, load };
}

/// The From/to form that compares any two versions; hidden until there are two.
function comparePicker(o, compare) {
  const from = h("select", { id: o.ids.from, dataset: { testid: o.testids.from } });
  const to = h("select", { id: o.ids.to, dataset: { testid: o.testids.to } });
  const form = h(
    "form",
    { class: "row diff-form", "aria-label": "Compare versions" },
    h("label", { for: o.ids.from }, "From"), from,
    h("label", { for: o.ids.to }, "to"), to,
    h("button", { type: "submit", id: o.ids.show, dataset: { testid: o.testids.show } }, "Compare"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    compare(from.value, to.value);
  });
  return {
    form,
    offer(versions) {
      const option = (v) => h("option", { value: v.version }, `v${v.version}`);
      from.replaceChildren(...versions.map(option));
      to.replaceChildren(...versions.map(option));
      if (versions.length) to.value = versions[0].version;
      if (versions.length) from.value = versions[Math.min(1, versions.length - 1)].version;
      form.hidden = versions.length < 2;
    },
    pick(a, b) {
      from.value = a;
      to.value = b;
    },
  };
}
