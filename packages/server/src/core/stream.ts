/** One WebSocket-style message: text frames are strings, binary frames Buffers. */
export interface StreamMessage {
  data: string | Buffer;
  binary: boolean;
}

/** What a stream function sees of the connection that opened its session (no credentials). */
export interface StreamRequestInfo {
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
}
