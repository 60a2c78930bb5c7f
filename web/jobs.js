// A running job shown on a page: its progress bar, its message (announced
// politely) and a Cancel button; and how a job that did not succeed is said.

import { api, followJob } from "./api.js";
import { h, showError } from "./ui.js";

const enc = encodeURIComponent;

/// A progress bar, its message (announced politely) and a Cancel button for
/// job `jid`, shown in `slot`; resolves to the finished job. `ids` names the
/// elements for the New SRS form ({bar, message, cancel}).
export function runJob(slot, jid, label, signal, ids = {}) {
  const bar = h("progress", { id: ids.bar, max: 1, "aria-label": label, dataset: { testid: "job-progress" } });
  const message = h("span", { id: ids.message, class: "job-message grow", role: "status", dataset: { testid: "job-message" } }, "Waiting for the model…");
  const cancel = h("button", { type: "button", id: ids.cancel, class: "small", dataset: { testid: "job-cancel" } }, "Cancel");
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      await api("DELETE", `/api/v1/jobs/${enc(jid)}`, undefined, signal);
      message.textContent = "Cancelling…";
    } catch (err) {
      showError(err);
      cancel.disabled = false;
    }
  });
  slot.replaceChildren(bar, message, cancel);
  slot.hidden = false;
  const update = (j) => {
    if (j.progress > 0) bar.value = j.progress; // indeterminate until then
    if (j.status === "queued") message.textContent = "Waiting for the model…";
    else message.textContent = j.message || `Working… ${Math.round((j.progress || 0) * 100)}%`;
  };
  return followJob(jid, update, signal).finally(() => cancel.remove());
}

/// A job that did not succeed, said in `slot` and, when it failed, in the
/// alert region.
export function jobFailed(slot, done, what) {
  const text = done.status === "cancelled" ? `${what} cancelled.` : done.message || `${what} failed.`;
  const message = slot.querySelector(".job-message");
  if (message) message.textContent = text;
  if (done.status === "failed") showError(new Error(text));
}
