import t from 'tap';
import { groupCommit } from '../../src/db/group-commit.js';

/** A write that records the groups it was given, answers each item doubled, and refuses 13. */
function recorder(delayMs = 5) {
  const groups: number[][] = [];
  const write = async (items: number[]) => {
    groups.push(items);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (items.includes(13)) throw new Error('13 is refused');
    return items.map((i) => i * 2);
  };
  return { groups, write };
}

t.test('a write alone goes at once; those arriving meanwhile go together, in order', async (t) => {
  const { groups, write } = recorder();
  const submit = groupCommit(write, { maxItems: 4 });
  t.equal(await submit(1), 2);
  t.same(groups, [[1]], 'alone: a group of one');
  groups.length = 0;
  const answers = await Promise.all([10, 11, 12, 14, 15, 16, 17].map((i) => submit(i)));
  t.same(answers, [20, 22, 24, 28, 30, 32, 34], 'each caller gets its own result');
  t.same(groups, [[10], [11, 12, 14, 15], [16, 17]], 'one in flight, then the waiting ones, at most 4 a group');
});

t.test('an item that fails fails only its own caller', async (t) => {
  const { groups, write } = recorder();
  const submit = groupCommit(write);
  const settled = await Promise.allSettled([1, 2, 13, 4].map((i) => submit(i)));
  t.same(
    settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
    [2, 4, '13 is refused', 8],
  );
  t.same(groups, [[1], [2, 13, 4], [2], [13], [4]], 'the failed group written again one by one');
});

t.test('groups in flight at once up to the limit', async (t) => {
  const { groups, write } = recorder();
  const submit = groupCommit(write, { inFlight: 2 });
  await Promise.all([1, 2, 3, 4, 5].map((i) => submit(i)));
  t.same(groups, [[1], [2], [3, 4, 5]]);
});

t.test('a write answering the wrong number of results fails its callers', async (t) => {
  const submit = groupCommit(async (items: number[]) => items.slice(1));
  await t.rejects(submit(1), /0 results for 1 items/);
});
