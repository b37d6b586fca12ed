import { sql } from 'drizzle-orm';
import { check, pgTable, text } from 'drizzle-orm/pg-core';

/** Administrative divisions (GB/T 2260): reference data loaded by a migration. */
export const regions = pgTable(
  'regions',
  {
    code: text('code').primaryKey(),
    name: text('name').notNull(),
    nameZh: text('name_zh').notNull(),
    level: text('level').$type<'province' | 'city' | 'county' | 'township' | 'community'>().notNull(),
    parentCode: text('parent_code'),
  },
  (t) => [
    check('regions_code_check', sql`${t.code} ~ '^[0-9]{2,12}$'`),
    check('regions_level_check', sql`${t.level} in ('province','city','county','township','community')`),
  ],
);
