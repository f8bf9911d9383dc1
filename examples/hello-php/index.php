<?php
// Deploy: npx skyscale fn deploy examples/hello-php --name hello-php --runtime php
// The file is loaded once per instance; handler() runs per invocation, with the event decoded to arrays.

$served = 0; // survives between invocations of a warm instance

function handler(array|string|int|float|bool|null $event, $context): array
{
    global $served;
    $served++;
    $name = is_array($event) && is_string($event['name'] ?? null) ? $event['name'] : 'world';
    echo "greeting {$name}\n";                       // echo goes to the execution's logs
    fwrite(STDERR, "served {$served} so far\n");     // so does stderr
    return [
        'message' => "Hello {$name}",
        'greeting_env' => getenv('GREETING') ?: null,
        'execution' => $context->executionId,
        'served' => $served,
    ];
}
