# Deploy: npx skyscale fn deploy examples/stream-python --name averages --runtime python
# Talk:   printf '3\n4\n5\n' | npx skyscale stream averages
#
# A stream function: one instance per WebSocket connection; the running state is this connection's.


def stream(messages, send, context):
    count, total = 0, 0.0
    for message in messages:
        try:
            value = float(message)
        except ValueError:
            send("not a number: %r" % message)
            continue
        count += 1
        total += value
        send("average of %d: %g" % (count, total / count))
    return {"count": count, "average": total / count if count else None}
