import { AppError, notFound } from '../core/errors.ts';
import type { Principal } from '../core/types.ts';
import { checkSecretName } from '../secrets/service.ts';

/**
 * The seed-001 function contract: `{direct_inputs, object_inputs, secrets}`. `object_inputs` maps labels to
 * `"function_id/object_name"`; each must exist and belong to the caller before work is queued.
 */
export async function checkSeedInput(owner: Principal, input: unknown, objectExists: (owner: Principal, functionId: string, name: string) => Promise<boolean>): Promise<void> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return;
  const { object_inputs: objects, secrets } = input as { object_inputs?: unknown; secrets?: unknown };
  if (objects !== undefined) {
    if (objects === null || typeof objects !== 'object' || Array.isArray(objects)) throw new AppError('VALIDATION_FAILED', 'input.object_inputs must map names to "function_id/object_name"');
    for (const [label, ref] of Object.entries(objects)) {
      const at = typeof ref === 'string' ? ref.indexOf('/') : -1;
      if (typeof ref !== 'string' || at <= 0 || at === ref.length - 1) throw new AppError('VALIDATION_FAILED', `input.object_inputs.${label.slice(0, 64)} must be "function_id/object_name"`);
      if (!(await objectExists(owner, ref.slice(0, at), ref.slice(at + 1)))) throw notFound(`Object ${ref.slice(0, 300)}`);
    }
  }
  if (secrets !== undefined) requestedSecrets(input);
}

/** Secret names an invocation asks for with a top-level `secrets` array (validated). */
export function requestedSecrets(input: unknown): string[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return [];
  const { secrets } = input as { secrets?: unknown };
  if (secrets === undefined) return [];
  if (!Array.isArray(secrets) || secrets.length > 100 || !secrets.every((s) => typeof s === 'string')) throw new AppError('VALIDATION_FAILED', 'input.secrets must be a list of secret names');
  return secrets.map((s: string) => checkSecretName(s));
}

/** The `"function_id/object_name"` references of a seed-shaped input (already checked at acceptance). */
export function objectRefs(input: unknown): string[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return [];
  const objects = (input as { object_inputs?: unknown }).object_inputs;
  if (objects === null || typeof objects !== 'object' || Array.isArray(objects)) return [];
  return Object.values(objects).filter((ref): ref is string => typeof ref === 'string').slice(0, 1000);
}
