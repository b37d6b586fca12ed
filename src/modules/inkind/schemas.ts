import { z } from 'zod';
import { timestamp } from '../../platform/http.js';
import { businessDate, regionCode } from '../registry/programs.schemas.js';

export const receiptSources = ['procurement', 'donation', 'allocation', 'other'] as const;
export type ReceiptSource = (typeof receiptSources)[number];

/** Most lines one receipt or distribution carries. */
export const LINES_MAX = 50;
/** Longest date range a report covers, in days. */
export const REPORT_DAYS_MAX = 366;

/** For cursors that carry an id. */
export const isUuid = (v: unknown): v is string => z.uuid().safeParse(v).success;

export const itemCode = z
  .string()
  .regex(/^[a-z][a-z0-9_]{1,49}$/, 'must be 2 to 50 lower-case letters, digits or _, starting with a letter')
  .describe('The catalogue code, e.g. `surgical_mask`');

const quantity = z.number().int().min(1).max(1_000_000).describe('Whole units of the item’s unit');

// ─── Catalogue ──────────────────────────────────────────────────────────────

export const NewItemBody = z
  .object({
    code: itemCode,
    name: z.string().trim().min(1).max(200).describe('e.g. “Surgical mask”'),
    unit: z.string().trim().min(1).max(50).describe('What one counts in: piece, box, parcel; never changes'),
    description: z.string().trim().max(2000).optional(),
  })
  .strict();

export const ItemPatchBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().trim().max(2000).nullable().optional(),
    active: z.boolean().optional().describe('false retires the item: no more receipts; stock left may be handed out'),
  })
  .strict();

export const ItemSchema = z
  .object({
    id: z.uuid(),
    code: itemCode,
    name: z.string(),
    unit: z.string(),
    description: z.string().nullable(),
    active: z.boolean(),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'InKindItem' });

// ─── Lines, receipts and stock ──────────────────────────────────────────────

const LineBody = z.object({ itemCode, quantity }).strict();

const lines = z
  .array(LineBody)
  .min(1)
  .max(LINES_MAX)
  .describe(`One line an item (at most ${LINES_MAX}); an item appears once`);

export const LineSchema = z.object({
  itemCode: z.string(),
  itemName: z.string(),
  unit: z.string(),
  quantity: z.number().int(),
});

export const NewReceiptBody = z
  .object({
    region: regionCode.describe('Whose stock receives it: a region inside your jurisdiction'),
    source: z.enum(receiptSources).describe('Bought, donated, allocated by a higher level, or other'),
    supplier: z.string().trim().min(1).max(200).optional().describe('Who delivered it'),
    reference: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .describe(
        'The delivery note or waybill number: one receipt per reference and region. Sending it again with the same lines answers 200 with the receipt already recorded, and adds nothing',
      ),
    receivedAt: timestamp.optional().describe('When it arrived; now when omitted; not in the future'),
    lines,
    note: z.string().trim().max(2000).optional(),
  })
  .strict();

export const ReceiptSchema = z
  .object({
    id: z.uuid(),
    region: z.string(),
    source: z.enum(receiptSources),
    supplier: z.string().nullable(),
    reference: z.string(),
    receivedAt: timestamp,
    note: z.string().nullable(),
    lines: z.array(LineSchema),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'InKindReceipt' });

export const ReceiptQuery = z.object({
  region: regionCode.optional().describe('Receipts of this region (prefix), inside your jurisdiction'),
  from: timestamp.optional().describe('Received at or after this time'),
  to: timestamp.optional().describe('Received before this time'),
});

export const StockSchema = z
  .object({
    region: z.string(),
    itemCode: z.string(),
    itemName: z.string(),
    unit: z.string(),
    quantity: z.number().int().describe('Held now: received less distributed, never negative'),
    received: z.number().int().describe('Everything ever received'),
    distributed: z.number().int().describe('Everything ever handed out'),
    updatedAt: timestamp,
  })
  .meta({ id: 'InKindStock' });

export const StockQuery = z.object({
  region: regionCode.optional().describe('Stock of this region (prefix), inside your jurisdiction'),
  itemCode: itemCode.optional(),
});

// ─── Distributions ──────────────────────────────────────────────────────────

export const NewDistributionBody = z
  .object({
    region: regionCode.describe('Whose stock it is taken from, where it is handed out: inside your jurisdiction'),
    temporaryAssistanceId: z
      .uuid()
      .optional()
      .describe('The temporary-assistance grant this hands out (granted or completed); the person is the grant’s'),
    personId: z
      .uuid()
      .optional()
      .describe('Who receives it: required without a grant (a person inside your jurisdiction); with one, the grant’s'),
    lines,
    distributedAt: timestamp.optional().describe('When it was handed out; now when omitted; not in the future'),
    distributedBy: z.string().trim().min(1).max(200).describe('Who handed it out'),
    note: z.string().trim().max(2000).optional(),
  })
  .strict();

export const DistributionSchema = z
  .object({
    id: z.uuid(),
    region: z.string().describe('Whose stock it came from'),
    personId: z.uuid(),
    householdId: z.uuid().nullable(),
    temporaryAssistanceId: z.uuid().nullable(),
    distributedAt: timestamp,
    businessDate: businessDate.describe('The day it counts on in reports (Asia/Shanghai)'),
    distributedBy: z.string(),
    note: z.string().nullable(),
    lines: z.array(LineSchema),
    createdBy: z.uuid().nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'InKindDistribution' });

export const DistributionQuery = z.object({
  region: regionCode
    .optional()
    .describe('Distributions from the stock of this region (prefix), inside your jurisdiction'),
  personId: z.uuid().optional(),
  temporaryAssistanceId: z.uuid().optional(),
  from: businessDate.optional().describe('On or after this day'),
  to: businessDate.optional().describe('On or before this day'),
});

// ─── Reports ────────────────────────────────────────────────────────────────

export const ReportQuery = z.object({
  from: businessDate.describe('First day (Asia/Shanghai)'),
  to: businessDate.describe(`Last day, included; at most ${REPORT_DAYS_MAX} days after from`),
  region: regionCode
    .optional()
    .describe('Distributions from the stock of this region (prefix), inside your jurisdiction'),
  itemCode: itemCode.optional(),
});

const counted = {
  quantity: z.number().int().describe('Units handed out'),
  distributions: z.number().int().describe('Distributions that handed it out'),
};

export const DailyRowSchema = z.object({
  day: businessDate,
  region: z.string(),
  itemCode: z.string(),
  itemName: z.string(),
  unit: z.string(),
  ...counted,
  persons: z.number().int().describe('Different persons who received it'),
});

export const DailyReportSchema = z
  .object({
    from: businessDate,
    to: businessDate,
    region: z.string().describe('The region prefix reported on (your jurisdiction when none was given)'),
    items: z.array(DailyRowSchema).describe('One row a day, region and item, by day, region, item code'),
    totals: z
      .array(DailyRowSchema.omit({ day: true, region: true }))
      .describe('Each item over the whole range and region (every page carries them)'),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'InKindDailyReport' });

export const PersonRowSchema = z.object({
  personId: z.uuid(),
  itemCode: z.string(),
  itemName: z.string(),
  unit: z.string(),
  ...counted,
  firstDistributedAt: timestamp,
  lastDistributedAt: timestamp,
});

export const PersonReportSchema = z
  .object({
    from: businessDate,
    to: businessDate,
    region: z.string(),
    items: z.array(PersonRowSchema).describe('One row a person and item, by person id then item code'),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'InKindPersonReport' });
