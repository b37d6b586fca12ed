import t from 'tap';
import { json, onPostgres, testApp } from '../../helpers.js';
import { counts, type ProblemBody, type Referral, referralWorld, registerHousehold } from './fixtures.js';

// PGlite has one connection: requests never overlap there, so the race needs PostgreSQL.
t.test('concurrent reports for one person: one referral, the others 409', { skip: !onPostgres }, async (t) => {
  const test = await testApp(t);
  const w = await referralWorld(test);
  const household = await registerHousehold(test.app, w.nanguanCivil, '220102', '许爷爷');
  const payload = {
    personId: household.members[0]!.id,
    origin: 'direct',
    symptoms: ['fever'],
    locationKind: 'home',
    reporterName: '刘社工',
  };
  const answers = await Promise.all(Array.from({ length: 8 }, () => w.report(w.nanguanCivil, payload)));
  const created = answers.filter((a) => a.statusCode === 201);
  t.equal(created.length, 1, 'exactly one report wins');
  const winner = json<Referral>(created[0]!).id;
  for (const lost of answers.filter((a) => a.statusCode !== 201)) {
    t.equal(lost.statusCode, 409, lost.body);
    t.equal(json<ProblemBody>(lost).openReferralId, winner, 'each loser is told which referral is open');
  }
  t.match(await counts(test.app), { referrals: 1, steps: 1, events: 1 });
});
