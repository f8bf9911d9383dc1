// Deploy: npx skyscale fn deploy examples/stream-node --name words --runtime node
// Talk:   npx skyscale stream words -q user=ada      (type lines; Ctrl-D to end)
//
// A stream function: one instance per WebSocket connection, so `seen` belongs to this conversation.
export async function stream(messages, send, context) {
  const seen = new Map();
  await send(`hello ${context.request.query.user ?? 'there'}: send me words, "stats" for a summary, "bye" to stop`);
  for await (const message of messages) {
    const text = String(message).trim();
    if (text === 'bye') {
      context.close(4000, 'bye');
      break;
    }
    if (text === 'stats') {
      await send(JSON.stringify(Object.fromEntries(seen)));
      continue;
    }
    for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) seen.set(word, (seen.get(word) ?? 0) + 1);
    await send(`${seen.size} distinct words so far`);
  }
  return { distinctWords: seen.size };
}
