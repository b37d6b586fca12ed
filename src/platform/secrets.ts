import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets the service must be able to read back (webhook signing secrets), encrypted at rest with
 * AES-256-GCM. The stored form names the key it was made with (`<keyId>:<iv>:<tag>:<data>`), so
 * a key can be rotated: old values keep decrypting while their key is still configured.
 */
export function createSecretBox(keys: { id: string; key: Buffer }[]) {
  const current = keys[0];
  if (!current) throw new Error('at least one secrets key is needed');
  const byId = new Map(keys.map((k) => [k.id, k.key]));

  function seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', current!.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [current!.id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(
      ':',
    );
  }

  function open(sealed: string): string {
    const [id, iv, tag, data] = sealed.split(':');
    const key = id ? byId.get(id) : undefined;
    if (!key || !iv || !tag || data === undefined) throw new Error(`cannot open a secret sealed with key ${id}`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }

  return { seal, open };
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
