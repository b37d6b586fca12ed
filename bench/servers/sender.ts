// The delivery baseline: a bare sender that POSTs bodies of a given size to the receiver with a
// given concurrency, through undici as the service does, with headers of the same sizes; no
// database, no signing, no bookkeeping.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';

interface Job {
  url: string;
  count: number;
  concurrency: number;
  bodyBytes: number;
}

process.on('message', (job: Job) => {
  void send(job).then((sent) => process.send?.({ sent }));
});

async function send({ url, count, concurrency, bodyBytes }: Job): Promise<number> {
  const agent = new Agent({ connections: concurrency });
  const filler = 'x'.repeat(Math.max(0, bodyBytes - 60));
  let next = 0;
  let sent = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const id = randomUUID();
      const body = JSON.stringify({ id, position: i, data: filler }).padEnd(bodyBytes, ' ');
      const response = await request(url, {
        method: 'POST',
        dispatcher: agent,
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Doudi-Webhooks/1',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          // As long as a real v1 signature: "v1," + 44 base64 characters.
          'webhook-signature': `v1,${'A'.repeat(44)}`,
        },
      });
      await response.body.dump();
      if (response.statusCode < 300) sent++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await agent.close();
  return sent;
}

process.send?.('ready');
process.on('SIGTERM', () => process.exit(0));
