// Deploy: npx skyscale fn deploy examples/hello-typescript --name hello-ts --runtime node
// TypeScript is bundled with esbuild at deploy; extensionless imports and enums work.
import { Mood, greet } from './lib/greet';

interface Event {
  name?: string;
  mood?: Mood;
}

export const handler = async (event: Event) => greet(event.name ?? 'world', event.mood ?? Mood.Happy);
