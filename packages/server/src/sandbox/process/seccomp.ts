/**
 * A seccomp-bpf filter for sandboxed runtimes (passed to bwrap with --seccomp). Namespaces, an
 * unprivileged uid and no capabilities already stop these calls from doing harm; the filter removes
 * the kernel code behind them from reach (the usual source of local privilege escalations). It is a
 * deny list in the spirit of Docker's default profile, x86-64 only; other architectures run without.
 */

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

/** seccomp_data offsets: nr, arch, then args[] (low 32 bits of args[0] at 16 on little-endian). */
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARG0 = 16;

/** Refused with EPERM. x86-64 numbers. */
const DENIED_X64: Record<string, number> = {
  ptrace: 101, syslog: 103, vhangup: 153, pivot_root: 155, adjtimex: 159, acct: 163, settimeofday: 164,
  mount: 165, umount2: 166, swapon: 167, swapoff: 168, reboot: 169, iopl: 172, ioperm: 173, init_module: 175,
  delete_module: 176, quotactl: 179, lookup_dcookie: 212, clock_settime: 227, kexec_load: 246, add_key: 248,
  request_key: 249, keyctl: 250, unshare: 272, perf_event_open: 298, fanotify_init: 300, name_to_handle_at: 303,
  open_by_handle_at: 304, clock_adjtime: 305, setns: 308, process_vm_readv: 310, process_vm_writev: 311, kcmp: 312,
  finit_module: 313, kexec_file_load: 320, bpf: 321, userfaultfd: 323, open_tree: 428, move_mount: 429, fsopen: 430,
  fsconfig: 431, fsmount: 432, fspick: 433, pidfd_getfd: 438, mount_setattr: 442,
};

/**
 * Refused with ENOSYS, which makes libraries fall back instead of failing: io_uring (libuv then
 * uses its thread pool) and clone3 (glibc then uses clone, whose flags this filter can inspect).
 */
const UNAVAILABLE_X64: Record<string, number> = { io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, clone3: 435 };

const CLONE_X64 = 56;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET: no new namespaces from inside. */
const CLONE_NEW_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The compiled filter for this machine, or null where there is none (not x86-64). */
export function seccompProgram(arch: string = process.arch): Buffer | null {
  if (arch !== 'x64') return null;
  const denied = Object.values(DENIED_X64);
  const unavailable = Object.values(UNAVAILABLE_X64);
  // Layout: [checks...] ALLOW, DENY_EPERM, DENY_ENOSYS. Jumps are relative to the next instruction.
  const checks: Array<(pc: number, eperm: number, enosys: number) => Instruction> = [
    () => ({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: OFFSET_ARCH }),
    (pc, _eperm, enosys) => ({ code: BPF_JEQ_K, jt: 0, jf: enosys - pc - 1, k: AUDIT_ARCH_X86_64 }),
    () => ({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: OFFSET_NR }),
    (pc, _eperm, enosys) => ({ code: BPF_JGE_K, jt: enosys - pc - 1, jf: 0, k: X32_SYSCALL_BIT }),
    ...denied.map((nr) => (pc: number, eperm: number) => ({ code: BPF_JEQ_K, jt: eperm - pc - 1, jf: 0, k: nr })),
    ...unavailable.map((nr) => (pc: number, _eperm: number, enosys: number) => ({ code: BPF_JEQ_K, jt: enosys - pc - 1, jf: 0, k: nr })),
    // clone: allowed unless it asks for a namespace. The last check, so A may be overwritten.
    () => ({ code: BPF_JEQ_K, jt: 0, jf: 2, k: CLONE_X64 }),
    () => ({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: OFFSET_ARG0 }),
    (pc, eperm) => ({ code: BPF_JSET_K, jt: eperm - pc - 1, jf: 0, k: CLONE_NEW_NAMESPACES }),
  ];
  const allowAt = checks.length;
  const epermAt = allowAt + 1;
  const enosysAt = allowAt + 2;
  const program: Instruction[] = checks.map((build, pc) => build(pc, epermAt, enosysAt));
  program.push(
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ALLOW },
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ERRNO | EPERM },
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ERRNO | ENOSYS },
  );
  return encode(program);
}

/** struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } in host (little-endian) byte order. */
function encode(program: Instruction[]): Buffer {
  const buffer = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    if (ins.jt > 255 || ins.jf > 255 || ins.jt < 0 || ins.jf < 0) throw new Error(`seccomp jump out of range at ${i}`);
    buffer.writeUInt16LE(ins.code, i * 8);
    buffer.writeUInt8(ins.jt, i * 8 + 2);
    buffer.writeUInt8(ins.jf, i * 8 + 3);
    buffer.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return buffer;
}
