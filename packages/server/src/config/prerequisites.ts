import { findExecutable as findOnPath } from '../sandbox/process/probe.ts';

export interface Prerequisite {
  name: string;
  found: string | undefined;
  install: string;
  neededFor: string;
}

/** Finds an executable on PATH (or at an absolute path) without spawning a shell. */
export function findExecutable(name: string): string | undefined {
  return findOnPath(name, name.includes('/') ? name : undefined) ?? undefined;
}

/** The system packages the platform needs, each with the command that installs it on Debian/Ubuntu. */
export function checkPrerequisites(): Prerequisite[] {
  return [
    { name: 'bubblewrap', found: findExecutable('bwrap'), install: 'apt-get install -y bubblewrap', neededFor: 'sandboxing function code' },
    { name: 'python3', found: findExecutable('/usr/bin/python3') ?? findExecutable('python3'), install: 'apt-get install -y python3', neededFor: 'the python runtime' },
  ];
}

export function describeMissing(prereqs: Prerequisite[]): string[] {
  const lines: string[] = [];
  if (process.platform !== 'linux') lines.push(`Skyscale runs functions with Linux namespaces; this is ${process.platform}. Use a Linux host or VM.`);
  for (const p of prereqs) if (p.found === undefined) lines.push(`${p.name} is missing (needed for ${p.neededFor}). Install it with: ${p.install}`);
  return lines;
}
