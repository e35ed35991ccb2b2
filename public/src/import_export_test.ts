/** Unit tests for the words and names Import and Export use. */
import assert from "assert";
import { exportFileName, importedNotice, importSummary } from "./import_export.ts";

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

Deno.test("importSummary says how many of how many, and which were skipped and why", () => {
  assert.equal(importSummary(2, 2, [], "a.geojson"), "Imported 2 features from a.geojson.");
  assert.equal(
    importSummary(253, 255, [
      { index: 17, id: "x", reason: 'bad geometry: unknown geometry type "Circle"' },
      { index: 204, reason: "not a GeoJSON Feature" },
    ], "world.geojson"),
    'Imported 253 of 255 features from world.geojson; 2 skipped: #17 (id "x"): bad geometry: ' +
      'unknown geometry type "Circle"; #204: not a GeoJSON Feature.',
  );
});
