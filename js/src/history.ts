// The Call history tab: the selected number's calls, newest first, as the kernel lists them.

import { h, replaceChildren } from "./dom";
import { callStatusText, formatDuration, formatWhen } from "./format";
import { icon } from "./icons";
import type { RegionContext } from "./region";
import type { HistoryRow } from "./types";

export function callHistory({ act, scope }: RegionContext): HTMLElement {
  const el = h("section", { className: "twp-tab-panel twp-history", "data-tab": "history", role: "tabpanel" });
  scope.watch(["history", "selected_number"], () => {
    const rows = act.get("history");
    if (!rows.length) {
      replaceChildren(el, h("p", { className: "twp-empty-note" },
        act.get("selected_number") ? "No calls with this number yet." : "Select a number to see its calls."));
      return;
    }
    replaceChildren(el, h("ol", { className: "twp-history-list", "aria-label": "Call history" }, rows.map(historyRow)));
  });
  return el;
}

function historyRow(row: HistoryRow): HTMLElement {
  return h("li", { className: "twp-history-row", "data-sid": row.sid, "data-status": row.status, "data-direction": row.direction },
    icon(row.direction === "inbound" ? "incoming" : "outgoing", row.direction),
    h("span", { className: "twp-history-status" }, historyText(row.direction, row.status)),
    h("span", { className: "twp-history-duration" }, row.duration ? formatDuration(row.duration) : ""),
    h("time", { className: "twp-history-time", datetime: row.time ?? "" }, formatWhen(row.time)));
}

function historyText(direction: "inbound" | "outbound", status: string): string {
  if (status === "completed") return direction === "inbound" ? "Incoming call" : "Outgoing call";
  if (direction === "inbound" && (status === "no-answer" || status === "busy")) return "Missed call";
  return callStatusText(status);
}
