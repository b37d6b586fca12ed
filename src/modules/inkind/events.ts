import { z } from 'zod';
import { defineEvent } from '../../platform/events/catalogue.js';
import { receiptSources } from './schemas.js';

const line = z.object({ itemCode: z.string(), unit: z.string(), quantity: z.number().int() });

// Stock movements are payments business (civil affairs record them, finance accounts for them).
export const inKindReceiptRecorded = defineEvent({
  type: 'in_kind_receipt.recorded',
  scope: 'payments:read',
  summary: 'In-kind aid arrived in a region’s stock (a delivery, by reference)',
  data: z.object({
    receiptId: z.uuid(),
    region: z.string(),
    source: z.enum(receiptSources),
    supplier: z.string().nullable(),
    reference: z.string(),
    receivedAt: z.iso.datetime({ offset: true }),
    lines: z.array(line),
  }),
});

// Distributions say who received aid, which is civil affairs' business, as grants are.
export const inKindDistributionRecorded = defineEvent({
  type: 'in_kind_distribution.recorded',
  scope: 'registry:read',
  summary: 'In-kind aid was handed to a person from a region’s stock, directly or under a temporary-assistance grant',
  data: z.object({
    distributionId: z.uuid(),
    region: z.string().describe('Whose stock it came from'),
    personId: z.uuid(),
    householdId: z.uuid().nullable(),
    temporaryAssistanceId: z.uuid().nullable(),
    distributedAt: z.iso.datetime({ offset: true }),
    businessDate: z.iso.date(),
    lines: z.array(line),
  }),
});
