/** End-to-end: WebSockets that have not said hello are capped per client address and in total, and refused before the upgrade. */
import assert from "assert";
import { createMap, startRelay } from "./_relay.ts";
import { RawWsClient } from "./_ws.ts";
import { until } from "./_process.ts";

Deno.test("connections that have not said hello: capped per address (429) and in total (503), freed by hello or close", async () => {
  // The test's requests come through "a proxy" at 127.0.0.1, so X-Forwarded-For picks the client.
  await using relay = await startRelay({
    args: ["--memory", "--trust-proxy", "127.0.0.1", "--max-pending-per-addr", "2"].concat(
      ["--max-pending", "3"],
    ),
  });
  const map = await createMap(relay.url);
  const held: RawWsClient[] = [];
  const open = async (addr: string) => {
    const client = await RawWsClient.open(relay.url, `/ws/${map.id}`, {
      "X-Forwarded-For": addr,
      "Sec-WebSocket-Protocol": "duplexmap.v1",
    });
    if (client.answer.status === 101) held.push(client);
    return client;
  };
  try {
    const a1 = await open("203.0.113.1");
    const a2 = await open("203.0.113.1");
    assert.equal(a1.answer.status, 101);
    assert.equal(a2.answer.status, 101);

    // A third from the same address is refused before any WebSocket exists, and says why.
    const a3 = await open("203.0.113.1");
    assert.equal(a3.answer.status, 429);
    assert.equal(a3.answer.headers.get("content-type"), "application/problem+json");
    assert.equal(a3.answer.headers.get("retry-after"), "1");
    assert.match(JSON.parse(a3.answer.body).detail, /not sent hello yet \(at most 2\)/);

    // Another address still gets in, up to the total.
    const b1 = await open("203.0.113.2");
    assert.equal(b1.answer.status, 101);
    const c1 = await open("203.0.113.3");
    assert.equal(c1.answer.status, 503);
    assert.match(JSON.parse(c1.answer.body).detail, /too many connections are starting/);

    // Saying hello frees the slot: the first address may open another one.
    await a1.sendText(
      JSON.stringify({ type: "hello", key: map.editKey, name: "A", color: "#3366cc" }),
    );
    await until(
      async () => (await open("203.0.113.1")).answer.status === 101,
      "a slot freed by hello",
    );

    // So does closing: b1 goes away, and the third address gets in.
    b1.close();
    await until(
      async () => (await open("203.0.113.3")).answer.status === 101,
      "a slot freed by close",
    );

    // The hello was accepted: the relay logged the connection as joined.
    assert.ok(relay.logs.some((l) => l.event === "connect" && l.addr === "203.0.113.1"));
  } finally {
    for (const client of held) client.close();
  }
});
