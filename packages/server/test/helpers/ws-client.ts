import WebSocket from 'ws';

export interface TestSocket {
  ws: WebSocket;
  /** Response headers of the 101 (x-execution-id). */
  headers: Record<string, string | string[] | undefined>;
  /** Messages received and not taken yet: strings for text frames, Buffers for binary ones. */
  inbox: Array<string | Buffer>;
  next(timeoutMs?: number): Promise<string | Buffer>;
  send(data: string | Buffer): void;
  closed: Promise<{ code: number; reason: string }>;
}

export type Refused = { refused: true; status: number; body: { error?: { code?: string; message?: string } }; headers: Record<string, string | string[] | undefined> };

/** Opens a WebSocket and waits for the handshake; a refused upgrade resolves with its HTTP status and body. */
export function connect(url: string, headers: Record<string, string> = {}): Promise<TestSocket | Refused> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const inbox: Array<string | Buffer> = [];
    let wake: (() => void) | null = null;
    let upgradeHeaders: TestSocket['headers'] = {};
    const closed = new Promise<{ code: number; reason: string }>((done) => ws.on('close', (code, reason) => {
      done({ code, reason: reason.toString() });
      wake?.();
    }));
    ws.on('message', (data: Buffer, isBinary) => {
      inbox.push(isBinary ? data : data.toString('utf8'));
      wake?.();
    });
    ws.on('upgrade', (res) => (upgradeHeaders = res.headers));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        let parsed = {};
        try {
          parsed = JSON.parse(body);
        } catch {
          // not JSON
        }
        resolve({ refused: true, status: res.statusCode ?? 0, body: parsed, headers: res.headers });
      });
    });
    ws.on('error', (err) => reject(err));
    ws.on('open', () => {
      resolve({
        ws,
        headers: upgradeHeaders,
        inbox,
        closed,
        send: (data) => ws.send(data),
        async next(timeoutMs = 15_000) {
          const end = Date.now() + timeoutMs;
          while (inbox.length === 0) {
            if (ws.readyState === WebSocket.CLOSED) throw new Error('the socket closed while waiting for a message');
            if (Date.now() > end) throw new Error(`no message within ${timeoutMs} ms`);
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 100);
            });
          }
          return inbox.shift()!;
        },
      });
    });
  });
}

export async function open(url: string, headers: Record<string, string> = {}): Promise<TestSocket> {
  const socket = await connect(url, headers);
  if ('refused' in socket) throw new Error(`upgrade refused: ${socket.status} ${JSON.stringify(socket.body)}`);
  return socket;
}
