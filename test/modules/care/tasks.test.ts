import t from 'tap';
import { addDays, businessDateOf } from '../../../src/modules/registry/dates.js';
import { json, testApp } from '../../helpers.js';
import { type Assignment, careCalls, daysAgo, earlierToday, type ProblemBody, type Task } from './fixtures.js';

const today = businessDateOf(new Date());

interface Generated {
  region: string;
  date: string;
  keyPersons: number;
  created: number;
  alreadyPresent: number;
  cancelled: number;
}

t.test('visit tasks', async (t) => {
  const { app, client } = await testApp(t);
  const nanguan = await client('civil_affairs', { jurisdiction: '220102' });
  const chaoyang = await client('civil_affairs', { jurisdiction: '220104' });
  const { post, patch, person, caregiver, assign, visit, list } = careCalls(app);

  const cared = await person(nanguan, '220102003', 'Liu Fang');
  const alone = await person(nanguan, '220102003001', 'Ma Jun', { livesAlone: true });
  const late = await person(nanguan, '220102005', 'Sun Li', { disabled: true });
  await person(nanguan, '220102005', 'Not Key', {});
  await person(chaoyang, '220104001', 'Zhao Min');
  const wang = await caregiver(nanguan, '220102003', 'Wang Li');
  const li = await caregiver(nanguan, '220102003', 'Li Na');
  await assign(nanguan, cared.id, wang.id);
  await visit(nanguan, { personId: late.id, visitorName: 'Caseworker', visitedAt: daysAgo(40) });
  const lateDay = businessDateOf(new Date(daysAgo(40)));

  const generate = async (body: Record<string, unknown>) => {
    const res = await post('/v1/visit-tasks/generate', nanguan, body);
    if (res.statusCode !== 200) throw new Error(`generate: ${res.statusCode} ${res.body}`);
    return json<Generated>(res);
  };
  const tasksOf = async (personId: string) => (await list<Task>(nanguan, `/v1/visit-tasks?personId=${personId}`)).items;

  t.test('one task per key person and window, however often it runs', async (t) => {
    t.same(await generate({ region: '220102' }), {
      region: '220102',
      date: today,
      keyPersons: 3,
      created: 3,
      alreadyPresent: 0,
      cancelled: 0,
    });
    t.match(await generate({ region: '220102' }), { keyPersons: 3, created: 0, alreadyPresent: 3 });
    t.match(await generate({ region: '220102', date: addDays(today, 3) }), { created: 0, alreadyPresent: 3 });
    t.match(await tasksOf(cared.id), [
      { caregiverId: wang.id, fallbackRegion: null, windowStart: today, dueDate: addDays(today, 30), status: 'open' },
    ]);
    t.match(await tasksOf(alone.id), [{ caregiverId: null, fallbackRegion: '220102003', overdue: false }]);
    t.match(await tasksOf(late.id), [
      {
        fallbackRegion: '220102005',
        windowStart: lateDay,
        dueDate: addDays(lateDay, 30),
        overdue: true,
        daysOverdue: 10,
      },
    ]);
    const overdue = await list<Task>(nanguan, '/v1/visit-tasks?overdue=true');
    t.same(
      overdue.items.map((x) => x.personId),
      [late.id],
    );
    t.same((await list<Task>(chaoyang, '/v1/visit-tasks')).items, [], 'Chaoyang sees none of Nanguan’s');
  });

  t.test('the region must be inside the jurisdiction', async (t) => {
    const res = await post('/v1/visit-tasks/generate', chaoyang, { region: '220102', date: 'soon' });
    t.same(
      json<ProblemBody>(res)
        .errors!.map((e) => e.pointer)
        .sort(),
      ['/date'],
    );
    const outside = await post('/v1/visit-tasks/generate', chaoyang, { region: '220102' });
    t.match(json<ProblemBody>(outside), { status: 400, errors: [{ pointer: '/region' }] });
  });

  t.test('a caregiver’s change moves the open tasks with the person', async (t) => {
    await assign(nanguan, alone.id, li.id);
    t.match(await tasksOf(alone.id), [{ caregiverId: li.id, fallbackRegion: null }]);
    const moved = await assign(nanguan, alone.id, wang.id, 'Li Na moved');
    t.match(await tasksOf(alone.id), [{ caregiverId: wang.id }]);
    const mine = await list<Task>(nanguan, `/v1/visit-tasks?caregiverId=${wang.id}&status=open`);
    t.same(mine.items.map((x) => x.personId).sort(), [cared.id, alone.id].sort());
    const ended = await post(`/v1/care-assignments/${moved.id}/end`, nanguan, { reason: 'moved to a care home' });
    t.equal(json<Assignment>(ended).active, false);
    t.match(await tasksOf(alone.id), [{ caregiverId: null, fallbackRegion: '220102003' }]);
    const office = await list<Task>(nanguan, '/v1/visit-tasks?fallbackRegion=220102003');
    t.same(
      office.items.map((x) => x.personId),
      [alone.id],
    );
  });

  t.test('a visit completes the open task; the next window follows it', async (t) => {
    const done = await visit(nanguan, { personId: cared.id, caregiverId: wang.id, visitedAt: earlierToday(0.001) });
    const [task] = await tasksOf(cared.id);
    t.match(task, { status: 'done', visitId: done.id });
    t.equal(done.taskId, task!.id);
    const lateVisit = await visit(nanguan, {
      personId: late.id,
      visitorName: 'Caseworker',
      visitedAt: earlierToday(0.001),
    });
    t.ok(lateVisit.taskId, 'a late visit completes the overdue task');
    t.same((await list<Task>(nanguan, '/v1/visit-tasks?overdue=true')).items, []);

    t.match(await generate({ region: '220102' }), { created: 2, alreadyPresent: 1 });
    const next = await tasksOf(cared.id);
    // Visited on the day the first window opened: the next opens the day after, due 30 days after the visit.
    t.match(
      next.find((x) => x.status === 'open'),
      { windowStart: addDays(today, 1), dueDate: addDays(today, 30), caregiverId: wang.id },
    );
    t.match(
      (await tasksOf(late.id)).find((x) => x.status === 'open'),
      { windowStart: today, dueDate: addDays(today, 30) },
    );
    const again = await visit(nanguan, { personId: cared.id, caregiverId: wang.id, visitedAt: earlierToday(0.0005) });
    t.equal(again.taskId, null, 'a visit before the next window opens completes nothing');
  });

  t.test('tasks of persons no longer key persons are cancelled', async (t) => {
    const res = await patch(`/v1/persons/${alone.id}`, nanguan, { livesAlone: false });
    t.equal(res.statusCode, 200, res.body);
    t.match(await generate({ region: '220102' }), { keyPersons: 2, created: 0, cancelled: 1 });
    t.match(await tasksOf(alone.id), [{ status: 'cancelled' }]);
  });
});
