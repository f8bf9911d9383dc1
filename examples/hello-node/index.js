// Deploy: npx skyscale fn deploy examples/hello-node --name hello-node --runtime node
export async function handler(event, context) {
  context.log('greeting', event.name);
  return { message: `Hello ${event.name ?? 'world'}`, execution: context.executionId };
}
