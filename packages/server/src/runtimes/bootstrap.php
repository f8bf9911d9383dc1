<?php
/**
 * Skyscale PHP runtime bootstrap. Runs INSIDE the sandbox (php-cli -n, see runtime-binaries.ts).
 *
 * Same line protocol as bootstrap.py: host messages arrive on fd 3, ours leave on fd 4. The function's
 * file is loaded once; each invocation calls `handler($event, $context)` with the event decoded to
 * arrays. User output (echo, print, printf) is captured per execution through output buffering and
 * becomes `log` messages; warnings and notices are logged; a Throwable is the execution's error; a
 * fatal error (memory_limit included) or exit() is reported by the shutdown function.
 */

namespace Skyscale\Runtime;

const FLUSH_BYTES = 4096;
const JSON_DEPTH = 1 << 20;
const JSON_OUT = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION;
const FATAL = E_ERROR | E_PARSE | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR | E_RECOVERABLE_ERROR;
const LEVELS = [E_WARNING => 'Warning', E_NOTICE => 'Notice', E_DEPRECATED => 'Deprecated', E_USER_WARNING => 'Warning', E_USER_NOTICE => 'Notice', E_USER_DEPRECATED => 'Deprecated', E_STRICT => 'Strict Standards'];

final class HandlerNotFoundError extends \Error {}

final class Execution
{
    public int $forwarded = 0;
    public int $produced = 0;
    public int $dropped = 0;
    private string $pending = '';
    private string $stream = 'stdout';

    public function __construct(public readonly string $id, public readonly string $kind) {}

    public function write(string $stream, string $text): void
    {
        if ($text === '') return;
        if ($stream !== $this->stream) {
            $this->flush();
            $this->stream = $stream;
        }
        $this->produced += strlen($text);
        $this->pending .= $text;
        if (str_contains($text, "\n") || strlen($this->pending) >= FLUSH_BYTES) $this->flush();
        if ($this->produced > Runtime::$limits['outputBytes']) {
            $this->flush();
            Runtime::send(['type' => 'output_exceeded', 'id' => $this->id, 'bytes' => $this->produced]);
            // The spewing code may be a loop we cannot interrupt: park here, the host kills us.
            for (;;) sleep(3600);
        }
    }

    public function flush(): void
    {
        if ($this->pending === '') return;
        $data = $this->pending;
        $this->pending = '';
        $room = Runtime::$limits['logBytes'] - $this->forwarded;
        if ($room <= 0) {
            $this->dropped += strlen($data);
            return;
        }
        $kept = substr($data, 0, $room);
        $this->forwarded += strlen($kept);
        $this->dropped += strlen($data) - strlen($kept);
        Runtime::send(['type' => 'log', 'id' => $this->id, 'stream' => $this->stream, 'data' => $kept]);
    }
}

final class Context
{
    public function __construct(
        public readonly string $executionId,
        public readonly string $functionId,
        public readonly string $functionName,
        public readonly string $functionVersion,
        public readonly int|float $deadline,
        private readonly Execution $execution,
    ) {}

    public function getRemainingTimeInMillis(): int
    {
        return max(0, (int) ($this->deadline - microtime(true) * 1000));
    }

    public function log(mixed ...$values): void
    {
        $parts = array_map(fn ($v) => is_string($v) ? $v : json_encode($v, JSON_OUT | JSON_INVALID_UTF8_SUBSTITUTE), $values);
        $this->execution->write('stdout', implode(' ', $parts) . "\n");
    }
}

final class Runtime
{
    /** @var array{logBytes: int, outputBytes: int} */
    public static array $limits = ['logBytes' => 256 * 1024, 'outputBytes' => 6 * 1024 * 1024];
    public static ?Execution $current = null;
    public static string $codeRoot = '/code';
    /** @var resource */
    private static $out;
    /** @var callable|null */
    private static $handler = null;
    private static string $id = '';
    private static string $name = '';
    private static string $version = '';
    private static bool $forwarder = false;

    public static function send(array $message): void
    {
        self::sendLine(json_encode($message, JSON_OUT | JSON_INVALID_UTF8_SUBSTITUTE) . "\n");
    }

    private static function sendLine(string $line): void
    {
        for ($offset = 0, $length = strlen($line); $offset < $length; $offset += $written) {
            $written = fwrite(self::$out, $offset === 0 ? $line : substr($line, $offset));
            if ($written === false || $written === 0) exit(70);
        }
    }

    /** Output-buffer callback: echo and friends land here instead of on fd 1. */
    public static function capture(string $buffer, int $phase): string
    {
        self::$current?->write('stdout', $buffer);
        return '';
    }

    public static function onError(int $level, string $message, string $file, int $line): bool
    {
        if (!(error_reporting() & $level)) return false; // silenced with @
        $label = LEVELS[$level] ?? 'Error';
        self::$current?->write('stderr', "PHP {$label}:  {$message} in {$file} on line {$line}\n");
        return true;
    }

    /** A fatal error or exit() ends the process: the call in flight still gets its answer. */
    public static function onShutdown(): void
    {
        $execution = self::$current;
        if (self::$forwarder || $execution === null) return;
        while (ob_get_level() > 0) ob_end_flush();
        $execution->flush();
        $last = error_get_last();
        $fatal = $last !== null && ($last['type'] & FATAL) !== 0;
        $error = $fatal
            ? ['name' => 'FatalError', 'message' => $last['message'], 'stack' => "PHP Fatal error:  {$last['message']} in {$last['file']} on line {$last['line']}"]
            : ['name' => 'ExitError', 'message' => 'The function ended the PHP process (exit or die)', 'stack' => ''];
        $outOfMemory = $fatal && str_starts_with($last['message'], 'Allowed memory size');
        $type = $execution->kind === 'load' ? 'loaded' : 'result';
        // exiting: the host must not send this process another invocation.
        self::send(['type' => $type, 'id' => $execution->id, 'ok' => false, 'error' => $error, 'dropped' => $execution->dropped, 'outOfMemory' => $outOfMemory, 'exiting' => true]);
    }

    public static function errorPayload(\Throwable $e): array
    {
        $frames = array_filter(explode("\n", $e->getTraceAsString()), fn ($f) => !str_contains($f, __FILE__) && !str_ends_with($f, '{main}'));
        $where = $e->getFile() === __FILE__ ? '' : " in {$e->getFile()}:{$e->getLine()}";
        $stack = get_class($e) . ": {$e->getMessage()}{$where}" . ($frames ? "\n" . implode("\n", $frames) : '');
        return ['name' => (new \ReflectionClass($e))->getShortName(), 'message' => $e->getMessage(), 'stack' => $stack];
    }

    private static function load(array $message): void
    {
        self::$limits = array_merge(self::$limits, $message['limits'] ?? []);
        // Stem cells start at the largest size; the function's own (narrower) limit sets PHP's cap.
        if (is_int($message['limits']['memoryMb'] ?? null)) ini_set('memory_limit', max(16, intdiv($message['limits']['memoryMb'] * 3, 4)) . 'M');
        foreach ($message['env'] ?? [] as $key => $value) self::setEnv((string) $key, (string) $value);
        self::$id = (string) ($message['functionId'] ?? '');
        self::$name = (string) ($message['functionName'] ?? '');
        self::$version = (string) ($message['functionVersion'] ?? '');
        $execution = self::$current = new Execution((string) $message['id'], 'load');
        try {
            $api = isset($message['api']['socket']) ? HostApiForwarder::start($message['api']['socket'], $message['api']['host'] ?? '127.0.0.1', (int) ($message['api']['maxConnections'] ?? 16), function () {
                self::$forwarder = true;
            }) : null;
            if ($api !== null) self::setEnv('API_BASE_URL', $api);
            elseif (isset($message['api']['socket'])) $execution->write('stderr', "skyscale: API_BASE_URL is not available: this php-cli has no pcntl extension\n");
            self::$handler = self::resolveHandler((string) $message['handler']);
            $reply = ['type' => 'loaded', 'id' => $execution->id, 'ok' => true];
        } catch (\Throwable $e) {
            $reply = ['type' => 'loaded', 'id' => $execution->id, 'ok' => false, 'error' => self::errorPayload($e)];
        }
        self::finish($execution, $reply);
    }

    private static function setEnv(string $key, string $value): void
    {
        putenv("{$key}={$value}");
        $_ENV[$key] = $value;
    }

    private static function resolveHandler(string $spec): callable
    {
        $dot = strrpos($spec, '.');
        if ($dot === false || $dot === 0 || $dot === strlen($spec) - 1) throw new HandlerNotFoundError("Handler '{$spec}' must look like 'file.function'");
        $module = substr($spec, 0, $dot);
        $function = substr($spec, $dot + 1);
        $file = self::$codeRoot . "/{$module}.php";
        if (!is_file($file)) throw new HandlerNotFoundError("Cannot find module '{$module}' ({$module}.php in the code directory)");
        (static function (string $file): void {
            require $file; // in its own scope: the file sees no bootstrap variables
        })($file);
        if (!function_exists($function)) throw new HandlerNotFoundError("Handler '{$spec}': {$module}.php defines no function '{$function}'");
        return $function;
    }

    private static function invoke(array $message): void
    {
        $execution = self::$current = new Execution((string) $message['id'], 'invoke');
        $ctx = $message['context'] ?? [];
        $context = new Context((string) ($ctx['executionId'] ?? $execution->id), self::$id, self::$name, self::$version, $ctx['deadline'] ?? 0, $execution);
        $body = null;
        try {
            if (self::$handler === null) throw new \RuntimeException('No function is loaded in this instance');
            $value = (self::$handler)($message['event'] ?? null, $context);
            try {
                $body = json_encode($value, JSON_OUT | JSON_THROW_ON_ERROR, JSON_DEPTH);
            } catch (\JsonException $e) {
                $reply = ['type' => 'result', 'id' => $execution->id, 'ok' => false, 'error' => ['name' => 'TypeError', 'message' => "Handler result is not JSON-serialisable: {$e->getMessage()}", 'stack' => '']];
            }
        } catch (\Throwable $e) {
            $reply = ['type' => 'result', 'id' => $execution->id, 'ok' => false, 'error' => self::errorPayload($e)];
        }
        if ($body === null) {
            self::finish($execution, $reply);
        } elseif (strlen($body) > self::$limits['outputBytes']) {
            self::finish($execution, ['type' => 'output_exceeded', 'id' => $execution->id, 'bytes' => strlen($body)]);
        } else {
            self::drainOutput($execution);
            self::$current = null;
            self::sendLine('{"type":"result","id":' . json_encode($execution->id) . ',"ok":true,"dropped":' . $execution->dropped . ',"result":' . $body . "}\n");
        }
    }

    /** Sends what the execution printed to its logs, including buffers it opened and left open. */
    private static function drainOutput(Execution $execution): void
    {
        while (ob_get_level() > 1) ob_end_flush();
        if (ob_get_level() === 1) ob_flush();
        else self::startCapture(); // the code closed our buffer: a new one for the next execution
        $execution->flush();
    }

    private static function startCapture(): void
    {
        // chunk size 1: the callback sees every echo, so a line is logged even if the instance then dies.
        ob_start([self::class, 'capture'], 1);
    }

    private static function finish(Execution $execution, array $reply): void
    {
        self::drainOutput($execution);
        self::$current = null;
        if ($reply['type'] !== 'output_exceeded') $reply['dropped'] = $execution->dropped;
        self::send($reply);
    }

    /** Fds inherited by accident from the host must not be reachable by user code; PHP can close a raw fd only through FFI. */
    private static function closeInheritedFds(): void
    {
        if (!class_exists(\FFI::class, false)) return;
        try {
            $libc = \FFI::cdef('int close(int fd);', 'libc.so.6');
        } catch (\Throwable) {
            return;
        }
        foreach (scandir('/proc/self/fd') ?: [] as $fd) {
            if (is_numeric($fd) && (int) $fd > 4 && @readlink("/proc/self/fd/{$fd}") !== __FILE__) $libc->close((int) $fd);
        }
    }

    public static function main(string $codeRoot): void
    {
        self::closeInheritedFds();
        self::$codeRoot = rtrim($codeRoot, '/');
        $in = fopen('php://fd/3', 'rb');
        self::$out = fopen('php://fd/4', 'wb');
        self::startCapture();
        set_error_handler([self::class, 'onError']);
        register_shutdown_function([self::class, 'onShutdown']);
        self::send(['type' => 'ready', 'runtime' => 'php', 'version' => PHP_VERSION]);
        while (($line = fgets($in)) !== false) {
            if (trim($line) === '') continue;
            $message = json_decode($line, true, JSON_DEPTH, JSON_THROW_ON_ERROR);
            match ($message['type'] ?? null) {
                'load' => self::load($message),
                'invoke' => self::invoke($message),
                default => null,
            };
        }
    }
}

require __DIR__ . '/host-api-forwarder.php';

Runtime::main($argv[1] ?? '/code');
