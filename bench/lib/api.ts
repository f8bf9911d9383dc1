import { SkyscaleClient } from '../../packages/client/src/index.ts';

/** Registers a bench user and returns a client authenticated with a fresh API key. */
export async function benchClient(url: string): Promise<{ client: SkyscaleClient; key: string }> {
  const anon = new SkyscaleClient({ endpoint: url });
  await anon.register('bench', 'bench-password');
  const { token } = await anon.login('bench', 'bench-password');
  const { key } = await new SkyscaleClient({ endpoint: url, token }).createApiKey('bench');
  return { client: new SkyscaleClient({ endpoint: url, apiKey: key }), key };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
