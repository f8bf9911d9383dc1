#!/usr/bin/env node
// The `skyscale` command. Plain JS so it can refuse an old Node before any TypeScript is loaded.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`skyscale needs Node 24 or newer, but this is ${process.version}. Run it with \`npx skyscale\` inside the project (npm installs Node 24), or install Node 24.`);
  process.exit(1);
}
const { run } = await import('../src/cli/main.ts');
await run(process.argv);
