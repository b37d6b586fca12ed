import t from 'tap';
import { json, onPostgres, testApp } from '../../helpers.js';
import {
  contactWorld,
  counts,
  dateDaysAgo,
  type Handoff,
  member,
  type ProblemBody,
  registerHousehold,
} from './fixtures.js';

// PGlite has one connection: requests never overlap there, so the races need PostgreSQL.
t.test('handoffs under concurrent requests', { skip: !onPostgres }, async (t) => {
  const test = await testApp(t);
  const w = await contactWorld(test);
  const home = await registerHousehold(test.app, w.nanguanCivil, '220102012', [
    member('许大爷', 'head', '19490909', { scatteredExtremelyPoor: true }),
    member('许奶奶', 'spouse', '19510101'),
    member('许大', 'child', '19750505'),
    member('许二', 'child', '19780707'),
    member('许三', 'child', '19800808'),
  ]);
  const payload = { personId: home.members[0]!.id, onsetDate: dateDaysAgo(1) };

  t.test('one confirmed case, one handoff: the others 409', async (t) => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => w.post('/v1/contact-handoffs', w.nanguanCivil, payload)),
    );
    const created = answers.filter((a) => a.statusCode === 201);
    t.equal(created.length, 1, 'exactly one opens');
    const winner = json<Handoff>(created[0]!).id;
    for (const lost of answers.filter((a) => a.statusCode !== 201)) {
      t.equal(lost.statusCode, 409, lost.body);
      t.equal(json<ProblemBody>(lost).openHandoffId, winner, 'each loser is told which handoff is open');
    }
    t.match(await counts(test.app), { handoffs: 1, contacts: 4, steps: 1, events: 1 });
  });

  t.test('reports on every contact at once: each recorded, one history without gaps', async (t) => {
    const [item] = json<{ items: { id: string }[] }>(await w.get('/v1/contact-handoffs', w.nanguanCivil)).items;
    const id = item!.id;
    t.equal((await w.act(id, 'send', w.nanguanCivil)).statusCode, 200);
    t.equal((await w.act(id, 'accept', w.nanguanCdc)).statusCode, 200);
    const h = await w.handoff(id, w.nanguanCdc);
    const answers = await Promise.all(h.contacts.map((c) => w.contactAct(id, c.id, 'reach', w.nanguanCdc)));
    t.same(
      answers.map((a) => a.statusCode),
      h.contacts.map(() => 200),
    );
    const after = await w.handoff(id, w.nanguanCivil);
    t.match(after.contactCounts, { reached: 4, pending: 0 });
    t.same(
      after.steps.map((s) => s.seq),
      after.steps.map((_, i) => i + 1),
    );
    const events = (await w.feed(w.nanguanCivil)).filter((e) => e.subject === `contact_handoff/${id}`);
    t.same(
      events.map((e) => e.subjectSeq),
      events.map((_, i) => i + 1),
    );
  });
});
