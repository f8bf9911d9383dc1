import { existsSync, lstatSync, readlinkSync } from 'node:fs';

/** Where things appear inside the sandbox. */
export const SANDBOX_PATHS = {
  code: '/code',
  tmp: '/tmp',
  runtime: '/opt/skyscale/runtime',
  node: '/opt/skyscale/node',
  services: '/run/skyscale',
} as const;

/** The uid/gid the function sees; mapped by the user namespace to the instance's host uid. */
export const SANDBOX_UID = 1000;

export interface BwrapFeatures {
  /** `--size` for tmpfs (bubblewrap ≥ 0.8). */
  tmpfsSize: boolean;
  /** `--disable-userns`: no nested user namespaces inside (bubblewrap ≥ 0.8). */
  disableUserns: boolean;
}

export interface BwrapLayout {
  features: BwrapFeatures;
  /** Host dir with the bootstraps and the stub /etc files. */
  runtimeDir: string;
  /** Host dir (per instance) that appears read-only at /code. */
  codeDir: string;
  /** Host dir (per instance) where the host puts Unix sockets; appears read-only at /run/skyscale. */
  servicesDir: string;
  /** Extra read-only binds, e.g. the Node binary's directory when it lives outside /usr. */
  extraReadOnly: Array<{ host: string; inside: string }>;
  network: boolean;
  tmpSizeBytes: number;
  env: Record<string, string>;
  /** Fd bwrap waits on before starting the command (lets the host place it in its cgroup first). */
  blockFd: number;
  /** Fd bwrap reports the namespace init's pid on. */
  infoFd: number;
  /** Fd to read a seccomp filter from, or null for none. */
  seccompFd: number | null;
  command: string[];
}

/** The host's top-level directories that are usually symlinks into /usr (merged-/usr) or real dirs. */
const SYSTEM_DIRS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * Read-only pieces of the host's /etc that programs need to run. Deliberately not /etc itself:
 * no passwd/shadow/group of the host, no ssl/private, no host configuration or credentials.
 */
const ETC_FILES = [
  '/etc/ld.so.cache',
  '/etc/localtime',
  '/etc/alternatives',
  '/etc/ssl/certs',
  '/etc/ssl/openssl.cnf',
  '/etc/nsswitch.conf',
  '/etc/mime.types',
];

export function buildBwrapArgs(layout: BwrapLayout): string[] {
  const args: string[] = ['--unshare-all', '--unshare-user'];
  if (layout.network) args.push('--share-net');
  if (layout.features.disableUserns) args.push('--disable-userns');
  // --as-pid-1: the runtime itself is the namespace's init and bwrap's direct child, so bwrap reaps it
  // whatever way it dies. With bwrap's own init in between, bwrap exits on the runtime's status and
  // leaves that init to the host's pid 1 to reap (a zombie until it does). Killing the runtime (pid 1)
  // makes the kernel kill everything else in the namespace.
  args.push('--as-pid-1', '--die-with-parent', '--new-session', '--hostname', 'sandbox');
  args.push('--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID));

  args.push('--ro-bind', '/usr', '/usr');
  for (const dir of SYSTEM_DIRS) {
    const link = symlinkTarget(dir);
    if (link !== null) args.push('--symlink', link, dir);
    else if (existsSync(dir)) args.push('--ro-bind', dir, dir);
  }
  for (const file of ETC_FILES) args.push('--ro-bind-try', file, file);
  if (layout.network) args.push('--ro-bind-try', '/etc/resolv.conf', '/etc/resolv.conf');
  // Symlinks into the runtime dir, not binds: a bind would be one more host path in /proc/self/mountinfo.
  for (const stub of ['passwd', 'group', 'hosts']) args.push('--symlink', `${SANDBOX_PATHS.runtime}/etc/${stub}`, `/etc/${stub}`);

  args.push('--proc', '/proc', '--dev', '/dev');
  sizedTmpfs(args, layout, '/dev/shm');
  sizedTmpfs(args, layout, SANDBOX_PATHS.tmp);
  args.push('--ro-bind', layout.runtimeDir, SANDBOX_PATHS.runtime);
  for (const bind of layout.extraReadOnly) args.push('--ro-bind', bind.host, bind.inside);
  args.push('--ro-bind', layout.codeDir, SANDBOX_PATHS.code);
  // Connecting to a Unix socket needs no write access to the mount, so read-only is enough.
  args.push('--ro-bind', layout.servicesDir, SANDBOX_PATHS.services);
  // bwrap builds the root on a tmpfs that is writable (and unbounded) unless remounted.
  args.push('--remount-ro', '/dev', '--remount-ro', '/');
  args.push('--chdir', SANDBOX_PATHS.code);

  args.push('--clearenv');
  for (const [name, value] of Object.entries(layout.env)) args.push('--setenv', name, value);
  args.push('--block-fd', String(layout.blockFd), '--info-fd', String(layout.infoFd));
  if (layout.seccompFd !== null) args.push('--seccomp', String(layout.seccompFd));
  args.push('--', ...layout.command);
  return args;
}

function sizedTmpfs(args: string[], layout: BwrapLayout, dest: string): void {
  if (layout.features.tmpfsSize) args.push('--size', String(layout.tmpSizeBytes));
  args.push('--tmpfs', dest);
}

function symlinkTarget(path: string): string | null {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
  } catch {
    return null;
  }
}
