// What agents do in a page, as viewers see it: streamed messages assembled from their deltas
// (the algorithm of docs/realtime.md, "Assembling a message") and the agents' status lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withDelta, newer, createAssembler, withStatus, statusText, endText } from "../static/js/agent-state.js";
import { emptyChannel, withPage, applyMessageEvent, messagesOf } from "../static/js/channel-state.js";
import { rng, int, text } from "./gen.mjs";

const cps = (s) => Array.from(s).length;
const streaming = (content, streamSeq, extra = {}) => ({ id: "m", pageId: "p", status: "streaming", content, streamSeq, ...extra });

// delta is the message_delta of chunks from..to (1-based) of chunks, as the server sends it.
function delta(chunks, from, to) {
  const before = chunks.slice(0, from - 1).join("");
  return { pageId: "p", messageId: "m", fromSeq: from, seq: to, offset: cps(before), text: chunks.slice(from - 1, to).join("") };
}

test("a delta that follows on is appended; one held already changes nothing; a gap asks for a fetch", () => {
  const chunks = ["The ", "answer ", "is ", "42."];
  let m = streaming("", 0);
  m = withDelta(m, delta(chunks, 1, 2));
  assert.deepEqual([m.content, m.streamSeq], ["The answer ", 2]);
  assert.equal(withDelta(m, delta(chunks, 2, 2)), m, "an old delta");
  assert.equal(withDelta(m, delta(chunks, 4, 4)), null, "chunk 3 is missing");
  m = withDelta(m, delta(chunks, 3, 4));
  assert.deepEqual([m.content, m.streamSeq], ["The answer is 42.", 4]);
  const done = { ...m, status: "complete" };
  assert.equal(withDelta(done, { ...delta(chunks, 4, 4), seq: 5 }), done, "an ended message is final");
});

test("an overlapping delta is cut where the copy ends, in code points", () => {
  const chunks = ["👍🏽 ", "e\u0301t", "é 😀", "!"];
  const m = streaming(chunks.slice(0, 2).join(""), 2); // a fetch got two chunks
  const grown = withDelta(m, delta(chunks, 1, 4)); // a delta from before the fetch, and on
  assert.equal(grown.content, chunks.join(""));
  assert.equal(grown.streamSeq, 4);
  assert.equal(withDelta(streaming("", 0), { ...delta(chunks, 1, 1), offset: 3 }), null, "text after a hole");
  const kept = withDelta(streaming("ab", 1), { pageId: "p", messageId: "m", fromSeq: 2, seq: 2, offset: 2, text: "" });
  assert.deepEqual([kept.content, kept.streamSeq], ["ab", 2], "an empty keep-alive chunk");
});

test("newer keeps an ended copy, then the longer one", () => {
  const short = streaming("a", 1);
  const long = streaming("ab", 2);
  const done = { ...long, status: "complete" };
  assert.equal(newer(undefined, short), short);
  assert.equal(newer(long, short), long, "a fetch answered after later deltas");
  assert.equal(newer(short, long), long);
  assert.equal(newer(done, long), done, "a listing read before the end");
  assert.equal(newer(long, done), done);
  const edited = { ...done, content: "edited" };
  assert.equal(newer(done, edited), edited, "edits of ended messages win");
});

test("a channel keeps the newer copy of a streamed message, whichever answer comes last", () => {
  const at = { createdAt: "1", author: { id: "a", name: "Helper" }, repliesCount: 0, parentId: null };
  let ch = withPage(emptyChannel("p"), { items: [streaming("ab", 2, at)], nextCursor: null });
  ch = applyMessageEvent(ch, "new_message", { message: streaming("", 0, at) }); // the start, late
  assert.equal(messagesOf(ch)[0].content, "ab");
  ch = withPage(ch, { items: [streaming("a", 1, at)], nextCursor: null }, { fresh: true }); // a listing read earlier
  assert.equal(messagesOf(ch)[0].content, "ab");
  ch = applyMessageEvent(ch, "message_updated", { message: { ...streaming("abc", 3, at), status: "complete" } });
  ch = withPage(ch, { items: [streaming("ab", 2, at)], nextCursor: null }, { fresh: true });
  assert.deepEqual([messagesOf(ch)[0].content, messagesOf(ch)[0].status], ["abc", "complete"], "the end is final");
});

// viewer is a channel of one message with an assembler over it, whose fetches answer when the
// test says (answer()), with the server's copy as it is then.
function viewer(server) {
  let shown = streaming("", 0);
  const puts = [];
  const pending = [];
  const asm = createAssembler({
    get: (id) => (id === shown.id ? shown : undefined),
    put: (m) => {
      shown = m;
      puts.push(m);
    },
    fetch: () => new Promise((resolve, reject) => pending.push(() => (server.down ? reject(new Error("offline")) : resolve(server.copy())))),
  });
  return {
    asm,
    puts,
    shown: () => shown,
    set: (m) => { shown = m; },
    fetches: () => pending.length,
    answer: async () => {
      while (pending.length) pending.shift()();
      await new Promise((r) => setTimeout(r));
    },
  };
}

test("a gap fetches once; deltas during the fetch wait for it; nothing shows twice", async () => {
  const chunks = ["one ", "two ", "three ", "four ", "five"];
  const server = { seq: 0, copy: () => streaming(chunks.slice(0, server.seq).join(""), server.seq) };
  const v = viewer(server);
  server.seq = 3;
  v.asm.delta(delta(chunks, 3, 3)); // chunks 1 and 2 came before the view joined
  v.asm.delta(delta(chunks, 3, 3));
  server.seq = 4;
  v.asm.delta(delta(chunks, 4, 4)); // while the fetch is out
  assert.equal(v.fetches(), 1);
  assert.equal(v.shown().content, "", "nothing shown out of order");
  await v.answer();
  assert.deepEqual([v.shown().content, v.shown().streamSeq], ["one two three four ", 4]);
  server.seq = 5;
  v.asm.delta(delta(chunks, 5, 5));
  assert.equal(v.shown().content, chunks.join(""));
  assert.equal(v.fetches(), 0);
});

test("a fetch that fails or comes back behind changes nothing; the next delta catches up", async () => {
  const chunks = ["a", "b", "c", "d"];
  const server = { seq: 0, down: true, copy: () => streaming(chunks.slice(0, server.seq).join(""), server.seq) };
  const v = viewer(server);
  server.seq = 2;
  v.asm.delta(delta(chunks, 2, 2));
  await v.answer();
  assert.deepEqual([v.shown().content, v.puts.length], ["", 0], "offline: still nothing");
  server.down = false;
  server.seq = 3;
  v.asm.delta(delta(chunks, 3, 3));
  await v.answer();
  assert.equal(v.shown().content, "abc");
  // A reconnect reads it again; the answer is older than a delta that came meanwhile.
  server.seq = 3;
  v.asm.refetch(v.shown());
  v.set(withDelta(v.shown(), delta(chunks, 4, 4)));
  await v.answer();
  assert.equal(v.shown().content, "abcd");
});

test("an ended message takes no more deltas and no older copy", async () => {
  const server = { copy: () => streaming("a", 1) };
  const v = viewer(server);
  v.asm.delta({ pageId: "p", messageId: "m", fromSeq: 2, seq: 2, offset: 1, text: "b" });
  v.set({ ...streaming("final", 3), status: "stopped", statusReason: "stopped by Ann" }); // message_updated
  await v.answer();
  v.asm.delta({ pageId: "p", messageId: "m", fromSeq: 4, seq: 4, offset: 5, text: "!" });
  assert.equal(v.shown().content, "final");
  assert.equal(v.shown().status, "stopped");
  v.asm.delta({ ...delta(["x"], 1, 1), messageId: "other" }); // not loaded: ignored
});

// A long random stream: deltas coalesced at random, some lost (the socket was away), some sent
// again (another process), fetches answered late. Every copy shown is the message up to its
// streamSeq, and the last is the whole message.
test("random streams: always a prefix, never a chunk twice, whole at the end", async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const r = rng(seed);
    const chunks = Array.from({ length: 60 + int(r, 60) }, () => text(r, 4));
    const upTo = (n) => chunks.slice(0, n).join("");
    const server = { seq: 0, copy: () => streaming(upTo(server.seq), server.seq) };
    const v = viewer(server);
    let sent = 0;
    while (sent < chunks.length) {
      const to = Math.min(chunks.length, sent + 1 + int(r, 4));
      const from = r() < 0.1 && sent > 2 ? 1 + int(r, sent) : sent + 1; // an overlap
      server.seq = to;
      if (r() > 0.15) v.asm.delta(delta(chunks, from, to)); // else lost
      if (r() < 0.1) v.asm.delta(delta(chunks, 1 + int(r, to), to)); // again
      if (r() < 0.3) await v.answer();
      sent = to;
    }
    await v.answer();
    if (v.shown().streamSeq < chunks.length) { // the last deltas were lost: a reconnect fetches
      v.asm.refetch(v.shown());
      await v.answer();
    }
    for (const m of v.puts) assert.equal(m.content, upTo(m.streamSeq), `seed ${seed}: seq ${m.streamSeq}`);
    for (let i = 1; i < v.puts.length; i++) assert.ok(v.puts[i].streamSeq > v.puts[i - 1].streamSeq, `seed ${seed}: went back`);
    assert.equal(v.shown().content, chunks.join(""), `seed ${seed}`);
  }
});

test("statuses: one per agent, in words", () => {
  const thinking = { pageId: "p", agentId: "a1", name: "Helper", state: "thinking" };
  const tool = { ...thinking, agentId: "a2", name: "Scout", state: "running_tool", tool: "web_search", progress: 0.5 };
  let all = withStatus(withStatus({}, thinking), tool);
  assert.deepEqual(Object.keys(all), ["a1", "a2"]);
  const before = all;
  all = withStatus(all, { ...thinking, state: "error" });
  assert.equal(all.a1.state, "error", "the latest replaces the earlier");
  assert.equal(before.a1.state, "thinking", "not changed in place");
  all = withStatus(all, { pageId: "p", agentId: "a1" }, true);
  assert.deepEqual(Object.keys(all), ["a2"]);
  assert.equal(statusText(thinking), "Helper is thinking…");
  assert.equal(statusText(tool), "Scout is running web_search");
  assert.equal(statusText({ ...thinking, state: "error" }), "Helper ran into an error");
  assert.equal(statusText({ ...thinking, state: "idle" }), "");
});

test("how a stream ended, in words", () => {
  assert.equal(endText({ status: "complete" }), "");
  assert.equal(endText({ status: "streaming" }), "");
  assert.equal(endText({ status: "stopped", statusReason: "stopped by Alice Able" }), "Stopped by Alice Able");
  assert.equal(endText({ status: "error", statusReason: "the model timed out" }), "Failed: the model timed out");
  assert.equal(endText({ status: "interrupted", statusReason: "silent for 60 s" }), "Interrupted: silent for 60 s");
  assert.equal(endText({ status: "interrupted" }), "Interrupted");
});
