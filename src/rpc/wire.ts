/**
 * The pickle codec as the RPC layer uses it, in one place: VeighNa's three message shapes
 * (`[name, args, kwargs]`, `[ok, value]`, `[topic, data]`), each one ZeroMQ frame.
 */
export {
  decodeRequest as decodeCall,
  encodeRequest as encodeCall,
  decodeReply as decodeResult,
  encodeReply as encodeResult,
  decodePublish as decodeBroadcast,
  encodePublish as encodeBroadcast,
} from "../codec/index.js";
