/**
 * Group commit: writes that arrive while others are being written wait and go together, in one
 * statement and one transaction, instead of one round trip and one commit (WAL flush) each. A
 * write that finds nothing in flight goes at once, so a quiet service answers as fast as before;
 * under load, each write waits at most for the one in flight ahead of it.
 *
 * `write` takes the items in order and answers one result per item, in the same order. When a
 * group fails, its items are written again one by one, so that one bad item fails only its own
 * caller (and a group never half succeeds: each write is one statement).
 */
export interface GroupCommitOptions {
  /** Items a group takes at most (a statement's size). */
  maxItems?: number;
  /** Groups written at the same time at most (each holds a database connection meanwhile). */
  inFlight?: number;
}

interface Waiting<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export function groupCommit<T, R>(
  write: (items: T[]) => Promise<R[]>,
  { maxItems = 64, inFlight = 1 }: GroupCommitOptions = {},
): (item: T) => Promise<R> {
  const queue: Waiting<T, R>[] = [];
  let running = 0;

  /** Writes `group`; failing, writes its items one by one. Answers the callbacks that settle its callers. */
  async function writeGroup(group: Waiting<T, R>[]): Promise<(() => void)[]> {
    try {
      const results = await write(group.map((w) => w.item));
      if (results.length !== group.length) {
        throw new Error(`group commit: ${results.length} results for ${group.length} items`);
      }
      return group.map((w, i) => () => w.resolve(results[i]!));
    } catch (err) {
      if (group.length === 1) return [() => group[0]!.reject(err)];
      // Each on its own: only the items that fail by themselves fail.
      return (await Promise.all(group.map((w) => writeGroup([w])))).flat();
    }
  }

  function pump(): void {
    while (running < inFlight && queue.length > 0) {
      const group = queue.splice(0, maxItems);
      running++;
      void writeGroup(group).then((settle) => {
        // The slot is free before the callers go on: a write they make next goes at once.
        running--;
        pump();
        for (const s of settle) s();
      });
    }
  }

  return (item: T) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      pump();
    });
}
