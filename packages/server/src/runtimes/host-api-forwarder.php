<?php
/**
 * Part of the PHP bootstrap (runs INSIDE the sandbox). The host API is a Unix socket; function code
 * reaches it as http://127.0.0.1:<port>. PHP runs the function on its only thread, so the forwarder is
 * a forked process: it keeps serving while the function blocks on its own request. It dies with the
 * instance (pid namespace; unsandboxed, the instance's process group).
 */

namespace Skyscale\Runtime;

final class HostApiForwarder
{
    /**
     * Listens on a loopback port, forks the forwarding process and returns the base URL. At most
     * $maxConnections are forwarded at once (each costs the platform a descriptor); further ones wait
     * in the listen queue.
     */
    public static function start(string $socketPath, string $host, int $maxConnections, callable $inChild): ?string
    {
        if (!function_exists('pcntl_fork')) return null; // a php-cli built without pcntl: no API_BASE_URL
        $server = stream_socket_server("tcp://{$host}:0", $errno, $error);
        if ($server === false) throw new \RuntimeException("host API forwarder: cannot listen: {$error}");
        $port = (int) substr(strrchr(stream_socket_get_name($server, false), ':'), 1);
        $pid = pcntl_fork();
        if ($pid === -1) throw new \RuntimeException('host API forwarder: fork failed');
        if ($pid === 0) {
            $inChild();
            self::serve($server, $socketPath, max(1, $maxConnections));
        }
        fclose($server);
        return "http://127.0.0.1:{$port}";
    }

    /** @param resource $server */
    private static function serve($server, string $socketPath, int $maxConnections): never
    {
        $streams = []; // id => open stream
        $peers = [];   // id => id of the other end
        $reading = []; // id => true until that end has sent EOF
        for (;;) {
            // Two ends per connection; with every slot taken, new connections wait until one closes.
            $read = count($peers) < 2 * $maxConnections ? [$server] : [];
            foreach ($reading as $id => $_) $read[] = $streams[$id];
            $write = $except = null;
            if (@stream_select($read, $write, $except, null) === false) continue;
            foreach ($read as $stream) {
                if ($stream === $server) {
                    $client = @stream_socket_accept($server, 0);
                    $upstream = $client === false ? false : @stream_socket_client("unix://{$socketPath}", $errno, $error, 5);
                    if ($upstream === false) {
                        if ($client !== false) fclose($client);
                        else usleep(50_000); // out of descriptors in the sandbox: don't spin on the ready listener
                        continue;
                    }
                    [$a, $b] = [(int) $client, (int) $upstream];
                    $streams += [$a => $client, $b => $upstream];
                    $peers += [$a => $b, $b => $a];
                    $reading += [$a => true, $b => true];
                    continue;
                }
                $id = (int) $stream;
                $peer = $peers[$id];
                $data = @fread($stream, 65536);
                if ($data !== false && $data !== '') {
                    for ($done = 0; $done < strlen($data); $done += $n) {
                        $n = @fwrite($streams[$peer], substr($data, $done));
                        if ($n === false || $n === 0) break;
                    }
                    continue;
                }
                // EOF: pass it on; the connection is done once both ends have sent theirs.
                unset($reading[$id]);
                if (isset($reading[$peer])) {
                    @stream_socket_shutdown($streams[$peer], STREAM_SHUT_WR);
                    continue;
                }
                foreach ([$id, $peer] as $end) {
                    fclose($streams[$end]);
                    unset($streams[$end], $peers[$end]);
                }
            }
        }
    }
}
