import type { Readable } from 'node:stream';
import type { ObjectInfo } from '../types.ts';

/**
 * What a function's host API needs of the object store: reads on behalf of the function's owner. A
 * function, or an object, the owner does not have is an AppError NOT_FOUND, like a missing one.
 */
export interface ObjectReader {
  list(ownerId: string, functionId: string): Promise<ObjectInfo[]>;
  open(ownerId: string, functionId: string, name: string): Promise<{ info: ObjectInfo; stream: Readable }>;
}
