/** Unit tests of parseCoordinates and formatLatLon: every way a person types a position. */
import assert from "assert";
import { type CoordinateReading, formatLatLon, parseCoordinates } from "./coordinates.ts";

/** The readings rounded to 6 decimals (DMS arithmetic is not exact in binary). */
function read(text: string): CoordinateReading[] {
  return parseCoordinates(text).map((r) => ({
    lat: Math.round(r.lat * 1e6) / 1e6,
    lon: Math.round(r.lon * 1e6) / 1e6,
    order: r.order,
  }));
}

const ZURICH = { lat: 47.37, lon: 8.54 };

Deno.test("decimal lat, lon: the convention first, the lon, lat reading second", () => {
  assert.deepEqual(read("47.37, 8.54"), [
    { ...ZURICH, order: "lat-lon" },
    { lat: 8.54, lon: 47.37, order: "lon-lat" },
  ]);
  assert.deepEqual(read("  47.37,8.54 "), read("47.37, 8.54"));
  assert.deepEqual(read("47.37; 8.54"), read("47.37, 8.54"));
  assert.deepEqual(read("47.37 8.54"), read("47.37, 8.54"));
});

Deno.test("space-separated lon lat is offered (second) when both orders are valid", () => {
  assert.deepEqual(read("8.54 47.37")[1], { ...ZURICH, order: "lon-lat" });
});

Deno.test("a first number beyond 90 can only be a longitude", () => {
  assert.deepEqual(read("151.2093, -33.8688"), [
    { lat: -33.8688, lon: 151.2093, order: "lon-lat" },
  ]);
  assert.deepEqual(read("-33.8688 151.2093"), [
    { lat: -33.8688, lon: 151.2093, order: "lat-lon" },
  ]);
});

Deno.test("equal numbers give one reading", () => {
  assert.deepEqual(read("10, 10"), [{ lat: 10, lon: 10, order: "lat-lon" }]);
  assert.deepEqual(read("0 0"), [{ lat: 0, lon: 0, order: "lat-lon" }]);
});

Deno.test("signs: negatives and an explicit plus", () => {
  assert.deepEqual(read("-33.87, -70.5")[0], { lat: -33.87, lon: -70.5, order: "lat-lon" });
  assert.deepEqual(read("+47.37, +8.54")[0], { ...ZURICH, order: "lat-lon" });
  assert.deepEqual(read("−33.87 −70.5")[0], { lat: -33.87, lon: -70.5, order: "lat-lon" });
});

Deno.test("GeoJSON [lon, lat] and WKT POINT(lon lat) are read in their own order only", () => {
  assert.deepEqual(read("[8.54, 47.37]"), [{ ...ZURICH, order: "lon-lat" }]);
  assert.deepEqual(read("POINT(8.54 47.37)"), [{ ...ZURICH, order: "lon-lat" }]);
  assert.deepEqual(read("point (8.54 47.37)"), [{ ...ZURICH, order: "lon-lat" }]);
  assert.deepEqual(read("[47.37N, 8.54E]"), []);
});

Deno.test("hemisphere letters decide the order, in either position", () => {
  const expected = [{ ...ZURICH, order: "letters" }];
  for (
    const text of [
      "47.37N 8.54E",
      "47.37 N, 8.54 E",
      "8.54E 47.37N",
      "8.54 E 47.37 N",
      "N47.37 E8.54",
      "N 47.37, E 8.54",
      "E8.54 N47.37",
      "47.37n 8.54e",
      "47.37N 8.54",
      "47.37 8.54E",
      "47.37 E8.54",
    ]
  ) assert.deepEqual(read(text), expected, text);
});

Deno.test("S and W are negative", () => {
  assert.deepEqual(read("33.8688S 151.2093E"), [
    { lat: -33.8688, lon: 151.2093, order: "letters" },
  ]);
  assert.deepEqual(read("40.7128 N, 74.006 W"), [{ lat: 40.7128, lon: -74.006, order: "letters" }]);
  assert.deepEqual(read("W74.006 S40.7128"), [{ lat: -40.7128, lon: -74.006, order: "letters" }]);
});

Deno.test("degrees minutes seconds, with every kind of mark", () => {
  const expected = [{ ...ZURICH, order: "letters" }];
  for (
    const text of [
      `47°22'12"N 8°32'24"E`,
      `47°22'12"N, 8°32'24"E`,
      "47 22 12 N, 8 32 24 E",
      "47 22 12 N 8 32 24 E",
      "47° 22′ 12″ N 8° 32′ 24″ E",
      "47º22’12”N 8º32’24”E",
      "47°22'12''N 8°32'24''E",
      "N 47° 22' 12\" E 8° 32' 24\"",
      "47°22.2'N 8°32.4'E",
      "47 22.2 N 8 32.4 E",
    ]
  ) assert.deepEqual(read(text), expected, text);
});

Deno.test("DMS without letters follows the decimal rules", () => {
  assert.deepEqual(read(`47°22'12" 8°32'24"`)[0], { ...ZURICH, order: "lat-lon" });
  assert.deepEqual(read("47 22 12, 8 32 24")[0], { ...ZURICH, order: "lat-lon" });
  assert.deepEqual(read("47 22 12 8 32 24")[0], { ...ZURICH, order: "lat-lon" });
  assert.deepEqual(read("47 22.2 8 32.4")[0], { ...ZURICH, order: "lat-lon" });
  assert.deepEqual(read(`-33°52'7.68", 151°12'33.48"`), [
    { lat: -33.8688, lon: 151.2093, order: "lat-lon" },
  ]);
});

Deno.test("out-of-range values are refused", () => {
  assert.deepEqual(read("91N 8E"), []);
  assert.deepEqual(read("47N 181E"), []);
  assert.deepEqual(read("95, 100"), [], "neither number can be a latitude");
  assert.deepEqual(read("47, 200"), []);
  assert.deepEqual(read("-181 0"), []);
  assert.deepEqual(read("[200, 10]"), []);
  assert.deepEqual(read("POINT(10 95)"), []);
  assert.deepEqual(read("90.0001, 0")[0], { lat: 0, lon: 90.0001, order: "lon-lat" });
  assert.deepEqual(read("90, 180"), [{ lat: 90, lon: 180, order: "lat-lon" }]);
});

Deno.test("minutes and seconds of 60 or more, and fractions before the last part, are refused", () => {
  assert.deepEqual(read(`47°60'N 8°E`), []);
  assert.deepEqual(read(`47°22'60"N 8°E`), []);
  assert.deepEqual(read(`47.5°30'N 8°E`), []);
  assert.deepEqual(read(`47°22.5'12"N 8°E`), []);
});

Deno.test("letters that contradict each other or a sign are refused", () => {
  assert.deepEqual(read("47N 8N"), []);
  assert.deepEqual(read("8E 47W"), []);
  assert.deepEqual(read("-47S 8E"), []);
  assert.deepEqual(read("N47S 8E"), []);
});

Deno.test("text that is not a position gives nothing", () => {
  for (
    const text of [
      "",
      "   ",
      "Zürich",
      "Main Street 12",
      "47.37",
      "47.37, 8.54, 100",
      "1, 2, 3",
      "47 22 12",
      "47 22 12 8 32",
      "NEWS",
      "N, E",
      "47.37.1, 8",
      "47,37 8,54",
      "47 22 12 N 8 32 24 E 5",
      "1e5 2",
      "47°8°9°",
    ]
  ) assert.deepEqual(read(text), [], JSON.stringify(text));
});

Deno.test("formatLatLon names the hemispheres with five decimals", () => {
  assert.equal(formatLatLon(47.37, 8.54), "47.37000° N, 8.54000° E");
  assert.equal(formatLatLon(-33.8688, 151.2093), "33.86880° S, 151.20930° E");
  assert.equal(formatLatLon(40.7128, -74.006), "40.71280° N, 74.00600° W");
});
