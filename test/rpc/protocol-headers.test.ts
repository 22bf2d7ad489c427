/** The headers of our call/reply framing: exact bytes, and round trips whatever epochs alternate. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CALL_HEADER_SIZE, REPLY_HEADER_SIZE, decodeCallHeader, decodeReplyHeader, encodeCallHeader, encodeReplyHeader } from "../../src/rpc/protocol.js";

describe("call and reply headers", () => {
  it("a call header is kind 1, three zero bytes, the id and the deadline", () => {
    const bytes = encodeCallHeader({ id: 0x0102_0304, deadline: 1_700_000_000_123.5 });
    assert.equal(bytes.length, CALL_HEADER_SIZE);
    assert.deepEqual([...bytes.subarray(0, 8)], [1, 0, 0, 0, 4, 3, 2, 1]);
    assert.equal(bytes.readDoubleLE(8), 1_700_000_000_123.5);
    assert.deepEqual(decodeCallHeader(bytes), { id: 0x0102_0304, deadline: 1_700_000_000_123.5 });
  });

  it("a reply header is kind 2, three zero bytes, the id, the seq and the epoch's 8 bytes", () => {
    const bytes = encodeReplyHeader({ id: 7, seq: 42, epoch: "0123456789abcdef" });
    assert.equal(bytes.length, REPLY_HEADER_SIZE);
    assert.deepEqual([...bytes.subarray(0, 8)], [2, 0, 0, 0, 7, 0, 0, 0]);
    assert.equal(bytes.readDoubleLE(8), 42);
    assert.equal(bytes.toString("hex", 16, 24), "0123456789abcdef");
  });

  it("replies from servers of different epochs, interleaved (a relay hears one and answers with another), keep each its own", () => {
    const epochs = ["0123456789abcdef", "fedcba9876543210", "0123456789abcdef", "00000000000000ff", "fedcba9876543210"];
    for (const [i, epoch] of epochs.entries()) {
      assert.deepEqual(decodeReplyHeader(encodeReplyHeader({ id: i, seq: i * 10, epoch })), { id: i, seq: i * 10, epoch });
    }
  });

  it("a short epoch is padded with zeros on the left, as 16 hex digits", () => {
    assert.equal(decodeReplyHeader(encodeReplyHeader({ id: 1, seq: 0, epoch: "ff" }))?.epoch, "00000000000000ff");
  });

  it("a frame of another size or kind is no reply header", () => {
    const bytes = encodeReplyHeader({ id: 1, seq: 0, epoch: "0123456789abcdef" });
    assert.equal(decodeReplyHeader(bytes.subarray(0, 23)), null);
    assert.equal(decodeReplyHeader(Buffer.concat([Buffer.from([1]), bytes.subarray(1)])), null);
  });
});
