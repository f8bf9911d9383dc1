import { Type } from 'typebox';
import { StringEnum } from './common.ts';
import { StreamPolicy } from './functions.ts';

export const StreamInstance = Type.Object({
  id: Type.String(),
  state: StringEnum(['busy', 'idle']),
  since: Type.String({ format: 'date-time', description: 'busy: when its session began; idle: when it was last used' }),
  sessions: Type.Integer({ description: 'Sessions the instance has served, the current one included' }),
});

/** The stream instances of one function version. */
export const StreamPool = Type.Object({
  version: Type.Integer(),
  policy: StreamPolicy,
  starting: Type.Integer({ description: 'Instances being started (cold starts and minFree top-ups)' }),
  instances: Type.Array(StreamInstance),
});

/** An open WebSocket session. */
export const StreamSession = Type.Object({
  executionId: Type.String(),
  functionId: Type.String(),
  instanceId: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  messagesIn: Type.Integer({ description: 'Client → function messages so far' }),
  messagesOut: Type.Integer({ description: 'Function → client messages so far' }),
  bufferedBytes: Type.Integer({ description: 'Bytes the platform holds for the session (bounded by the flow-control windows)' }),
  clientBufferedBytes: Type.Integer({ description: 'Bytes accepted for the client and not yet written to its socket' }),
});

/** GET /functions/{id}/streams (docs/streams.md). */
export const StreamStatus = Type.Object({
  pools: Type.Array(StreamPool, { description: 'One pool per function version that has stream instances' }),
  sessions: Type.Array(StreamSession),
});
