;; counter-wasm: a WASM function with an exported handler (a WASI reactor) for Skyscale's wasm runtime.
;; Such a module is instantiated once and kept warm, its memory with it: it answers {"count": N}, N being
;; the invocations this instance has served. Contract: the host calls alloc(len), writes the input JSON
;; there and calls handle(ptr, len), which returns (result pointer << 32) | result length. stdout and
;; stderr are logs. A module that exports _start instead reads stdin and prints its result (hello-wasm).
;; Rebuild main.wasm (from the repository root): npm run build:examples
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))

  ;; 0..8: one iovec; 16: bytes written; 64..: constants; 1024..: the result; 4096..: the input.
  (data (i32.const 64) "{\"count\":")                                  ;; 9 bytes
  (data (i32.const 96) "counter-wasm: one more\n")                      ;; 23 bytes

  (func (export "alloc") (param $len i32) (result i32)
    (i32.const 4096))

  (func (export "handle") (param $ptr i32) (param $len i32) (result i64)
    (local $n i32) (local $i i32) (local $digits i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.store (i32.const 0) (i32.const 96))
    (i32.store (i32.const 4) (i32.const 23))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    ;; The count's decimal digits, written backwards to end at 1100.
    (local.set $n (global.get $count))
    (local.set $i (i32.const 1100))
    (loop $digit
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (local.get $i) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (i32.ne (local.get $n) (i32.const 0))))
    (local.set $digits (i32.sub (i32.const 1100) (local.get $i)))
    ;; {"count": + digits + }
    (memory.copy (i32.const 1024) (i32.const 64) (i32.const 9))
    (memory.copy (i32.const 1033) (local.get $i) (local.get $digits))
    (i32.store8 (i32.add (i32.const 1033) (local.get $digits)) (i32.const 125))
    (i64.or
      (i64.shl (i64.const 1024) (i64.const 32))
      (i64.extend_i32_u (i32.add (local.get $digits) (i32.const 10))))))
