import { and, eq, like } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ProgramCode } from './modules/registry/programs.rules.js';
import type { NewStandard, ProgramStandard } from './modules/registry/programs.service.js';
import { programStandards } from './modules/registry/programs.tables.js';
import { clients } from './platform/clients/tables.js';
import { agencies, type Agency } from './platform/scopes.js';

const DEMO_PREFIX = 'Demo: ';

/** Where each demo client works: the city for city-wide agencies, Nanguan District for caseworkers. */
const demoJurisdiction: Record<Agency, string> = {
  civil_affairs: '220102',
  finance: '2201',
  bank: '2201',
  data_provider: '2201',
  health: '2201',
  cdc: '2201',
  portal: '2201',
  admin: '2201',
};

const demoActor = { clientId: null, agency: null, requestId: 'demo-seed' };

export const DEMO_STANDARD_LABEL = 'DEMO — illustrative figures, not Changchun’s real standards';

/** Round, made-up figures for the whole city, so that every program has a standard to compute with. */
const demoStandards: Record<ProgramCode, Omit<NewStandard, 'region' | 'effectiveFrom' | 'label'>> = {
  dibao: { monthlyStandardFen: 80_000, assetMultiple: 24 },
  tekun: {
    monthlyStandardFen: 104_000,
    assetMultiple: 24,
    careAllowances: { ableFen: 5_000, partiallyUnableFen: 30_000, unableFen: 80_000 },
  },
  temporary_assistance: { monthlyStandardFen: 480_000 },
  price_subsidy: { monthlyStandardFen: 4_000 },
};

/**
 * One clearly labelled demo client per agency with its default scopes, their keys returned to be
 * printed once; and a labelled demo standard per program for the city from 2026-01-01. Each part
 * is skipped when it exists already.
 */
export async function seedDemo(app: FastifyInstance) {
  const standards = await seedDemoStandards(app);
  const keys = await seedDemoClients(app);
  return { keys, standards };
}

/** A demo standard for the city for each program that has no standard for the city yet. */
async function seedDemoStandards(app: FastifyInstance): Promise<ProgramStandard[]> {
  const db = app.database.db;
  const created: ProgramStandard[] = [];
  for (const [program, amounts] of Object.entries(demoStandards) as [
    ProgramCode,
    (typeof demoStandards)[ProgramCode],
  ][]) {
    const existing = await db
      .select({ id: programStandards.id })
      .from(programStandards)
      .where(and(eq(programStandards.programCode, program), eq(programStandards.region, '2201')))
      .limit(1);
    if (existing.length > 0) continue;
    created.push(
      await app.services.programs.createStandard({ jurisdiction: '2201' }, demoActor, program, {
        ...amounts,
        region: '2201',
        effectiveFrom: '2026-01-01',
        label: DEMO_STANDARD_LABEL,
      }),
    );
  }
  return created;
}

async function seedDemoClients(app: FastifyInstance) {
  const db = app.database.db;
  const existing = await db
    .select({ id: clients.id })
    .from(clients)
    .where(like(clients.name, `${DEMO_PREFIX}%`))
    .limit(1);
  if (existing.length > 0) return [];
  const keys: { agency: Agency; jurisdiction: string; key: string }[] = [];
  for (const agency of agencies) {
    const jurisdiction = demoJurisdiction[agency];
    const { key } = await app.services.clients.create({ jurisdiction: '2201' }, demoActor, {
      name: `${DEMO_PREFIX}${agency}`,
      agency,
      jurisdiction,
    });
    keys.push({ agency, jurisdiction, key });
  }
  return keys;
}
