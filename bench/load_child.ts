/** One load generator process of a split run: connects its rooms, says "ready", sends from the given start, prints its counts. */
import { connectPart, type PartOptions } from "./load.ts";

// Protocol on stdin/stdout, one JSON object a line: in `{options}`, out `{"ready":true}`, in
// `{"start": epochMs}` (a wall-clock instant every process shares), out `{"result": {...}}`.
async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
  }
}
const lines = readLines(Deno.stdin.readable);
const out = (o: unknown) => console.log(JSON.stringify(o));

const first = await lines.next();
if (first.done) Deno.exit(2);
const options = JSON.parse(first.value) as Omit<PartOptions, "log">;
const part = await connectPart({ ...options, log: (line) => console.error(line) });
out({ ready: true });
const go = await lines.next();
if (go.done) {
  await part.close();
  Deno.exit(2);
}
const { start } = JSON.parse(go.value) as { start: number };
const result = await part.run(start - performance.timeOrigin);
await part.close();
out({ result });
Deno.exit(0);
