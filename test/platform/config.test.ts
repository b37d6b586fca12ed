import { readFileSync } from 'node:fs';
import t from 'tap';
import { ConfigError, configSchema, loadConfig } from '../../src/config.js';
import { defaultScopes, scopeNames } from '../../src/platform/scopes.js';

t.test('defaults give a working development configuration', async (t) => {
  const config = loadConfig({});
  t.equal(config.PORT, 3000);
  t.equal(config.DATA_DIR, './data');
  t.equal(config.DATABASE_URL, undefined);
});

t.test('a bad value stops start-up naming the variable', async (t) => {
  t.throws(() => loadConfig({ PORT: 'eighty' }), ConfigError);
  t.throws(() => loadConfig({ PORT: '70000' }), /PORT/);
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/);
  t.throws(() => loadConfig({ JOBS_ENABLED: 'maybe' }), /JOBS_ENABLED/);
  try {
    loadConfig({ PORT: 'x', BODY_LIMIT_BYTES: '-1' });
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    t.same((err as ConfigError).problems.map((p) => p.split(':')[0]).sort(), ['BODY_LIMIT_BYTES', 'PORT']);
  }
});

t.test('production refuses the development pepper and secrets key', async (t) => {
  const key = `prod:${Buffer.alloc(32, 7).toString('base64')}`;
  t.throws(() => loadConfig({ NODE_ENV: 'production', SECRETS_KEYS: key }), /API_KEY_PEPPER/);
  t.throws(
    () => loadConfig({ NODE_ENV: 'production', API_KEY_PEPPER: 'a-real-secret-of-some-length' }),
    /SECRETS_KEYS/,
  );
  t.throws(() => loadConfig({ SECRETS_KEYS: 'k1:short' }), /SECRETS_KEYS/);
  t.throws(
    () => loadConfig({ NODE_ENV: 'production', API_KEY_PEPPER: 'a-real-secret-of-some-length', SECRETS_KEYS: key }),
    /BLIND_INDEX_KEY/,
  );
  t.throws(() => loadConfig({ BLIND_INDEX_KEY: Buffer.alloc(16, 1).toString('base64') }), /BLIND_INDEX_KEY/);
  const config = loadConfig({
    NODE_ENV: 'production',
    API_KEY_PEPPER: 'a-real-secret-of-some-length',
    SECRETS_KEYS: key,
    BLIND_INDEX_KEY: Buffer.alloc(32, 9).toString('base64'),
  });
  t.equal(config.NODE_ENV, 'production');
});

t.test('the README documents every variable, scope and agency default', async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const variable of Object.keys(configSchema.shape))
    t.match(readme, `| \`${variable}\``, `${variable} in the table`);
  for (const scope of scopeNames) t.match(readme, `\`${scope}\``, `${scope} documented`);
  for (const [agency, scopes] of Object.entries(defaultScopes)) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${agency}\``));
    t.ok(row, `${agency} has a row in the defaults table`);
    for (const scope of scopes) t.match(row ?? '', `\`${scope}\``, `${agency} row lists ${scope}`);
  }
});
