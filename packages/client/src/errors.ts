/** An error answered by the Skyscale API (or a transport failure, with code NETWORK_ERROR). */
export class SkyscaleError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, requestId?: string, details?: unknown) {
    super(message);
    this.name = 'SkyscaleError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
  }
}
