/**
 * Run by privacy-proof.test.ts in a child process, never by the suite itself (not `*.test.ts`):
 * a test file whose app leaks a whole ID number and whose audit chain is broken. Both must fail it.
 */
import { sql } from 'drizzle-orm';
import t from 'tap';
import { residentIdCheckCharacter } from '../../src/modules/registry/identity.js';
import { testApp } from '../helpers.js';

const first17 = '22010219700412003';
const leakedIdNumber = first17 + residentIdCheckCharacter(first17); // privacy-proof.test.ts's idNumber

t.test('a route that answers a whole ID number to the bank', async (t) => {
  const { app, client } = await testApp(t, {
    beforeReady: (app) => {
      app.get('/v1/test/privacy-leak', { config: { scopes: ['regions:read'] } }, async () => ({
        idNumber: leakedIdNumber,
      }));
    },
  });
  const bank = await client('bank');
  const res = await app.inject({ method: 'GET', url: '/v1/test/privacy-leak', headers: bank.headers });
  t.equal(res.statusCode, 200, 'the leak itself answers normally');
});

t.test('an app whose audit chain was tampered with', async (t) => {
  const { app, admin } = await testApp(t);
  await app.inject({ method: 'GET', url: '/v1/regions', headers: admin.headers });
  await app.services.audit.seal();
  const { db } = app.database;
  await db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
  await db.execute(sql`update audit_events set outcome = 'failed' where seq = (select min(seq) from audit_events)`);
  await db.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
  t.pass('tampered; the teardown closes the app');
});
