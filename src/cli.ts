import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { openDatabase } from './db/client.js';
import { DEMO_STANDARD_LABEL, seedDemo } from './demo.js';
import { BULK_MAX } from './modules/registry/people.schemas.js';
import { syntheticHouseholds } from './modules/registry/people.seed.js';
import { syntheticCityArgs, syntheticCityCommand } from './modules/matching/synthetic.city.js';
import { configOrExit, startServer } from './server.js';
import { ProblemError } from './platform/errors.js';

const usage = `Usage: npm run cli -- <command> [options]

  migrate                          apply pending migrations, then exit
  create-admin [--name N] [--jurisdiction 2201]
                                   create the first admin client on a fresh install and print its key once
  verify-audit                     seal pending audit rows, verify the hash chain, report the first broken link
  openapi [--out openapi/openapi.json]
                                   write the OpenAPI document
  demo                             seed demo clients (one per agency, keys printed once) and demo program
                                   standards for the city (labelled as such), then serve
  seed-registry --households N --region 220102 [--seed 1]
                                   load N synthetic households (valid resident ID numbers, deterministic
                                   from the seed) through the bulk path, 1000 at a time
  synthetic-city --households N --region 220102 --seed S --out DIR [--shares 0.7,0.25,0.05] [--format csv]
                                   load a synthetic city's households (as seed-registry) and write one file of
                                   source records per kind (NDJSON, or CSV) and truth.ndjson (each household's
                                   expected class: eligible, ineligible, dirty) into DIR, with a progress bar`;

async function withApp<T>(run: (app: Awaited<ReturnType<typeof buildApp>>) => Promise<T>): Promise<T> {
  const config = configOrExit();
  const app = await buildApp({ ...config, LOG_LEVEL: 'warn' }, { background: false });
  try {
    await app.database.migrate();
    await app.ready();
    return await run(app);
  } finally {
    await app.close();
  }
}

/** seed-registry's command line, checked before the database starts (a typo answers at once). */
function seedRegistryArgs(values: {
  households?: string | undefined;
  region?: string | undefined;
  seed?: string | undefined;
}) {
  const total = Number(values.households);
  const seed = Number(values.seed ?? '1');
  const region = values.region ?? '';
  if (!Number.isSafeInteger(total) || total < 1) throw new Error('--households must be a positive whole number');
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error('--seed must be a whole number, 0 or more');
  if (!/^\d{6}(\d{3}|\d{6})?$/.test(region))
    throw new Error('--region must be a county-level code or below, e.g. 220102');
  return { total, seed, region };
}

/** Loads synthetic households through the registry's bulk function, printing progress and the rate. */
async function seedRegistry(
  app: Awaited<ReturnType<typeof buildApp>>,
  { total, seed, region }: ReturnType<typeof seedRegistryArgs>,
) {
  const caller = { jurisdiction: region, scopes: [] };
  const actor = { clientId: null, agency: null, requestId: `cli:seed-registry:${seed}` };
  const started = performance.now();
  let persons = 0;
  for (let from = 0; from < total; from += BULK_MAX) {
    const batch = syntheticHouseholds({ region, seed }, from, Math.min(BULK_MAX, total - from));
    const created = await app.services.people.registerHouseholdsBulk(caller, actor, batch);
    persons += created.households.reduce((n, h) => n + h.memberIds.length, 0);
    const seconds = (performance.now() - started) / 1000;
    console.log(`${from + batch.length}/${total} households, ${persons} persons (${seconds.toFixed(1)} s)`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `loaded ${total} households and ${persons} persons in ${seconds.toFixed(1)} s: ` +
      `${Math.round(total / seconds)} households/s, ${Math.round(persons / seconds)} persons/s`,
  );
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      jurisdiction: { type: 'string' },
      out: { type: 'string' },
      households: { type: 'string' },
      region: { type: 'string' },
      seed: { type: 'string' },
      shares: { type: 'string' },
      format: { type: 'string' },
    },
  });
  switch (command) {
    case 'migrate': {
      const config = configOrExit();
      const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
      await database.migrate();
      await database.close();
      console.log('migrations applied');
      return;
    }
    case 'create-admin':
      await withApp(async (app) => {
        const { client, key } = await app.services.clients.bootstrapAdmin(
          values.name ?? 'Administrator',
          values.jurisdiction ?? '2201',
        );
        console.log(`admin client ${client.id} (jurisdiction ${client.jurisdiction})`);
        console.log(`API key, shown only now: ${key}`);
      });
      return;
    case 'verify-audit': {
      const report = await withApp(async (app) => {
        await app.services.audit.seal();
        return app.services.audit.verify();
      });
      console.log(JSON.stringify(report, null, 2));
      if (!report.ok) process.exitCode = 2;
      return;
    }
    case 'openapi': {
      const out = values.out ?? 'openapi/openapi.json';
      const config = configOrExit();
      const database = await openDatabase({ dataDir: 'memory://' });
      const app = await buildApp({ ...config, LOG_LEVEL: 'warn' }, { database, background: false });
      await app.ready();
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `${JSON.stringify(app.swagger(), null, 2)}\n`);
      await app.close();
      await database.close();
      console.log(`wrote ${out}`);
      return;
    }
    case 'demo': {
      const config = configOrExit();
      const app = await startServer(config);
      const { keys, standards } = await seedDemo(app);
      const base = `http://${config.HOST}:${config.PORT}`;
      console.log(`\nDoudi demo on ${base} — interactive docs at ${base}/docs\n`);
      if (standards.length > 0) {
        console.log(`Demo program standards for the city (2201) from 2026-01-01, labelled “${DEMO_STANDARD_LABEL}”:`);
        for (const s of standards) console.log(`  ${s.program.padEnd(21)} ${s.monthlyStandardFen} fen`);
        console.log('');
      }
      if (keys.length === 0) {
        console.log('Demo clients exist already (their keys were printed when they were made).');
        console.log(`To start afresh, stop the service and remove ${config.DATA_DIR}.`);
      } else {
        console.log('Demo API keys (shown once; use one in /docs → Authorize):');
        for (const k of keys) console.log(`  ${k.agency.padEnd(14)} ${k.jurisdiction.padEnd(7)} ${k.key}`);
      }
      return;
    }
    case 'seed-registry': {
      const args = seedRegistryArgs(values);
      await withApp((app) => seedRegistry(app, args));
      return;
    }
    case 'synthetic-city': {
      const args = syntheticCityArgs(values);
      await withApp((app) => syntheticCityCommand(app.services.people, args));
      return;
    }
    default:
      console.log(usage);
      process.exitCode = command ? 1 : 0;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ProblemError ? err.message : err);
  process.exit(1);
});
