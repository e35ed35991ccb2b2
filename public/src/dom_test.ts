/** Unit tests of KeyedList on a fake parent that records every element put in or taken out. */
import assert from "assert";
import { KeyedList } from "./dom.ts";

/** An element: its name, and its parent while it is in one. */
class FakeElement {
  parent: FakeParent | null = null;
  constructor(readonly name: string) {}
  remove(): void {
    this.parent?.take(this);
  }
}

/** A parent element: its children in order, and every move as "+name" or "-name". */
class FakeParent {
  children: FakeElement[] = [];
  moves: string[] = [];
  take(el: FakeElement): void {
    this.children.splice(this.children.indexOf(el), 1);
    el.parent = null;
    this.moves.push(`-${el.name}`);
  }
  insertBefore(el: FakeElement, before: FakeElement | null): void {
    if (el.parent) el.parent.take(el);
    const at = before === null ? this.children.length : this.children.indexOf(before);
    this.children.splice(at, 0, el);
    el.parent = this;
    this.moves.push(`+${el.name}`);
  }
  replaceChildren(): void {
    for (const el of [...this.children]) this.take(el);
  }
}

Deno.test("KeyedList: unchanged items keep their elements where they are; only changed ones move", () => {
  const parent = new FakeParent();
  const list = new KeyedList(parent as unknown as HTMLElement);
  let made = 0;
  const show = (...looks: string[]) => {
    list.render(looks.map((l) => ({
      looks: l,
      make: () => {
        made++;
        return new FakeElement(l) as unknown as HTMLElement;
      },
    })));
    return parent.children.map((c) => c.name);
  };
  assert.deepEqual(show("bob", "ann"), ["bob", "ann"]);
  const ann = parent.children[1];
  parent.moves = [];

  // Nothing changed: nothing is touched (a press on "ann" survives).
  assert.deepEqual(show("bob", "ann"), ["bob", "ann"]);
  assert.deepEqual(parent.moves, []);
  assert.equal(made, 2);

  // Bob's item changed: his element is replaced, Ann's stays put.
  assert.deepEqual(show("bob edited", "ann"), ["bob edited", "ann"]);
  assert.deepEqual(parent.moves, ["-bob", "+bob edited"]);
  assert.equal(parent.children[1], ann);

  // A new item on top, one gone: only those two move.
  parent.moves = [];
  assert.deepEqual(show("cat", "ann"), ["cat", "ann"]);
  assert.deepEqual(parent.moves, ["-bob edited", "+cat"]);
  assert.equal(parent.children[1], ann);

  // Items that look alike get an element each, kept across renders.
  parent.moves = [];
  made = 0;
  assert.deepEqual(show("x", "x", "ann"), ["x", "x", "ann"]);
  const [x1, x2] = parent.children;
  assert.notEqual(x1, x2);
  assert.equal(made, 2);
  show("x", "x", "ann");
  assert.equal(made, 2, "no element made again");
  assert.deepEqual([parent.children[0], parent.children[1]], [x1, x2]);

  list.clear();
  assert.deepEqual(parent.children, []);
  show("ann");
  assert.notEqual(parent.children[0], ann, "after clear, elements are made anew");
});
