/** Unit tests for the words and names Import and Export use. */
import assert from "assert";
import { exportFileName, importedNotice } from "./import_export.ts";

Deno.test("exportFileName makes a file name from the title", () => {
  assert.equal(exportFileName("Trees of Paris (2024)"), "trees-of-paris-2024.geojson");
  assert.equal(exportFileName(""), "map.geojson");
  assert.equal(exportFileName("Ævar's «map»"), "var-s-map.geojson");
  assert.equal(exportFileName("東京"), "map.geojson");
});

Deno.test("importedNotice counts features in words", () => {
  assert.equal(importedNotice(1, "a.geojson"), "Imported 1 feature from a.geojson.");
  assert.equal(importedNotice(3, "b.json"), "Imported 3 features from b.json.");
});
