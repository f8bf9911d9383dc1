/**
 * Every request and response schema of the control API. Routes reference them; the OpenAPI document
 * and the SDK's types (packages/client/src/generated/api.ts, `npm run generate`) are made from them.
 */
export * from './common.ts';
export * from './auth.ts';
export * from './functions.ts';
export * from './executions.ts';
export * from './system.ts';
export * from './metrics.ts';
export * from './streams.ts';
export * from './objects.ts';
export * from './secrets.ts';
export * from './workers.ts';
