import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';
import { sourceKinds } from './tables.js';

const snapshot = {
  snapshotId: z.uuid(),
  sourceId: z.uuid(),
  kind: z.enum(sourceKinds),
  lines: z.number().int(),
  records: z.number().int(),
};

/** Caseworkers of the source's region learn that verifications now read new data. */
export const matchingSnapshotCompleted = defineEvent({
  type: 'matching_snapshot.completed',
  scope: 'matching:verify',
  summary: 'A new snapshot of a matching source was loaded whole and is now the one verifications read',
  data: z.object({
    ...snapshot,
    previousSnapshotId: z.uuid().nullable().describe('The snapshot it replaced, now superseded'),
    contentSha256: z.string(),
  }),
});

/** Only the provider that loaded it sees a refusal. */
export const matchingSnapshotRejected = defineEvent({
  type: 'matching_snapshot.rejected',
  scope: 'matching:load',
  summary:
    'A load into a matching source was refused as a whole because of bad lines (the snapshot holds the report); the previous snapshot stays in force',
  data: z.object({ ...snapshot, badLines: z.number().int() }),
});
