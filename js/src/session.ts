// The calling session (phone.queue(...) in the kernel): the lead on the card and the next one,
// "12 of 340", Call, Skip, Pause and "Call back at…" (the lead's local time); after a call, the
// outcome and a note, saved before the next call; optionally a countdown to dial the next lead
// that the user can cancel. The kernel writes the `session` trait; every control is a command.

import { h, replaceChildren } from "./dom";
import type { RegionContext } from "./region";
import type { OutcomeChoice, SessionLead, SessionView } from "./types";

export function sessionView(ctx: RegionContext): HTMLElement {
  const { act, scope, uid } = ctx;
  const current = (): SessionView | null => act.get("session");
  const progress = h("span", { className: "twp-session-progress", "data-testid": "session-progress" });
  const state = h("span", { className: "twp-session-state", "data-testid": "session-state", "aria-live": "polite" });
  const card = h("div", { className: "twp-session-lead", "data-testid": "session-lead" });
  const next = h("p", { className: "twp-session-next", "data-testid": "session-next" });
  const callButton = button("Call lead", "Call", () => void act.run("cmd_session_call"));
  const skipButton = button("Skip lead", "Skip", () => void act.run("cmd_session_skip"));
  const pauseButton = button("Pause session", "Pause", () =>
    void act.run("cmd_session_pause", { paused: current()?.status !== "paused" }));
  const callbackTime = h("input", {
    type: "datetime-local", className: "twp-session-callback-time", "aria-label": "Call back at (lead's time)",
  }) as HTMLInputElement;
  const callbackButton = button("Book call-back", "Call back", () => {
    const choice = current()?.outcomes.find((o) => o.callback);
    if (choice && callbackTime.value) void act.run("cmd_session_outcome", { outcome: choice.name, callback_at: callbackTime.value });
  });
  const countdown = autodial(ctx, () => current());
  const outcome = outcomeForm(ctx, () => current());
  const controls = h("div", { className: "twp-session-controls" }, callButton, skipButton, pauseButton);
  const callback = h("div", { className: "twp-session-callback" }, callbackTime, callbackButton);
  const el = h("section", {
    className: "twp-session", role: "region", "aria-label": "Calling session", "data-testid": "session",
    "aria-describedby": uid("session-state"),
  }, h("div", { className: "twp-session-head" }, progress, state), card, next, controls, callback,
  countdown.element, outcome.element);
  state.id = uid("session-state");

  scope.watch(["session", "call"], () => {
    const view = current();
    el.hidden = !view;
    if (!view) return;
    el.dataset.status = view.status;
    progress.textContent = view.total ? `${view.position} of ${view.total}` : "No leads";
    state.textContent = stateText(view);
    replaceChildren(card, view.lead ? leadCard(view.lead) : h("p", { className: "twp-empty-note" }, emptyText(view)));
    next.textContent = view.next ? `Next: ${view.next.name} · ${view.next.display}` : "";
    next.hidden = !view.next;
    const idle = view.status === "ready";
    callButton.disabled = !idle || !view.lead;
    skipButton.disabled = !(idle || (view.status === "outcome" && !view.require_outcome)) || !view.lead;
    pauseButton.disabled = view.status === "calling" || view.status === "outcome";
    pauseButton.textContent = view.status === "paused" ? "Resume" : "Pause";
    pauseButton.setAttribute("aria-label", view.status === "paused" ? "Resume session" : "Pause session");
    callback.hidden = !idle || !view.lead || !view.outcomes.some((o) => o.callback);
    outcome.draw(view);
    countdown.follow(view);
  });
  return el;
}

function button(label: string, text: string, onclick: () => void): HTMLButtonElement {
  return h("button", { className: "twp-session-button", type: "button", "aria-label": label, onclick }, text) as HTMLButtonElement;
}

function leadCard(lead: SessionLead): HTMLElement {
  const fields = Object.entries(lead.fields).filter(([, v]) => v !== null && v !== "");
  return h("div", { className: "twp-session-card", "data-key": lead.key },
    h("strong", { className: "twp-session-name", "data-testid": "session-lead-name" }, lead.name),
    h("span", { className: "twp-session-number" }, `${lead.display} · ${lead.field}`),
    h("span", { className: "twp-session-clock", "data-testid": "session-lead-clock" }, clockText(lead)),
    lead.attempts ? h("span", { className: "twp-session-attempts" }, `${lead.attempts} attempt${lead.attempts > 1 ? "s" : ""}`) : null,
    fields.length ? h("dl", { className: "twp-session-fields" },
      fields.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))])) : null);
}

/** The lead's own wall clock (the kernel sends it without an offset, in the lead's zone). */
export function clockText(lead: SessionLead): string {
  const time = lead.local_time ? lead.local_time.slice(11, 16) : "";
  const when = time ? `${time} their time (${lead.zone})` : lead.zone;
  return lead.callback_at ? `${when} · call-back booked` : when;
}

export function stateText(view: SessionView): string {
  switch (view.status) {
    case "calling": return "Calling…";
    case "outcome": return view.require_outcome ? "How did it go? Save the outcome to go on." : "How did it go?";
    case "paused": return "Paused";
    case "done": return "No lead to call now";
    default: return "Ready";
  }
}

function emptyText(view: SessionView): string {
  if (view.next_due) return `Every lead is done or waiting; the next falls due at ${new Date(view.next_due).toLocaleString()}.`;
  return view.total ? "Every lead in the queue is done." : "The queue has no leads with a number to call.";
}

interface Part {
  element: HTMLElement;
}

/** After a call: pick an outcome (the call's own suggestion first), add a note, save. */
function outcomeForm({ act, uid }: RegionContext, current: () => SessionView | null): Part & { draw: (v: SessionView) => void } {
  let chosen = "";
  let forCall = "";
  const choices = h("div", { className: "twp-outcomes", role: "radiogroup", "aria-label": "Outcome" });
  const note = h("textarea", { className: "twp-outcome-note", "aria-label": "Note", rows: 2 }) as HTMLTextAreaElement;
  const when = h("input", { type: "datetime-local", className: "twp-outcome-callback", "aria-label": "Call back time (lead's time)" }) as HTMLInputElement;
  const save = h("button", { className: "twp-session-button twp-save-outcome", type: "button", "aria-label": "Save outcome" }, "Save") as HTMLButtonElement;
  const element = h("form", { className: "twp-outcome-form", "aria-label": "Call outcome", onsubmit: (e: Event) => e.preventDefault() },
    choices, note, when, save);
  const needsTime = (view: SessionView | null) => !!view?.outcomes.find((o) => o.name === chosen)?.callback;
  const sync = () => {
    const view = current();
    when.hidden = !needsTime(view);
    save.disabled = !chosen || (needsTime(view) && !when.value);
    for (const input of choices.querySelectorAll<HTMLInputElement>("input")) input.checked = input.value === chosen;
  };
  save.addEventListener("click", async () => {
    const response = await act.run("cmd_session_outcome", {
      outcome: chosen, note: note.value, ...(needsTime(current()) ? { callback_at: when.value } : {}),
    });
    if (response?.ok) {
      note.value = "";
      when.value = "";
    }
  });
  when.addEventListener("input", sync);
  const draw = (view: SessionView) => {
    element.hidden = view.status !== "outcome";
    if (view.call_sid !== forCall || !chosen) { // a new call: start from its suggestion
      forCall = view.call_sid;
      chosen = view.suggested;
    }
    replaceChildren(choices, view.outcomes.map((o) => choice(o, uid, (name) => { chosen = name; sync(); })));
    sync();
  };
  return { element, draw };
}

function choice(outcome: OutcomeChoice, uid: (n: string) => string, pick: (name: string) => void): HTMLElement {
  const id = uid(`outcome-${outcome.name.replace(/\W+/g, "-")}`);
  return h("label", { className: "twp-outcome", for: id },
    h("input", { type: "radio", id, name: uid("outcome"), value: outcome.name, onchange: () => pick(outcome.name) }),
    outcome.label);
}

/** Dial the next lead after a countdown the user can cancel (when the session asks for one). */
function autodial({ act, scope }: RegionContext, current: () => SessionView | null): Part & { follow: (v: SessionView) => void } {
  let seen = current()?.countdown ?? 0; // a panel drawn later never dials by itself
  let timer: ReturnType<typeof setInterval> | undefined;
  const text = h("span", { className: "twp-countdown-text", "data-testid": "countdown" });
  const cancel = h("button", { className: "twp-session-button", type: "button", "aria-label": "Cancel automatic call", onclick: () => stop() }, "Cancel");
  const element = h("div", { className: "twp-countdown", role: "status" }, text, cancel);
  element.hidden = true;
  const stop = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    element.hidden = true;
  };
  scope.own(stop);
  const start = (view: SessionView) => {
    stop();
    let left = Math.ceil(view.autodial ?? 0);
    const key = view.lead?.key;
    const tick = () => {
      const now = current();
      if (!now || now.status !== "ready" || now.lead?.key !== key) return stop();
      if (left <= 0) {
        stop();
        void act.run("cmd_session_call");
        return;
      }
      text.textContent = `Calling ${now.lead?.name ?? "the next lead"} in ${left} s`;
      left -= 1;
    };
    element.hidden = false;
    tick();
    timer = setInterval(tick, 1000);
  };
  const follow = (view: SessionView) => {
    if (view.countdown > seen && view.autodial && view.status === "ready" && view.lead) start(view);
    else if (view.status !== "ready") stop();
    seen = view.countdown;
  };
  return { element, follow };
}
