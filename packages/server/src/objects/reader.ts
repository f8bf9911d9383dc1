import type { ObjectReader } from '../core/ports/objects.ts';
import { ownerPrincipal } from '../core/types.ts';
import type { ObjectService } from './service.ts';

/** The object store as the worker's host API reads it: on behalf of the function's owner. */
export function objectReader(objects: ObjectService): ObjectReader {
  return {
    list: (ownerId, functionId) => objects.list(ownerPrincipal(ownerId), functionId),
    open: (ownerId, functionId, name) => objects.open(ownerPrincipal(ownerId), functionId, name),
  };
}
