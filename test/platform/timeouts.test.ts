import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { testApp } from '../helpers.js';
import { createSource, incomeRecords, ndjson } from '../modules/matching/sources.fixtures.js';

/** Sends `chunks` `gapMs` apart on one request; resolves with the status, or the error that ended it. */
function drip(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  chunks: string[],
  gapMs: number,
) {
  return new Promise<{ status?: number; body?: string; error?: string }>((resolve) => {
    const request = http.request({ method, host: '127.0.0.1', port, path, headers });
    request.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    request.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    void (async () => {
      for (const chunk of chunks) {
        if (request.destroyed) return;
        request.write(chunk);
        await sleep(gapMs);
      }
      if (!request.destroyed) request.end();
    })();
  });
}

t.test('a slow body is cut at REQUEST_TIMEOUT_MS; a streamed upload is not', async (t) => {
  const { app, admin, client } = await testApp(t, {
    env: { REQUEST_TIMEOUT_MS: '300', UPLOAD_IDLE_TIMEOUT_MS: '5000' },
  });
  const provider = await client('data_provider');
  const sourceId = await createSource(app, admin, provider);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;

  // An ordinary JSON body dripped over more than the limit: the connection is closed.
  const body = JSON.stringify({ name: 'slow', agency: 'civil_affairs', jurisdiction: '2201' });
  const slow = await drip(
    port,
    'POST',
    '/v1/clients',
    { ...admin.headers, 'content-type': 'application/json', 'content-length': String(body.length) },
    [body.slice(0, 10), body.slice(10, 20), body.slice(20)],
    400,
  );
  t.ok(slow.error, `cut off (${slow.error ?? slow.status})`);

  // Records dripped over several times the limit, as a big load arrives: it completes.
  const records = incomeRecords(60);
  const chunks = Array.from({ length: 6 }, (_, i) => ndjson(records.slice(i * 10, i * 10 + 10)));
  const upload = await drip(
    port,
    'PUT',
    `/v1/matching/sources/${sourceId}/snapshots/slow`,
    { ...provider.headers, 'content-type': 'application/x-ndjson' },
    chunks,
    200,
  );
  t.equal(upload.status, 201, upload.body ?? upload.error ?? '');
  t.match(JSON.parse(upload.body ?? '{}'), { status: 'complete', records: 60 });
});

t.test('an injected request is not timed (its socket is a stand-in)', async (t) => {
  const { app, admin } = await testApp(t, { env: { REQUEST_TIMEOUT_MS: '50' } });
  const body = JSON.stringify({ name: 'slow inject', agency: 'civil_affairs', jurisdiction: '2201' });
  async function* slowly() {
    yield body.slice(0, 10);
    await sleep(200);
    yield body.slice(10);
  }
  const res = await app.inject({
    method: 'POST',
    url: '/v1/clients',
    headers: { ...admin.headers, 'content-type': 'application/json' },
    payload: Readable.from(slowly()),
  });
  t.equal(res.statusCode, 201, res.body);
});

t.test('an answer that takes longer than CONNECTION_TIMEOUT_MS is not cut off', async (t) => {
  const seen: (number | undefined)[] = [];
  const { app } = await testApp(t, {
    env: { CONNECTION_TIMEOUT_MS: '300' },
    beforeReady: async (app) => {
      // A handler at work for three times the connection timeout, sending nothing meanwhile.
      app.get('/test/slow', async (request) => {
        seen.push(request.raw.socket.timeout);
        await sleep(900);
        return { done: true };
      });
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const answer = await new Promise<{ status?: number; body?: string; error?: string }>((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/test/slow' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    request.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
  t.equal(answer.status, 200, `answered (${answer.error ?? answer.status})`);
  t.same(JSON.parse(answer.body ?? '{}'), { done: true });
  t.same(seen, [0], 'no idle timeout on the socket while the answer is made');
  t.equal(app.server.timeout, 300, 'the connection timeout itself is unchanged');
});
