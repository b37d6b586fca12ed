// The pain.001 baseline: a bare node http server writing a file's header, BARE_COUNT copies of one
// pre-rendered CdtTrfTxInf (joined 2,000 at a time, waiting for the socket to drain), and its end.
// No database, no auth, no decryption: what streaming the bytes alone costs.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const head = process.env.BARE_HEAD ?? '';
const record = process.env.BARE_RECORD ?? '';
const tail = process.env.BARE_TAIL ?? '';
const count = Number(process.env.BARE_COUNT ?? 0);
const AT_ONCE = 2_000;

const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/xml; charset=utf-8' });
  res.write(head);
  let sent = 0;
  const more = () => {
    while (sent < count) {
      const n = Math.min(AT_ONCE, count - sent);
      // Built afresh each time, as a real writer would.
      let chunk = '';
      for (let i = 0; i < n; i++) chunk += record;
      sent += n;
      if (!res.write(chunk)) return void res.once('drain', more);
    }
    res.end(tail);
  };
  more();
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
