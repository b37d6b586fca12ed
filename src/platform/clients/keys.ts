import { createHmac, randomBytes } from 'node:crypto';

/** `dd_` + 43 characters of base64url: 256 random bits. Shown once; only its HMAC is stored. */
export function newApiKey(): { key: string; prefix: string } {
  const key = `dd_${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, 11) };
}

export function hashApiKey(key: string, pepper: string): string {
  return createHmac('sha256', pepper).update(key).digest('hex');
}

/** Cheap shape check before touching the database. */
export const looksLikeApiKey = (key: string) => /^dd_[A-Za-z0-9_-]{43}$/.test(key);
