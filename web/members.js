// A project's members: who besides administrators may open it, with add and
// remove for those allowed to manage it.

import { api } from "./api.js";
import { h, showError, formatDate, dataTable, emptyRow } from "./ui.js";

const enc = encodeURIComponent;

/// The "Members" card of project `pid`. Returns {element, load(), readOnly()}:
/// readOnly() takes the add and remove controls away (viewers). A 403 on the
/// list hides the whole card.
export function membersCard(pid, signal) {
  const base = `/api/v1/projects/${enc(pid)}/members`;
  const rows = h("tbody", { id: "member-rows" });
  const name = h("input", { id: "member-name", name: "name", required: true, autocomplete: "off", dataset: { testid: "member-name" } });
  const add = h("button", { type: "submit", id: "member-add", dataset: { testid: "member-add" } }, "Add");
  const form = h(
    "form",
    { id: "member-form", class: "member-form", "aria-label": "Add a member" },
    h("label", { for: "member-name" }, "Add a member by user name"),
    h("div", { class: "row" }, h("div", { class: "grow" }, name), add),
  );
  const element = h(
    "section",
    { id: "members", class: "card", "aria-labelledby": "members-title", dataset: { testid: "members" } },
    h("h2", { id: "members-title" }, "Members"),
    dataTable({ id: "member-table", dataset: { testid: "member-table" } }, ["Name", "Role", "Added", ""], rows),
    form,
  );
  let manage = true;

  async function load() {
    try {
      const { data } = await api("GET", base, undefined, signal);
      rows.replaceChildren(...data.map(memberRow));
      if (!data.length) rows.append(emptyRow(4, "No members besides administrators."));
    } catch (err) {
      if (err.status === 403) element.hidden = true; // not ours to see
      else showError(err);
    }
  }

  function memberRow(m) {
    let remove = null;
    if (manage) {
      remove = h("button", { type: "button", class: "danger small member-remove", dataset: { testid: "member-remove" }, "aria-label": `Remove ${m.name} from this project` }, "Remove");
      remove.addEventListener("click", async () => {
        remove.disabled = true;
        try {
          await api("DELETE", `${base}/${enc(m.user_id)}`, undefined, signal);
          await load();
        } catch (err) {
          showError(err);
          remove.disabled = false;
        }
      });
    }
    return h(
      "tr",
      { dataset: { testid: "member-row", userId: m.user_id, name: m.name } },
      h("th", { scope: "row" }, m.name),
      h("td", {}, m.role || ""),
      h("td", {}, formatDate(m.added_at)),
      h("td", {}, remove),
    );
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!name.value.trim()) return name.focus();
    add.disabled = true;
    try {
      await api("POST", base, { name: name.value.trim() }, signal);
      name.value = "";
      await load();
    } catch (err) {
      showError(err);
    } finally {
      add.disabled = false;
    }
  });

  function readOnly() {
    manage = false;
    form.remove();
    for (const b of rows.querySelectorAll(".member-remove")) b.remove();
  }

  return { element, load, readOnly };
}
