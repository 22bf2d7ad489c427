/** The headers of our call/reply framing: exact bytes, and round trips whatever epochs alternate. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  CALL_HEADER_SIZE,
  COMPACT_CALL_HEADROOM,
  COMPACT_REPLY_HEADROOM,
  REPLY_HEADER_SIZE,
  SIGNATURE,
  decodeCallHeader,
  decodeReplyHeader,
  encodeCallHeader,
  encodeReplyHeader,
  readCompactCall,
  readCompactReply,
  writeCompactCallHeader,
  writeCompactReplyHeader,
} from "../../src/rpc/protocol.js";
import { decodeReply, decodeRequest, encodeReply, encodeRequest } from "../../src/codec/index.js";

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

  it("a compact call is the classic call's three frames joined, version 2, its pickle encoded behind the header in one buffer", () => {
    const frame = encodeRequest("add", [2, 3], {}, COMPACT_CALL_HEADROOM);
    assert.ok(frame.subarray(0, COMPACT_CALL_HEADROOM).every((byte) => byte === 0), "the headroom comes zeroed");
    writeCompactCallHeader(frame, { id: 9, deadline: 1_700_000_000_000 });
    const classic = [SIGNATURE, encodeCallHeader({ id: 9, deadline: 1_700_000_000_000 }), encodeRequest("add", [2, 3], {})];
    assert.equal(frame.toString("latin1", 0, 12), "rpcservice/2");
    assert.deepEqual(frame.subarray(12), Buffer.concat(classic.slice(1)), "header and pickle: the classic frames' bytes");
    const read = readCompactCall(frame);
    assert.deepEqual(read?.header, { id: 9, deadline: 1_700_000_000_000 });
    assert.deepEqual([...decodeRequest(read!.body).args], [2, 3]);
    assert.equal(read!.body.buffer, frame.buffer, "the pickle is a view of the frame, not a copy");
  });

  it("a compact reply carries the reply header and pickle in one frame", () => {
    const frame = encodeReply(true, "ok", COMPACT_REPLY_HEADROOM);
    writeCompactReplyHeader(frame, { id: 3, seq: 12, epoch: "00000000000000aa" });
    const read = readCompactReply(frame);
    assert.deepEqual(read?.header, { id: 3, seq: 12, epoch: "00000000000000aa" });
    assert.deepEqual(decodeReply(read!.body), { ok: true, result: "ok" });
  });

  it("frames that are not compact are told apart: other signatures, short frames, the other kind", () => {
    const call = encodeRequest("x", [], {}, COMPACT_CALL_HEADROOM);
    writeCompactCallHeader(call, { id: 1, deadline: 0 });
    assert.equal(readCompactCall(call.subarray(0, COMPACT_CALL_HEADROOM - 1)), null, "shorter than its header");
    assert.equal(readCompactReply(call), null, "a call is not a reply");
    const v1 = Buffer.from(call);
    v1.write("rpcservice/1", 0, "latin1");
    assert.equal(readCompactCall(v1), null, "version 1's signature");
    assert.equal(readCompactCall(Buffer.alloc(0)), null);
    assert.equal(readCompactCall(encodeRequest("x", [], {})), null, "a bare pickle");
  });
});
