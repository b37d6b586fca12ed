import { Writable } from 'node:stream';
import t from 'tap';
import { scrubText } from '../../src/platform/logging.js';
import { json, testApp } from '../helpers.js';

type LogLine = Record<string, unknown> & { msg?: string };

/** A log stream that keeps every line it is given. */
function captureLog() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as LogLine);
  return {
    stream,
    lines,
    /** Everything written, raw and as parsed-then-written-again JSON (so escapes cannot hide a value). */
    text: () =>
      `${chunks.join('')}\n${lines()
        .map((l) => JSON.stringify(l))
        .join('\n')}`,
  };
}

const person = {
  idNumber: '22010219900307123X',
  name: '张三',
  phone: '13912345678',
  bankAccount: '6222020200112233445',
};
const personal = Object.values(person);

t.test('API keys and the Authorization header never reach the log', async (t) => {
  const log = captureLog();
  const { app, admin, client } = await testApp(t, {
    env: { LOG_LEVEL: 'info' },
    logStream: log.stream,
    beforeReady: (app) => {
      app.get('/v1/test/log-probe', async (request) => {
        request.log.info({ headers: request.headers }, 'headers seen');
        const key = request.headers.authorization?.replace(/^Bearer /, '');
        request.log.info({ apiKey: key, client: { key }, nested: { deeper: { secret: key } } }, 'key fields');
        return { ok: true };
      });
      app.get('/v1/test/log-boom', async () => {
        throw new Error('something broke');
      });
    },
  });
  const bank = await client('bank');
  const unknownKey = `dd_${'A'.repeat(43)}`;

  const requests: { url: string; headers: Record<string, string>; status: number }[] = [
    { url: '/v1/regions', headers: admin.headers, status: 200 },
    { url: '/v1/test/log-probe', headers: admin.headers, status: 200 },
    { url: '/v1/test/log-boom', headers: admin.headers, status: 500 },
    { url: '/v1/audit-events', headers: bank.headers, status: 403 },
    { url: '/v1/regions', headers: { authorization: `Bearer ${unknownKey}` }, status: 401 },
    { url: '/v1/regions', headers: { authorization: `Basic ${unknownKey}` }, status: 401 },
  ];
  const requestIds: string[] = [];
  for (const r of requests) {
    const res = await app.inject({ method: 'GET', url: r.url, headers: r.headers });
    t.equal(res.statusCode, r.status, `GET ${r.url}`);
    requestIds.push(String(res.headers['x-request-id']));
  }
  const created = await app.inject({
    method: 'POST',
    url: '/v1/clients',
    headers: admin.headers,
    payload: { name: 'Logged client', agency: 'portal', jurisdiction: '2201' },
  });
  t.equal(created.statusCode, 201);
  const issued = json<{ apiKey: { key: string } }>(created).apiKey.key;
  const withIssued = await app.inject({
    method: 'GET',
    url: '/v1/regions',
    headers: { authorization: `Bearer ${issued}` },
  });
  t.equal(withIssued.statusCode, 200);
  requestIds.push(String(created.headers['x-request-id']), String(withIssued.headers['x-request-id']));

  // The requests were logged: otherwise finding no key would prove nothing. The line is written
  // by the onResponse hook, which runs after inject has resolved (once, on a loaded CI machine, one
  // line was not there 20 ms later): wait until every request is logged, up to 5 s.
  const logged = () =>
    requestIds.every((id) => log.lines().some((l) => l.requestId === id && l.msg === 'request completed'));
  for (let waited = 0; !logged() && waited < 5_000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const lines = log.lines();
  for (const id of requestIds) {
    t.ok(
      lines.some((l) => l.requestId === id && l.msg === 'request completed'),
      `request ${id} is in the log`,
    );
  }
  const headersSeen = lines.find((l) => l.msg === 'headers seen');
  t.match(headersSeen, { headers: { authorization: '[REDACTED]', host: String } });
  t.match(
    lines.find((l) => l.msg === 'key fields'),
    {
      apiKey: '[REDACTED]',
      client: { key: '[REDACTED]' },
      nested: { deeper: { secret: '[REDACTED]' } },
    },
  );
  t.ok(
    lines.some((l) => l.level === 50 && l.msg === 'request failed'),
    'the 500 was logged with its error',
  );

  const text = log.text();
  for (const key of [admin.key, bank.key, unknownKey, issued]) {
    t.notOk(text.includes(key), `key ${key.slice(0, 11)}… is not in the log`);
    t.notOk(text.includes(key.slice(11)), 'nor its secret part');
  }
  t.notOk(/Bearer|Basic /.test(text), 'no Authorization header value');
});

t.test('personal data never reaches the log', async (t) => {
  const log = captureLog();
  const { app, admin } = await testApp(t, { env: { LOG_LEVEL: 'info' }, logStream: log.stream });

  app.log.info({ person }, 'x');
  app.log.info({ ...person }, 'top level');
  app.log.info(
    { household: { head: { ...person }, members: [person, { ...person, phoneNumber: person.phone }] } },
    'nested',
  );
  app.log.info({ members: [{ fullName: person.name, accountNumber: person.bankAccount }] }, 'array');
  app.log.child({ person }).info('child');
  app.log.info({ data: { household: { members: [{ deep: { deeper: { ...person } } }] } } }, 'deep');
  app.log.info({ note: `call ${person.phone} about ${person.idNumber}` }, 'free text field');
  app.log.info(`resident ${person.idNumber} reached on ${person.phone}, card ${person.bankAccount}`);
  app.log.info('resident %s reached on %s', person.idNumber, person.phone);
  app.log.warn({ person }, `lookup of ${person.idNumber} failed`);
  app.log.error(new Error(`no household for ${person.idNumber} (${person.phone})`));
  app.log.error({ err: new Error(`bad account ${person.bankAccount}`) });
  app.log.error({ err: new Error(`bad account ${person.bankAccount}`) }, 'with a message');

  const query = `/v1/audit-events?operation=${person.idNumber}&resourceType=${person.phone}`;
  const res = await app.inject({ method: 'GET', url: query, headers: admin.headers });
  t.equal(res.statusCode, 200);
  const requestId = String(res.headers['x-request-id']);

  const lines = log.lines();
  const line = (msg: string) => lines.find((l) => l.msg === msg);
  t.match(line('x'), {
    person: { idNumber: '[REDACTED]', name: '[REDACTED]', phone: '[REDACTED]', bankAccount: '[REDACTED]' },
  });
  t.match(line('top level'), {
    idNumber: '[REDACTED]',
    name: '[REDACTED]',
    phone: '[REDACTED]',
    bankAccount: '[REDACTED]',
  });
  t.match(line('nested'), {
    household: {
      head: { idNumber: '[REDACTED]' },
      members: [{ idNumber: '[REDACTED]' }, { phoneNumber: '[REDACTED]' }],
    },
  });
  t.match(line('array'), { members: [{ fullName: '[REDACTED]', accountNumber: '[REDACTED]' }] });
  t.match(line('child'), { person: { idNumber: '[REDACTED]' } });
  t.match(line('deep'), {
    data: { household: { members: [{ deep: { deeper: { idNumber: '[REDACTED]', name: '[REDACTED]' } } }] } },
  });
  t.match(line('free text field'), { note: 'call [REDACTED-PHONE] about [REDACTED-ID]' });
  t.ok(
    lines.some((l) => l.msg === 'resident [REDACTED-ID] reached on [REDACTED-PHONE], card [REDACTED-NUMBER]'),
    'a message is scrubbed',
  );
  t.ok(
    lines.some((l) => l.msg === 'resident [REDACTED-ID] reached on [REDACTED-PHONE]'),
    'so is a formatted one',
  );
  t.ok(lines.some((l) => l.msg === 'lookup of [REDACTED-ID] failed'));
  t.ok(
    lines.some((l) => l.level === 50 && l.msg === 'no household for [REDACTED-ID] ([REDACTED-PHONE])'),
    'an error’s message',
  );
  t.equal(lines.filter((l) => l.level === 50 && l.msg === 'bad account [REDACTED-NUMBER]').length, 1);
  t.match(line('with a message'), { err: { message: 'bad account [REDACTED-NUMBER]' } });
  t.match(
    lines.find((l) => l.requestId === requestId && l.msg === 'request completed'),
    { req: { url: '/v1/audit-events?operation=[REDACTED-ID]&resourceType=[REDACTED-PHONE]' } },
    'a URL is scrubbed',
  );

  const text = log.text();
  for (const value of personal) t.notOk(text.includes(value), `${value} is not in the log`);
});

t.test('scrubText', async (t) => {
  t.test('masks resident ID numbers', async (t) => {
    t.equal(scrubText('22010219900307123X'), '[REDACTED-ID]');
    t.equal(scrubText('id 22010219900307123x.'), 'id [REDACTED-ID].');
    t.equal(scrubText('220102199003071234'), '[REDACTED-ID]');
    t.equal(scrubText('身份证号22010219900307123X，请核对'), '身份证号[REDACTED-ID]，请核对');
    t.equal(scrubText('a=22010219900307123X&b=110101200001011234'), 'a=[REDACTED-ID]&b=[REDACTED-ID]');
  });

  t.test('masks mainland mobile numbers', async (t) => {
    t.equal(scrubText('13912345678'), '[REDACTED-PHONE]');
    t.equal(scrubText('call 19887654321 now'), 'call [REDACTED-PHONE] now');
    t.equal(scrubText('+86 13912345678'), '+86 [REDACTED-PHONE]');
    t.equal(scrubText('电话：15043210987。'), '电话：[REDACTED-PHONE]。');
    t.notMatch(scrubText('+8613912345678'), /13912345678/, 'with the country code glued on it is still masked');
  });

  t.test('masks long digit runs such as bank cards', async (t) => {
    t.equal(scrubText('6222020200112233445'), '[REDACTED-NUMBER]');
    t.equal(scrubText('card 6222021234567890 ok'), 'card [REDACTED-NUMBER] ok');
    t.equal(scrubText('acct:123456789012'), 'acct:[REDACTED-NUMBER]');
    t.equal(scrubText('account 6222020200112233445566778899 ok'), 'account [REDACTED-NUMBER] ok', 'up to 34 digits');
  });

  t.test('masks numbers written in groups of 11 digits or more', async (t) => {
    t.equal(scrubText('call 139 5555 6666 now'), 'call [REDACTED-NUMBER] now');
    t.equal(scrubText('tel 139-5555-6666.'), 'tel [REDACTED-NUMBER].');
    t.equal(scrubText('id 220102 19700412 003X'), 'id [REDACTED-NUMBER]');
    t.equal(scrubText('acct 6222 0202 0011 2233 445'), 'acct [REDACTED-NUMBER]');
    t.equal(
      scrubText('on 2024-03-07 08:00:00 for 3 persons'),
      'on 2024-03-07 08:00:00 for 3 persons',
      'dates and times stay',
    );
  });

  t.test('masks every occurrence in a longer text', async (t) => {
    const text = `${person.idNumber} ${person.phone} ${person.bankAccount} ${person.idNumber}`;
    t.equal(scrubText(text), '[REDACTED-ID] [REDACTED-PHONE] [REDACTED-NUMBER] [REDACTED-ID]');
  });

  t.test('leaves ordinary text alone', async (t) => {
    for (const text of [
      '',
      'GET /v1/regions/220102 answered 200',
      'request 6f1c2a9e-8b7d-4c3e-9f1a-2b3c4d5e6f70',
      'at 2024-03-07T08:00:00.123Z',
      'amount 1234.56 yuan for 3 persons',
      'order 12345678901',
      'short 1391234567',
    ]) {
      t.equal(scrubText(text), text);
    }
    const once = scrubText(`x ${person.idNumber} ${person.phone}`);
    t.equal(scrubText(once), once, 'scrubbing twice changes nothing more');
  });
});
