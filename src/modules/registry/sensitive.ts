import { createHmac } from 'node:crypto';
import { createSecretBox } from '../../platform/secrets.js';
import { normaliseDocumentNumber } from './identity.js';

/** The kinds of sensitive value a person has; each is indexed under its own label. */
export type SensitiveKind = 'document' | 'phone' | 'bank_account';

const stars = (n: number) => '*'.repeat(Math.max(n, 0));

/** Keeps `head` leading and `tail` trailing characters; masks everything when too short to keep any. */
function keep(value: string, head: number, tail: number): string {
  if (value.length <= head + tail) return stars(value.length);
  return value.slice(0, head) + stars(value.length - head - tail) + value.slice(value.length - tail);
}

/**
 * How a value is shown to a caller without `registry:read_sensitive`: resident ID numbers keep
 * the region and the last four (`220102********123X`), phones the first three and last four
 * (`138****5678`), bank accounts and other documents only the last four.
 */
export function mask(kind: SensitiveKind, value: string, idType?: string): string {
  if (kind === 'document' && idType === 'resident_id') return keep(value, 6, 4);
  if (kind === 'phone') return value.length >= 8 ? keep(value, 3, 4) : keep(value, 0, 2);
  return value.length > 4 ? keep(value, 0, 4) : stars(value.length);
}

/** Phones are kept as digits with an optional leading + (spaces and dashes are formatting). */
export const normalisePhone = (value: string) => value.replace(/[\s-]+/g, '').toUpperCase();

export function normalise(kind: SensitiveKind, value: string): string {
  return kind === 'phone' ? normalisePhone(value) : normaliseDocumentNumber(value);
}

export interface Protected {
  sealed: string;
  index: string;
  masked: string;
}

/**
 * Personal information protection (PIPL) for the registry: values are sealed with AES-256-GCM under
 * the current `SECRETS_KEYS` key (its id inside the sealed text, so older keys keep opening what
 * they sealed), found through a blind index (HMAC-SHA256 under `BLIND_INDEX_KEY` of the normalised
 * value, labelled by kind) and shown masked unless the caller may see them whole.
 */
export function createPiiProtector({
  keys,
  blindIndexKey,
}: {
  keys: { id: string; key: Buffer }[];
  blindIndexKey: Buffer;
}) {
  if (blindIndexKey.length !== 32) throw new Error('the blind index key must be 32 bytes');
  const box = createSecretBox(keys);
  const currentKeyId = keys[0]!.id;

  /** The keyed hash a value is found by; the same value always gives the same index. */
  const index = (kind: SensitiveKind, value: string) =>
    createHmac('sha256', blindIndexKey)
      .update(`${kind}:${normalise(kind, value)}`)
      .digest('base64url');

  /** Seals, indexes and masks the normalised value. */
  function protect(kind: SensitiveKind, value: string, idType?: string): Protected {
    const plain = normalise(kind, value);
    return { sealed: box.seal(plain), index: index(kind, plain), masked: mask(kind, plain, idType) };
  }

  return { currentKeyId, index, protect, seal: box.seal, open: box.open };
}

export type PiiProtector = ReturnType<typeof createPiiProtector>;
