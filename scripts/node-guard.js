// Fails loudly when npm fell back to an older system Node (e.g. after `npm ci --ignore-scripts`).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`Skyscale needs Node 24 or newer, but this is ${process.version} (${process.execPath}).`);
  console.error('Run `npm install` without --ignore-scripts so the pinned `node` devDependency installs.');
  process.exit(1);
}
