// The tree's moves: where a drop or an Alt+arrow puts a page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildTree, flatten, dropPlan, keyPlan, withMove, placeOf, positionBetween } from "../static/js/tree.js";

const nodes = [
  { id: "f", parentId: null, position: 1, type: "FOLDER", title: "Folder" },
  { id: "x", parentId: "f", position: 1, type: "DOCUMENT", title: "X" },
  { id: "a", parentId: null, position: 2, type: "DOCUMENT", title: "A" },
  { id: "b", parentId: null, position: 3, type: "CHANNEL", title: "B" },
  { id: "c", parentId: null, position: 3, type: "DOCUMENT", title: "C" }, // a tie: after b by id
];

const order = (list) => flatten(buildTree(list)).map(({ node, depth }) => `${node.id}${depth}`).join(" ");

test("positions between neighbours", () => {
  assert.equal(positionBetween(null, null), 1);
  assert.equal(positionBetween(2, null), 3);
  assert.equal(positionBetween(2.5, null), 3);
  assert.equal(positionBetween(null, 2), 1);
  assert.equal(positionBetween(2, 3), 2.5);
});

test("Alt+arrows: up, down, into the folder above, out to the parent", () => {
  assert.equal(order(nodes), "f0 x1 a0 b0 c0");
  const move = (id, dir) => {
    const plan = keyPlan(nodes, id, dir);
    return plan && order(withMove(nodes, id, plan));
  };
  assert.equal(move("b", "up"), "f0 x1 b0 a0 c0");
  assert.equal(move("b", "down"), "f0 x1 a0 c0 b0"); // past a tie
  assert.equal(move("c", "up"), "f0 x1 a0 c0 b0");
  assert.equal(move("f", "up"), null);
  assert.equal(move("c", "down"), null);
  assert.equal(move("a", "in"), "f0 x1 a1 b0 c0");
  assert.equal(move("b", "in"), null); // the page above is not a folder
  assert.equal(move("x", "out"), "f0 x0 a0 b0 c0");
  assert.equal(move("a", "out"), null);
});

test("drops: before, after, inside; never under itself", () => {
  const drop = (id, target, where) => {
    const plan = dropPlan(nodes, id, target, where);
    return plan && order(withMove(nodes, id, plan));
  };
  assert.equal(drop("c", "f", "inside"), "f0 x1 c1 a0 b0");
  assert.equal(drop("c", "x", "before"), "f0 c1 x1 a0 b0");
  assert.equal(drop("f", "c", "after"), "a0 b0 c0 f0 x1");
  assert.equal(drop("f", "x", "after"), null); // a cycle
  assert.equal(drop("f", "f", "inside"), null);
  assert.equal(drop("a", "b", "before"), null); // already there
  assert.equal(drop("a", "f", "after"), null);
  assert.equal(drop("x", "f", "inside"), null);
});

test("place in words", () => {
  assert.equal(placeOf(nodes, "x"), "1 of 1 in “Folder”");
  assert.equal(placeOf(nodes, "b"), "3 of 4 at the top level");
});
