// A webhook receiver as plain as can be: node:http, reads each body, answers 204 and counts the
// distinct webhook-ids. Told how many to expect, it says when it holds them all.
import { createServer } from 'node:http';

interface Expect {
  expect: number;
  tag: string;
}

let target: Expect | null = null;
let seen = new Set<string>();
let duplicates = 0;
let bytes = 0;
let requests = 0;

const server = createServer((req, res) => {
  let size = 0;
  req.on('data', (chunk: Buffer) => (size += chunk.length));
  req.on('end', () => {
    res.writeHead(204).end();
    const id = req.headers['webhook-id'];
    if (typeof id !== 'string' || !target) return;
    requests++;
    bytes += size;
    if (seen.has(id)) duplicates++;
    else seen.add(id);
    if (seen.size === target.expect) {
      process.send?.({ done: target.tag, received: seen.size, duplicates, requests, meanBodyBytes: bytes / requests });
      target = null;
    }
  });
});
server.keepAliveTimeout = 60_000;

process.on('message', (message: Expect) => {
  target = message;
  seen = new Set();
  duplicates = 0;
  bytes = 0;
  requests = 0;
  process.send?.({ ready: message.tag });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
