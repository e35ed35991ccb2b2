/** Unit tests for what key presses mean on the map page. */
import assert from "assert";
import { shortcutOf } from "./shortcuts.ts";

const press = (key: string, mods: { ctrl?: boolean; meta?: boolean; shift?: boolean } = {}) => ({
  key,
  ctrlKey: mods.ctrl ?? false,
  metaKey: mods.meta ?? false,
  shiftKey: mods.shift ?? false,
});

Deno.test("Ctrl or Cmd+Z undoes; with Shift, or Ctrl+Y, it redoes", () => {
  assert.equal(shortcutOf(press("z", { ctrl: true }), false), "undo");
  assert.equal(shortcutOf(press("z", { meta: true }), false), "undo");
  assert.equal(shortcutOf(press("Z", { ctrl: true, shift: true }), false), "redo");
  assert.equal(shortcutOf(press("y", { ctrl: true }), false), "redo");
});

Deno.test("while typing, undo and redo belong to the field; Esc still cancels", () => {
  assert.equal(shortcutOf(press("z", { ctrl: true }), true), null);
  assert.equal(shortcutOf(press("Escape"), true), "cancel");
});

Deno.test("plain letters and other chords are not shortcuts", () => {
  assert.equal(shortcutOf(press("z"), false), null);
  assert.equal(shortcutOf(press("s", { ctrl: true }), false), null);
});
