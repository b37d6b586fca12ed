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

// SHA-256 (FIPS 180-4) round constants and initial state.
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** One SHA-256 compression: `state` absorbs the block held in `w[0..15]` (big-endian words). */
function compress(state: Int32Array, w: Int32Array) {
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!;
    const b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/**
 * HMAC-SHA256 under one key, base64url: the same values as `createHmac('sha256', key)`, at about
 * half the cost for short messages (a blind index is two SHA-256 compressions): the hashes of the
 * key's inner and outer pad blocks are computed once, and an ASCII message (an ID number, a phone)
 * goes into the hash without being encoded first. Not reentrant (it is synchronous, so that cannot
 * arise).
 */
function keyedHmac(key: Buffer): (message: string) => string {
  if (key.length > 64) throw new Error('HMAC keys longer than a block are hashed first: not supported here');
  const w = new Int32Array(64);
  const padded = (pad: number) => {
    for (let i = 0; i < 16; i++) {
      let word = 0;
      for (let j = 4 * i; j < 4 * i + 4; j++) word = (word << 8) | ((key[j] ?? 0) ^ pad);
      w[i] = word;
    }
    const state = IV.slice();
    compress(state, w);
    return state;
  };
  const innerStart = padded(0x36);
  const outerStart = padded(0x5c);
  const state = new Int32Array(8);
  const digest = Buffer.alloc(32);
  return (message) => {
    // ASCII is its own UTF-8; anything else is encoded first.
    let bytes: Buffer | null = null;
    for (let i = 0; i < message.length; i++) {
      if (message.charCodeAt(i) > 0x7f) {
        bytes = Buffer.from(message, 'utf8');
        break;
      }
    }
    const length = bytes ? bytes.length : message.length;
    // The inner hash goes on after the key's block: the message, then SHA-256's padding (0x80,
    // zeros, the length in bits of all that was hashed as a 64-bit big-endian number).
    state.set(innerStart);
    const blocks = Math.floor((length + 8) / 64) + 1;
    for (let block = 0, start = 0; block < blocks; block++, start += 64) {
      w.fill(0, 0, 16);
      const end = Math.min(length, start + 64);
      for (let i = start; i < end; i++) {
        w[(i - start) >> 2]! |= (bytes ? bytes[i]! : message.charCodeAt(i)) << (24 - 8 * (i & 3));
      }
      if (length >= start && length < start + 64) w[(length - start) >> 2]! |= 0x80 << (24 - 8 * (length & 3));
      if (block === blocks - 1) {
        const bits = (64 + length) * 8;
        w[14] = Math.floor(bits / 2 ** 32);
        w[15] = bits | 0;
      }
      compress(state, w);
    }
    // The outer hash: the inner digest after the key's other block.
    for (let i = 0; i < 8; i++) w[i] = state[i]!;
    w[8] = 0x80000000;
    w.fill(0, 9, 15);
    w[15] = (64 + 32) * 8;
    state.set(outerStart);
    compress(state, w);
    for (let i = 0; i < 8; i++) digest.writeInt32BE(state[i]!, 4 * i);
    return digest.toString('base64url');
  };
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

  /**
   * `index` of a value that is normalised already (as `normalise` returns it), without normalising
   * it again: a snapshot load indexes millions of ID numbers it has just checked.
   */
  const hmac = keyedHmac(blindIndexKey);
  const indexNormalised = (kind: SensitiveKind, normalised: string) => hmac(`${kind}:${normalised}`);

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

  return {
    currentKeyId,
    index,
    indexNormalised,
    protect,
    seal: box.seal,
    open: box.open,
    sealBytes: box.sealBytes,
    openBytes: box.openBytes,
  };
}

export type PiiProtector = ReturnType<typeof createPiiProtector>;
