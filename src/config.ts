import { z } from 'zod';

/** Turns "true"/"1"/"yes" and their opposites into booleans; anything else is an error. */
const flag = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));

const positiveInt = z.coerce.number().int().positive();

/** A fixed key for development only: production must set its own (start-up refuses this one). */
const DEV_SECRETS_KEYS = 'dev:ZG91ZGktZGV2ZWxvcG1lbnQta2V5LWNoYW5nZS1tZSE=';
/** The same for the registry's blind index (production refuses it too). */
const DEV_BLIND_INDEX_KEY = 'ZG91ZGktYmxpbmQtaW5kZXgtZGV2LWtleS1jaGFuZ2U=';

/**
 * The whole environment the service reads, in one place. `process.env` is read nowhere else.
 * Each variable is documented in the README's configuration table.
 */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DB_POOL_MAX: positiveInt.default(20),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Secret mixed into API-key hashes (HMAC-SHA256). Changing it invalidates every key. */
  API_KEY_PEPPER: z.string().min(16, 'must be at least 16 characters').default('doudi-development-pepper-change-me'),
  /** How long an instance may trust a key it has checked; revocations elsewhere take effect within it. */
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).default(5_000),
  BODY_LIMIT_BYTES: positiveInt.default(1_048_576),
  REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  CONNECTION_TIMEOUT_MS: positiveInt.default(10_000),
  /** Idle time allowed on a streamed upload's socket (a snapshot load), while the database catches up. */
  UPLOAD_IDLE_TIMEOUT_MS: positiveInt.default(300_000),
  KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(72_000),
  SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(6_000),
  IDEMPOTENCY_TTL_HOURS: positiveInt.default(48),
  /** How long a request waits for a concurrent request with the same Idempotency-Key before answering 409. */
  IDEMPOTENCY_WAIT_MS: z.coerce.number().int().min(0).default(5_000),
  JOBS_ENABLED: flag.default(true),
  JOBS_POLL_MS: positiveInt.default(500),
  JOBS_LEASE_MS: positiveInt.default(30_000),
  AUDIT_SEAL_INTERVAL_MS: positiveInt.default(1_000),
  TRUST_PROXY: flag.default(false),
  /**
   * Keys that encrypt secrets the service must read back (webhook signing secrets), AES-256-GCM:
   * `id:base64(32 bytes)[,id:key…]`, the first one current.
   */
  SECRETS_KEYS: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/=]{43,44}(,[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/=]{43,44})*$/,
      'must be id:base64key[,id:base64key…]',
    )
    .default(DEV_SECRETS_KEYS),
  /**
   * Key of the registry's blind index (HMAC-SHA256 of ID and phone numbers, to find a person without
   * decrypting): base64 of 32 bytes. Changing it means recomputing every index.
   */
  BLIND_INDEX_KEY: z
    .string()
    .refine((v) => /^[A-Za-z0-9+/]{43}=?$/.test(v) && Buffer.from(v, 'base64').length === 32, {
      message: 'must be 32 bytes in base64',
    })
    .default(DEV_BLIND_INDEX_KEY),
  EVENTS_POLL_MS: positiveInt.default(200),
  WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),
  WEBHOOK_CONCURRENCY: positiveInt.default(64),
  /** Allow plain-http webhook URLs (development and tests). */
  WEBHOOK_ALLOW_HTTP: flag.default(false),
  /** Private ranges webhooks may reach although not public, e.g. an intranet: `10.20.0.0/16,…`. */
  WEBHOOK_ALLOWED_CIDRS: z
    .string()
    .regex(/^([0-9a-fA-F:.]+\/\d{1,3})(,[0-9a-fA-F:.]+\/\d{1,3})*$/, 'must be comma-separated CIDR ranges')
    .optional(),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment once; a bad value throws a ConfigError naming each variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  if (
    parsed.data.NODE_ENV === 'production' &&
    parsed.data.API_KEY_PEPPER === configSchema.shape.API_KEY_PEPPER.parse(undefined)
  ) {
    throw new ConfigError(['API_KEY_PEPPER: must be set to a secret of your own in production']);
  }
  if (parsed.data.NODE_ENV === 'production' && parsed.data.SECRETS_KEYS === DEV_SECRETS_KEYS) {
    throw new ConfigError(['SECRETS_KEYS: must be set to a key of your own in production']);
  }
  if (parsed.data.NODE_ENV === 'production' && parsed.data.BLIND_INDEX_KEY === DEV_BLIND_INDEX_KEY) {
    throw new ConfigError(['BLIND_INDEX_KEY: must be set to a key of your own in production']);
  }
  return parsed.data;
}
