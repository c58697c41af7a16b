import { afterEach, describe, expect, it, vi } from "vitest";
import { COMMAND_TIMEOUT_MS, openChannel } from "./channel";
import { FakeModel } from "./testing";
import type { Request } from "./types";

const lastRequest = (model: FakeModel) => model.sent.at(-1) as Request;

afterEach(() => { vi.useRealTimers(); });

describe("the command channel", () => {
  it("sends a request and resolves with the kernel's result, spread as the panel expects", async () => {
    const model = new FakeModel();
    const { invoke } = openChannel(model);
    const answer = invoke("cmd_call", { number: "+14155550100" });
    const request = lastRequest(model);
    expect(request).toMatchObject({ type: "twp:request", cmd: "cmd_call", args: { number: "+14155550100" } });
    model.kernelSends({ type: "twp:response", id: request.id, ok: true, result: { call: { status: "ringing" } } });
    await expect(answer).resolves.toEqual({ ok: true, call: { status: "ringing" } });
  });

  it("resolves a refusal with the kernel's error payload", async () => {
    const model = new FakeModel();
    const { invoke } = openChannel(model);
    const answer = invoke("cmd_digits", { digits: "x" });
    const error = { message: "digits: 'x' may hold only 0-9, *, # and w (a pause)", code: null };
    model.kernelSends({ type: "twp:response", id: lastRequest(model).id, ok: false, error });
    await expect(answer).resolves.toEqual({ ok: false, error });
  });

  it("gives each request its own id and answers each by it, in any order", async () => {
    const model = new FakeModel();
    const { invoke } = openChannel(model);
    const first = invoke("cmd_poll");
    const second = invoke("cmd_refresh");
    const [a, b] = model.sent as Request[];
    expect(a.id).not.toBe(b.id);
    model.kernelSends({ type: "twp:response", id: b.id, ok: true, result: { which: "second" } });
    model.kernelSends({ type: "twp:response", id: a.id, ok: true, result: { which: "first" } });
    await expect(first).resolves.toMatchObject({ which: "first" });
    await expect(second).resolves.toMatchObject({ which: "second" });
  });

  it("ignores answers it did not ask for, and messages of other kinds", async () => {
    const model = new FakeModel();
    const { invoke } = openChannel(model);
    const answer = invoke("cmd_poll");
    model.kernelSends({ type: "twp:response", id: "someone-else", ok: true, result: {} });
    model.kernelSends({ type: "twp:device", action: "dial", args: {} });
    model.kernelSends("not even an object");
    model.kernelSends({ type: "twp:response", id: lastRequest(model).id, ok: true, result: {} });
    await expect(answer).resolves.toEqual({ ok: true });
  });

  it("times out after 20 s by default, with an error the panel reads as a timeout", async () => {
    vi.useFakeTimers();
    const model = new FakeModel();
    const { invoke } = openChannel(model);
    const answer = invoke("cmd_token");
    const seen = answer.catch((err) => err);
    vi.advanceTimersByTime(COMMAND_TIMEOUT_MS - 1);
    await Promise.resolve();
    vi.advanceTimersByTime(1);
    const err = await seen;
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("TimeoutError");
    // A late answer changes nothing.
    model.kernelSends({ type: "twp:response", id: lastRequest(model).id, ok: true, result: {} });
  });

  it("takes a timeout and an abort signal per request", async () => {
    vi.useFakeTimers();
    const model = new FakeModel();
    const { invoke } = openChannel(model);
    const quick = invoke("cmd_poll", {}, { timeoutMs: 50 }).catch((err) => err.name);
    vi.advanceTimersByTime(50);
    await expect(quick).resolves.toBe("TimeoutError");
    const controller = new AbortController();
    const aborted = invoke("cmd_poll", {}, { signal: controller.signal }).catch((err) => err.name);
    controller.abort();
    await expect(aborted).resolves.toBe("AbortError");
  });

  it("rejects what is pending when the panel closes, and sends nothing after", async () => {
    const model = new FakeModel();
    const channel = openChannel(model);
    const pending = channel.invoke("cmd_poll");
    channel.close();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    await expect(channel.invoke("cmd_poll")).rejects.toMatchObject({ name: "AbortError" });
    expect(model.sent).toHaveLength(1);
    expect(model.listenerCount()).toBe(0);
  });

  it("rejects at once when the message cannot be sent", async () => {
    const model = new FakeModel();
    model.send = () => { throw new Error("Comm is closed"); };
    const { invoke } = openChannel(model);
    await expect(invoke("cmd_poll")).rejects.toThrow("Comm is closed");
  });
});
