import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { openDatabase } from './db/client.js';
import { DEMO_STANDARD_LABEL, seedDemo } from './demo.js';
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
                                   standards for the city (labelled as such), then serve`;

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

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      jurisdiction: { type: 'string' },
      out: { type: 'string' },
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
    default:
      console.log(usage);
      process.exitCode = command ? 1 : 0;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof ProblemError ? err.message : err);
  process.exit(1);
});
