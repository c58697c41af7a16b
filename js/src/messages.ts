// The Messages tab: the thread with the selected number and a box to write in. The default
// look shows this same region under its Text button.

import { h, replaceChildren } from "./dom";
import { formatWhen } from "./format";
import { VOCABULARY } from "./vocabulary";
import type { RegionContext } from "./region";
import type { ThreadRow } from "./types";

export function messages(ctx: RegionContext): HTMLElement {
  const { act, scope } = ctx;
  const thread = h("ol", { className: "twp-thread", "aria-label": "Messages" });
  const compose = h("textarea", {
    className: "twp-compose", rows: 2, maxlength: VOCABULARY.limits.max_body_chars, placeholder: "Write a message…",
    "aria-label": "Message text",
    onkeydown: (e: Event) => {
      const key = e as KeyboardEvent;
      if (key.key === "Enter" && !key.shiftKey) {
        key.preventDefault();
        void send();
      }
    },
  }) as HTMLTextAreaElement;
  const sendButton = h("button", {
    className: "twp-send", type: "button", "aria-label": "Send message", onclick: () => void send(),
  }, "Send") as HTMLButtonElement;

  // The text stays in the box until the kernel took it: a refused message can be fixed.
  const send = async () => {
    sendButton.disabled = true;
    const sent = await act.send(compose.value);
    sendButton.disabled = false;
    if (sent) compose.value = "";
  };

  scope.watch(["thread"], () => {
    const rows = act.get("thread");
    const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 24;
    if (rows.length) replaceChildren(thread, rows.map(messageRow));
    else replaceChildren(thread, h("li", { className: "twp-empty-note" }, "No messages yet."));
    if (atBottom) thread.scrollTop = thread.scrollHeight;
  });

  return h("section", {
    className: "twp-tab-panel twp-messages", "data-tab": "messages", role: "tabpanel", id: ctx.uid("messages"),
  }, thread, h("div", { className: "twp-compose-row" }, compose, sendButton));
}

function messageRow(m: ThreadRow): HTMLElement {
  return h("li", { className: "twp-message", "data-sid": m.sid, "data-direction": m.direction, "data-status": m.status },
    h("div", { className: "twp-bubble" }, m.body),
    h("div", { className: "twp-message-meta" },
      h("time", { datetime: m.time ?? "" }, formatWhen(m.time)),
      m.direction === "outbound" ? h("span", { className: "twp-message-status" }, m.status) : null,
      m.error_code ? h("span", { className: "twp-message-error" }, `error ${m.error_code}`) : null));
}
