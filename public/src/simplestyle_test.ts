/** Unit tests for the lenient simplestyle reader. */
import assert from "assert";
import {
  DEFAULT_STYLE,
  hasMarkerStyle,
  parseColor,
  parseSymbol,
  pathStyle,
  pinIcon,
  readStyle,
} from "./simplestyle.ts";

Deno.test("simplestyle: colours in every form the spec allows become #rrggbb", () => {
  assert.equal(parseColor("#ABC"), "#aabbcc");
  assert.equal(parseColor("abc"), "#aabbcc");
  assert.equal(parseColor("#FF0000"), "#ff0000");
  assert.equal(parseColor(" 00ff00 "), "#00ff00");
  for (const bad of ["red", "#12", "#1234", "#ggg", 12, null, {}, []]) {
    assert.equal(parseColor(bad), null, JSON.stringify(bad));
  }
});

Deno.test("simplestyle: every property is read and a bad value falls back to the default", () => {
  const s = readStyle({
    stroke: "#f00",
    "stroke-width": 5,
    "stroke-opacity": "0.5",
    fill: "00ff00",
    "fill-opacity": 0.25,
    "marker-color": "#123456",
    "marker-size": "large",
    "marker-symbol": "7",
  });
  assert.deepEqual(s, {
    stroke: "#ff0000",
    strokeWidth: 5,
    strokeOpacity: 0.5,
    fill: "#00ff00",
    fillOpacity: 0.25,
    markerColor: "#123456",
    markerSize: "large",
    markerSymbol: "7",
  });
  const bad = readStyle({
    stroke: "blue-ish",
    "stroke-width": "wide",
    "stroke-opacity": NaN,
    fill: 42,
    "fill-opacity": {},
    "marker-color": null,
    "marker-size": "huge",
    "marker-symbol": ["x"],
  });
  assert.deepEqual(bad, DEFAULT_STYLE);
  assert.deepEqual(readStyle({}), DEFAULT_STYLE);
});

Deno.test("simplestyle: numbers are clamped to what can be drawn", () => {
  const s = readStyle({ "stroke-width": -3, "stroke-opacity": 7, "fill-opacity": -1 });
  assert.equal(s.strokeWidth, 0);
  assert.equal(s.strokeOpacity, 1);
  assert.equal(s.fillOpacity, 0);
  assert.equal(readStyle({ "stroke-width": 1e9 }).strokeWidth, 50);
});

Deno.test("simplestyle: a symbol is a number, one character or one emoji; a Maki name draws nothing", () => {
  assert.equal(parseSymbol(3), "3");
  assert.equal(parseSymbol("07"), "7");
  assert.equal(parseSymbol("A"), "A");
  assert.equal(parseSymbol("🏠"), "🏠");
  assert.equal(parseSymbol("👩‍🚒"), "👩‍🚒");
  assert.equal(parseSymbol("rail-metro"), "");
  assert.equal(parseSymbol(100), "");
  assert.equal(parseSymbol(1.5), "");
  assert.equal(parseSymbol(undefined), "");
});

Deno.test("simplestyle: path options and the pin carry the colours, the symbol escaped", () => {
  const s = readStyle({ stroke: "#111111", fill: "#222222", "marker-color": "#fe0000" });
  assert.deepEqual(pathStyle(s), {
    color: "#111111",
    weight: 2,
    opacity: 0.9,
    fillColor: "#222222",
    fillOpacity: 0.18,
  });
  const pin = pinIcon(readStyle({ "marker-color": "#fe0000", "marker-symbol": "<" }));
  assert.match(pin.html, /fill="#fe0000"/);
  assert.match(pin.html, />&#60;</);
  assert.doesNotMatch(pin.html, /><</);
  assert.deepEqual(pin.anchor, [pin.size[0] / 2, pin.size[1]]);
  assert.ok(pinIcon(readStyle({ "marker-size": "small" })).size[1] < pin.size[1]);
  assert.equal(hasMarkerStyle({ "marker-color": "#fff" }), true);
  assert.equal(hasMarkerStyle({ name: "x" }), false);
});
