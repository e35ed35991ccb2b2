/** Unit tests for reading map links. */
import assert from "assert";
import { parseMapLink } from "./map_link.ts";

Deno.test("parseMapLink reads the id, the key and the one-shot parts", () => {
  assert.deepEqual(parseMapLink("/m/abc%2Dd", "#key=k1&view=v2&share=1"), {
    mapId: "abc-d",
    key: "k1",
    view: "v2",
    share: true,
  });
});

Deno.test("parseMapLink: a link without a key has an empty key and no share", () => {
  assert.deepEqual(parseMapLink("/m/abc", ""), {
    mapId: "abc",
    key: "",
    view: null,
    share: false,
  });
});
