import { like } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
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

/**
 * One clearly labelled demo client per agency with its default scopes; their keys are returned to
 * be printed once. Does nothing when demo clients exist already.
 */
export async function seedDemo(app: FastifyInstance) {
  const db = app.database.db;
  const existing = await db
    .select({ id: clients.id })
    .from(clients)
    .where(like(clients.name, `${DEMO_PREFIX}%`))
    .limit(1);
  if (existing.length > 0) return [];
  const actor = { clientId: null, agency: null, requestId: 'demo-seed' };
  const keys: { agency: Agency; jurisdiction: string; key: string }[] = [];
  for (const agency of agencies) {
    const jurisdiction = demoJurisdiction[agency];
    const { key } = await app.services.clients.create({ jurisdiction: '2201' }, actor, {
      name: `${DEMO_PREFIX}${agency}`,
      agency,
      jurisdiction,
    });
    keys.push({ agency, jurisdiction, key });
  }
  return keys;
}
