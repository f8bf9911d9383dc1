import type { AuthService } from '../auth/service.ts';
import { AppError } from '../core/errors.ts';
import { ownerPrincipal, type FunctionRecord } from '../core/types.ts';
import type { ExecutionService } from '../executions/service.ts';
import type { FunctionService } from '../functions/service.ts';
import { eventFor } from '../gateway/http-event.ts';
import type { GatewayBackend } from '../gateway/server.ts';

/**
 * The gateway's view of the platform. The gateway has checked the route's auth (or the API key) itself,
 * so it acts for the function's owner. A function found by name travels back in its handle and is not
 * looked up again by id.
 */
export function gatewayBackend(deps: { auth: AuthService; functions: FunctionService; executions: ExecutionService }): GatewayBackend {
  const { auth, functions, executions } = deps;
  return {
    authenticate: (key, clientAddress) => auth.authenticate(key, clientAddress),
    findFunction: async (ownerId, name) => {
      try {
        const fn = await functions.getByName(ownerPrincipal(ownerId), name);
        return { ownerId, functionId: fn.id, resolved: fn };
      } catch (err) {
        if (err instanceof AppError && err.status === 404) return undefined;
        throw err;
      }
    },
    invoke: async (handle, request, context) => {
      const owner = ownerPrincipal(handle.ownerId);
      const known = handle.resolved as FunctionRecord | undefined;
      const fn = known?.id === handle.functionId && known.ownerId === handle.ownerId ? known : await functions.get(owner, handle.functionId);
      const event = eventFor(context.eventShape ?? fn.eventShape, request);
      const { execution, resultJson } = await executions.invokeSyncJson(owner, fn, event, undefined, 'http', { requestId: context.requestId });
      return { id: execution.id, status: execution.status, result: execution.result, resultJson, error: execution.error };
    },
  };
}
