import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';

/**
 * Secrets the service must be able to read back (webhook signing secrets), encrypted at rest with
 * AES-256-GCM. The stored form names the key it was made with (`<keyId>:<iv>:<tag>:<data>`), so
 * a key can be rotated: old values keep decrypting while their key is still configured.
 */
export function createSecretBox(keys: { id: string; key: Buffer }[]) {
  const current = keys[0];
  if (!current) throw new Error('at least one secrets key is needed');
  // Key objects made once: a cipher made from raw bytes imports its key again each time, and a
  // bank file opens hundreds of thousands of accounts.
  const byId = new Map(keys.map((k) => [k.id, createSecretKey(k.key)]));
  const currentKey = byId.get(current.id)!;

  function seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', currentKey, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [current!.id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(
      ':',
    );
  }

  function open(sealed: string): string {
    const a = sealed.indexOf(':');
    const b = a === -1 ? -1 : sealed.indexOf(':', a + 1);
    const c = b === -1 ? -1 : sealed.indexOf(':', b + 1);
    const id = a === -1 ? sealed : sealed.slice(0, a);
    const key = byId.get(id);
    // As `split(':')` read it: four parts (any further ones ignored), the first three not empty.
    if (!key || a < 1 || b <= a + 1 || c <= b + 1) {
      throw new Error(`cannot open a secret sealed with key ${id}`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.slice(a + 1, b), 'base64'));
    decipher.setAuthTag(Buffer.from(sealed.slice(b + 1, c), 'base64'));
    const d = sealed.indexOf(':', c + 1);
    const plain = decipher.update(Buffer.from(sealed.slice(c + 1, d === -1 ? undefined : d), 'base64'));
    // GCM gives nothing more at the end: final only checks the tag (and throws when it is wrong).
    decipher.final();
    return plain.toString('utf8');
  }

  /**
   * Bytes sealed the same way, as bytes: the key id's length (one byte), the key id, the 12-byte
   * IV, the 16-byte tag, then the data. For large values (a bank file's parts), one seal each.
   */
  function sealBytes(plain: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', currentKey, iv);
    const data = Buffer.concat([cipher.update(plain), cipher.final()]);
    const id = Buffer.from(current!.id, 'utf8');
    return Buffer.concat([Buffer.from([id.length]), id, iv, cipher.getAuthTag(), data]);
  }

  function openBytes(sealed: Buffer): Buffer {
    const idEnd = 1 + (sealed[0] ?? 0);
    const id = sealed.subarray(1, idEnd).toString('utf8');
    const key = byId.get(id);
    if (!key || sealed.length < idEnd + 28) throw new Error(`cannot open bytes sealed with key ${id}`);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(idEnd, idEnd + 12));
    decipher.setAuthTag(sealed.subarray(idEnd + 12, idEnd + 28));
    return Buffer.concat([decipher.update(sealed.subarray(idEnd + 28)), decipher.final()]);
  }

  return { seal, open, sealBytes, openBytes };
}

export type SecretBox = ReturnType<typeof createSecretBox>;

/** `SECRETS_KEYS`: `id:base64key[,id:base64key…]`, the first one current. */
export function parseSecretsKeys(value: string): { id: string; key: Buffer }[] {
  return value.split(',').map((part) => {
    const [id, b64] = part.trim().split(':');
    const key = Buffer.from(b64 ?? '', 'base64');
    if (!id || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
      throw new Error('each entry must be <id>:<32 bytes in base64>');
    }
    return { id, key };
  });
}
