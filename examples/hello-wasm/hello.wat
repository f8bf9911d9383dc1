;; hello-wasm: a WASI preview1 command module for Skyscale's wasm runtime, written in WebAssembly text.
;; Contract: the input JSON arrives on stdin, the result JSON leaves on stdout, stderr goes to the logs.
;; It reads {"name": "..."} and answers {"message": "Hello <name>"}; without a name it answers
;; {"error": ...}, which marks the execution failed.
;; Rebuild main.wasm (from the repository root): npm run build:examples
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)

  ;; 0..8: one iovec (pointer, length); 16: bytes read/written; 64..: constants; 1024..65536: the input.
  (global $input i32 (i32.const 1024))
  (global $input_max i32 (i32.const 64512))
  (data (i32.const 64) "\"name\"")                                      ;; 6 bytes
  (data (i32.const 80) "{\"message\":\"Hello ")                          ;; 18 bytes
  (data (i32.const 112) "\"}\n")                                         ;; 3 bytes
  (data (i32.const 128) "{\"error\":\"the input needs a \\\"name\\\" string\"}\n") ;; 46 bytes
  (data (i32.const 192) "hello-wasm: greeting\n")                        ;; 21 bytes

  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 16))))

  ;; Reads all of stdin into $input; returns its length.
  (func $read_all (result i32)
    (local $len i32) (local $n i32)
    (loop $more
      (i32.store (i32.const 0) (i32.add (global.get $input) (local.get $len)))
      (i32.store (i32.const 4) (i32.sub (global.get $input_max) (local.get $len)))
      (if (i32.eqz (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 16)))
        (then
          (local.set $n (i32.load (i32.const 16)))
          (local.set $len (i32.add (local.get $len) (local.get $n)))
          (br_if $more (i32.and (i32.ne (local.get $n) (i32.const 0)) (i32.lt_u (local.get $len) (global.get $input_max)))))))
    (local.get $len))

  ;; Position just after the first `"name"` in [$p, $end), or -1.
  (func $find_key (param $p i32) (param $end i32) (result i32)
    (local $i i32)
    (block $none
      (loop $scan
        (br_if $none (i32.gt_u (i32.add (local.get $p) (i32.const 6)) (local.get $end)))
        (local.set $i (i32.const 0))
        (block $differs
          (loop $compare
            (br_if $differs (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.load8_u (i32.add (i32.const 64) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $compare (i32.lt_u (local.get $i) (i32.const 6))))
          (return (i32.add (local.get $p) (i32.const 6))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $scan)))
    (i32.const -1))

  (func $skip_spaces (param $p i32) (param $end i32) (result i32)
    (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.and (i32.ne (local.get $c) (i32.const 32))
          (i32.and (i32.ne (local.get $c) (i32.const 9)) (i32.and (i32.ne (local.get $c) (i32.const 10)) (i32.ne (local.get $c) (i32.const 13))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  (func (export "_start")
    (local $end i32) (local $p i32) (local $start i32) (local $c i32)
    (call $write (i32.const 2) (i32.const 192) (i32.const 21))
    (local.set $end (i32.add (global.get $input) (call $read_all)))
    (block $no_name
      (local.set $p (call $find_key (global.get $input) (local.get $end)))
      (br_if $no_name (i32.lt_s (local.get $p) (i32.const 0)))
      (local.set $p (call $skip_spaces (local.get $p) (local.get $end)))
      (br_if $no_name (i32.ge_u (local.get $p) (local.get $end)))
      (br_if $no_name (i32.ne (i32.load8_u (local.get $p)) (i32.const 58)))            ;; ':'
      (local.set $p (call $skip_spaces (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
      (br_if $no_name (i32.ge_u (local.get $p) (local.get $end)))
      (br_if $no_name (i32.ne (i32.load8_u (local.get $p)) (i32.const 34)))            ;; '"'
      (local.set $start (i32.add (local.get $p) (i32.const 1)))
      (local.set $p (local.get $start))
      ;; The string's bytes are copied as they are, escapes included, so the output stays valid JSON.
      (loop $scan
        (br_if $no_name (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (if (i32.eq (local.get $c) (i32.const 92))                                     ;; '\\' skips the escaped byte
          (then (local.set $p (i32.add (local.get $p) (i32.const 2))) (br $scan)))
        (if (i32.ne (local.get $c) (i32.const 34))
          (then (local.set $p (i32.add (local.get $p) (i32.const 1))) (br $scan))))
      (call $write (i32.const 1) (i32.const 80) (i32.const 18))
      (call $write (i32.const 1) (local.get $start) (i32.sub (local.get $p) (local.get $start)))
      (call $write (i32.const 1) (i32.const 112) (i32.const 3))
      (return))
    (call $write (i32.const 1) (i32.const 128) (i32.const 46))))
