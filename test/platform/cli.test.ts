import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { seedDemo } from '../../src/demo.js';
import { agencies } from '../../src/platform/scopes.js';
import { json, testApp } from '../helpers.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the CLI on an embedded database kept in `dataDir`. */
function cli(args: string[], dataDir: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: projectRoot, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

t.test('create-admin makes the first admin on a fresh install, once; the data directory keeps it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'doudi-cli-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

  const first = await cli(['create-admin', '--name', 'City operators', '--jurisdiction', '2201'], dataDir);
  t.equal(first.code, 0, first.err);
  t.match(first.out, /API key, shown only now: dd_[A-Za-z0-9_-]{43}/);

  const second = await cli(['create-admin'], dataDir);
  t.equal(second.code, 1, 'a second admin is refused');
  t.match(second.err, /admin client exists already/);

  const verify = await cli(['verify-audit'], dataDir);
  t.equal(verify.code, 0, verify.err);
  t.match(JSON.parse(verify.out), { ok: true, checked: 1 }, 'the creation was audited, and the audit row chained');
});

t.test('the demo seeds one labelled client per agency whose keys work, once', async (t) => {
  const { app } = await testApp(t);
  const { keys } = await seedDemo(app);
  t.equal(keys.length, agencies.length);
  t.same(keys.map((k) => k.agency).sort(), [...agencies].sort());
  for (const { key, agency } of keys) {
    const me = await app.inject({ method: 'GET', url: '/v1/clients/me', headers: { authorization: `Bearer ${key}` } });
    t.equal(me.statusCode, 200, `${agency} key works`);
    t.match(json(me), { agency, name: /^Demo: / });
  }
  t.same(await seedDemo(app), { keys: [], standards: [] }, 'a second run seeds nothing');
});
