/** Unit tests of the history endpoints' client over a fake fetch: the URLs, the checked answers, the errors in words. */
import assert from "assert";
import { HistoryApi, HistoryApiError } from "./history_api.ts";

function fakeFetch(answers: Record<string, [number, unknown]>) {
  const urls: string[] = [];
  const bodies: unknown[] = [];
  const fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    urls.push(url);
    if (init?.body) bodies.push(JSON.parse(String(init.body)));
    const path = new URL(url).pathname.split("/").at(-1) ?? "";
    const [status, body] = answers[path] ?? [404, { title: "Not Found", detail: "No such map." }];
    return Promise.resolve(
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": status < 300 ? "application/json" : "application/problem+json" },
      }),
    );
  };
  return { fetch: fetch as typeof globalThis.fetch, urls, bodies };
}

Deno.test("HistoryApi asks for pages with the key, cursor, limit and fid, and checks the answer", async () => {
  const f = fakeFetch({ history: [200, { seq: 3, oldest: 1, next: null, entries: [] }] });
  const api = new HistoryApi({ origin: "http://relay", mapId: "m 1", key: "K", fetch: f.fetch });
  const page = await api.page({ before: 40, limit: 20, fid: "f/1" });
  assert.equal(page.seq, 3);
  assert.equal(
    f.urls[0],
    "http://relay/api/maps/m%201/history?key=K&before=40&limit=20&fid=f%2F1",
  );
});

Deno.test("HistoryApi: a refused answer says the relay's detail; comments from a relay without them are null", async () => {
  const f = fakeFetch({
    features: [410, { title: "Gone", detail: "That version is older than the kept history." }],
    versions: [201, { seq: 7, name: "Start", at: 1, author: "Ann" }],
  });
  const api = new HistoryApi({ origin: "http://relay", mapId: "m", key: "K", fetch: f.fetch });
  await assert.rejects(
    () => api.featuresAt(2),
    (e) =>
      e instanceof HistoryApiError && e.status === 410 &&
      /older than the kept history/.test(e.message),
  );
  assert.equal(await api.comments(), null);
  const named = await api.nameVersion("Start", "Ann", 7);
  assert.deepEqual(named, { seq: 7, name: "Start", at: 1, author: "Ann" });
  assert.deepEqual(f.bodies, [{ name: "Start", author: "Ann", seq: 7 }]);
  const bad = fakeFetch({ history: [200, { entries: "no" }] });
  await assert.rejects(() =>
    new HistoryApi({ origin: "http://relay", mapId: "m", key: "K", fetch: bad.fetch }).page()
  );
});
