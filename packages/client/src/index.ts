export { SkyscaleClient, type ClientOptions } from './client.ts';
export { SkyscaleError } from './errors.ts';
export type * from './types.ts';
export { StreamConnection, type StreamData, type StreamOptions, type WebSocketConstructor } from './stream.ts';
