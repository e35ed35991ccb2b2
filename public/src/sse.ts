/** An incremental parser for `text/event-stream` (server-sent events) read from a fetch body. */

/** One dispatched event: its `event:` name ("message" when none) and its `data:` lines joined. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Parses a `text/event-stream` as it arrives in arbitrary pieces, following the HTML standard's
 * rules: lines end in CRLF, LF or CR; a line starting with `:` is a comment; `field: value` drops
 * one space after the colon; several `data:` lines join with LF; a blank line dispatches the event
 * (an event with no data is not dispatched); `id` and `retry` are ignored, since the fallback
 * transport resumes by `since`, not by event id.
 *
 * @example
 * ```ts
 * import { SseParser } from "./sse.ts";
 * const parser = new SseParser();
 * parser.push("event: session\ndata: {\"session\":\"s1\"}\n");
 * const events = parser.push("\ndata: {\"type\":\"pong\"}\n\n");
 * // [{ event: "session", data: '{"session":"s1"}' }, { event: "message", data: '{"type":"pong"}' }]
 * ```
 */
export class SseParser {
  #buffer = "";
  #event = "";
  #data: string[] = [];
  // A CR at the end of a piece may be the first half of a CRLF split across pieces.
  #pendingCr = false;

  /** Feeds decoded text; returns the events completed by it, in order. */
  push(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let start = 0;
    if (this.#pendingCr && text.startsWith("\n")) start = 1;
    this.#pendingCr = false;
    for (let i = start; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      this.#line(this.#buffer + text.slice(start, i), out);
      this.#buffer = "";
      if (ch === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.#pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.#buffer += text.slice(start);
    return out;
  }

  #line(line: string, out: SseEvent[]): void {
    if (line === "") {
      if (this.#data.length > 0) {
        out.push({ event: this.#event || "message", data: this.#data.join("\n") });
      }
      this.#event = "";
      this.#data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
  }
}
