/** Unit tests for the links the Share dialog offers. */
import assert from "assert";
import { shareLinks } from "./share_dialog.ts";

const base = "https://maps.example.com/m/abc";

Deno.test("an editor who created the map gets both links", () => {
  assert.deepEqual(shareLinks({ base, key: "E", viewKey: "V", editor: true }), {
    edit: `${base}#key=E`,
    view: `${base}#key=V`,
  });
});

Deno.test("an editor without the view key gets the edit link only, never the edit key as view", () => {
  assert.deepEqual(shareLinks({ base, key: "E", viewKey: null, editor: true }), {
    edit: `${base}#key=E`,
    view: "",
  });
});

Deno.test("a viewer's key is offered as the view-only link, with no edit link", () => {
  assert.deepEqual(shareLinks({ base, key: "V", viewKey: null, editor: false }), {
    edit: "",
    view: `${base}#key=V`,
  });
});
