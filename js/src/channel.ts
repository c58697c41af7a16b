// The panel's side of the command channel (twilio_widget/channel.py): each command is a
// `twp:request` custom message, answered by the `twp:response` with its id. It needs only
// custom messages, which every widget frontend has, where anywidget's experimental invoke does
// not (marimo). Every request ends: answered, timed out (20 s unless told otherwise), aborted by
// its signal, or rejected when the panel closes; a busy kernel is reported, never waited on forever.

import type { CommandResponse, Invoke, Model, Request, Response } from "./types";

export const COMMAND_TIMEOUT_MS = 20_000;

export interface Channel {
  invoke: Invoke;
  close(): void;
}

// Ids stay unique across the channels of every panel on the page.
const session = Math.random().toString(36).slice(2, 10);
let sequence = 0;

function failure(name: "TimeoutError" | "AbortError", message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function isResponse(content: unknown): content is Response {
  return typeof content === "object" && content !== null && (content as Response).type === "twp:response";
}

export function openChannel(model: Model, timeoutMs: number = COMMAND_TIMEOUT_MS): Channel {
  const pending = new Map<string, { answer(response: Response): void; abort(reason: Error): void }>();
  let closed = false;

  const onMessage = (content: unknown) => {
    if (isResponse(content)) pending.get(content.id)?.answer(content); // unknown ids: another channel's, or late
  };
  model.on("msg:custom", onMessage);

  const invoke: Invoke = (name, msg = {}, options = {}) =>
    new Promise<CommandResponse>((resolve, reject) => {
      if (closed) return reject(failure("AbortError", `${name}: the panel is closed`));
      const id = `${session}-${++sequence}`;
      const limit = options.timeoutMs ?? timeoutMs;
      const timer = setTimeout(
        () => settle(() => reject(failure("TimeoutError", `${name}: no answer from the kernel in ${limit / 1000} s`))),
        limit);
      const onAbort = () => settle(() => reject(options.signal?.reason ?? failure("AbortError", `${name}: aborted`)));
      const settle = (finish: () => void) => {
        if (!pending.delete(id)) return;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        finish();
      };
      pending.set(id, {
        answer: (response) => settle(() =>
          resolve(response.ok ? { ok: true, ...response.result } : { ok: false, error: response.error })),
        abort: (reason) => settle(() => reject(reason)),
      });
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const request: Request = { type: "twp:request", id, cmd: name, args: msg };
      try {
        model.send(request);
      } catch (err) { // the comm is gone (the widget was closed in the kernel)
        settle(() => reject(err));
      }
    });

  const close = () => {
    if (closed) return;
    closed = true;
    model.off("msg:custom", onMessage);
    for (const request of [...pending.values()]) request.abort(failure("AbortError", "the panel was closed"));
  };
  return { invoke, close };
}
