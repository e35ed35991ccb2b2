/** Unit tests of the scale bar's unit rule. */
import assert from "assert";
import { usesImperial } from "./scale_bar.ts";

Deno.test("usesImperial: miles for the United States, Liberia and Myanmar", () => {
  for (const tag of ["en-US", "en-LR", "my-MM", "es-US", "en", "my"]) {
    assert.equal(usesImperial(tag), true, tag);
  }
});

Deno.test("usesImperial: metric everywhere else, and for tags that are not tags", () => {
  for (const tag of ["en-GB", "fr-FR", "de", "en-CA", "ja-JP", "", "not a tag!"]) {
    assert.equal(usesImperial(tag), false, tag);
  }
});
