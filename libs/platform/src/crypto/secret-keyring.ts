import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** AES-256-GCM (NIST SP 800-38D), through `node:crypto`: the one cipher secrets at rest and in events use. */
const ALGORITHM = 'aes-256-gcm';
/** 96-bit nonces, random per value (SP 800-38D 8.2.2; safe far beyond 2^32 values per key). */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A key id: letters, digits, `_`, `.` and `-`, 1 to 32 characters (e.g. `2026-11`). */
export const SECRET_KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * A sealed value: `v1:<key id>:<iv>:<ciphertext>:<tag>`, the last three base64url. The key id travels with
 * the value, so a keyring holding several keys opens values sealed under any of them.
 */
const SEALED = /^v1:([A-Za-z0-9_.-]{1,32}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]*):([A-Za-z0-9_-]{22})$/;

/** Whether `value` has the shape of a sealed value (it may still fail to open). */
export function isSealedSecret(value: string): boolean {
  return SEALED.test(value);
}

/**
 * The key id a sealed value names, or `undefined` when `value` is not sealed (e.g. a value still in clear
 * from before secrets were encrypted).
 *
 * @example
 *   sealedKeyId('v1:2026-11:…'); // '2026-11'
 */
export function sealedKeyId(value: string): string | undefined {
  return SEALED.exec(value)?.[1];
}

/** Thrown when a keyring setting is malformed; the message never holds key material. */
export class SecretKeyringError extends Error {
  override readonly name = 'SecretKeyringError';
}

/**
 * Thrown when a sealed value cannot be opened: not sealed, sealed under a key id the keyring lacks, or
 * tampered with / sealed for another context (GCM authentication failed). Never holds the value.
 */
export class SecretOpenError extends Error {
  override readonly name = 'SecretOpenError';
}

/**
 * Parses a keyring setting: comma-separated `<key id>:<base64 of 32 bytes>` pairs, the first one active
 * (seals new values), every one opening values sealed under it. Throws {@link SecretKeyringError} naming
 * what is wrong (never the key).
 *
 * @example
 *   parseKeyringSetting('2026-11:q3J…=,2026-05:Zm9…='); // [{ id: '2026-11', key }, { id: '2026-05', key }]
 */
export function parseKeyringSetting(setting: string): Array<{ id: string; key: Buffer }> {
  const entries = setting.split(',').map((pair, index) => {
    const colon = pair.indexOf(':');
    const id = colon < 0 ? '' : pair.slice(0, colon);
    const encoded = colon < 0 ? '' : pair.slice(colon + 1);
    if (!SECRET_KEY_ID.test(id)) {
      throw new SecretKeyringError(
        `entry ${index + 1}: expected <key id>:<base64 key>, the id 1-32 of A-Z a-z 0-9 _ . -`,
      );
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || Buffer.from(encoded, 'base64').length !== KEY_BYTES) {
      throw new SecretKeyringError(`key "${id}": expected base64 of exactly ${KEY_BYTES} bytes`);
    }
    return { id, key: Buffer.from(encoded, 'base64') };
  });
  const ids = new Set<string>();
  for (const { id } of entries) {
    if (ids.has(id)) throw new SecretKeyringError(`key id "${id}" is listed twice`);
    ids.add(id);
  }
  return entries;
}

/**
 * Encrypts and decrypts secrets (partner service keys, any stored credential) with AES-256-GCM under keys
 * from config. The active key seals; every key of the ring opens what was sealed under it, so keys rotate
 * without downtime (add the new key, make it active, re-seal the rows, drop the old key). Each value is bound
 * to a `context` (additional authenticated data, e.g. `partner_services.service_key:weather`): a sealed value
 * copied to another row or field does not open there. No value or key is ever put in an error or a log.
 *
 * @example
 *   const keyring = SecretKeyring.fromSetting(config.SECRETS_KEYS);
 *   const sealed = keyring.seal('sk_weather_0123', 'partner_services.service_key:weather'); // 'v1:2026-11:…'
 *   keyring.open(sealed, 'partner_services.service_key:weather'); // 'sk_weather_0123'
 */
export class SecretKeyring {
  private readonly keys: ReadonlyMap<string, Buffer>;

  /** The id of the key new values are sealed under. */
  readonly activeKeyId: string;

  constructor(entries: ReadonlyArray<{ id: string; key: Buffer }>) {
    if (entries.length === 0) throw new SecretKeyringError('a keyring needs at least one key');
    for (const { key } of entries) {
      if (key.length !== KEY_BYTES) throw new SecretKeyringError(`keys must be ${KEY_BYTES} bytes`);
    }
    this.keys = new Map(entries.map(({ id, key }) => [id, Buffer.from(key)]));
    this.activeKeyId = entries[0].id;
  }

  /**
   * A keyring from its setting (see {@link parseKeyringSetting}); throws {@link SecretKeyringError}.
   *
   * @example
   *   const keyring = SecretKeyring.fromSetting(ctx.config.SECRETS_KEYS);
   */
  static fromSetting(setting: string): SecretKeyring {
    return new SecretKeyring(parseKeyringSetting(setting));
  }

  /** The ids this keyring opens, the active one first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /**
   * Seals `plaintext` (UTF-8) under the active key with a fresh random IV, bound to `context`.
   *
   * @example
   *   keyring.seal('sk_1', 'partner-service.changed:weather'); // 'v1:2026-11:<iv>:<ciphertext>:<tag>'
   */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key(this.activeKeyId), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v1',
      this.activeKeyId,
      iv.toString('base64url'),
      ciphertext.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join(':');
  }

  /**
   * Opens a value {@link seal} made for the same `context`, under any key of the ring. Throws
   * {@link SecretOpenError} for a value that is not sealed, names a key the ring lacks, or fails
   * authentication (tampered, or sealed for another context).
   *
   * @example
   *   const serviceKey = keyring.open(row.service_key, `partner_services.service_key:${row.slug}`);
   */
  open(sealed: string, context: string): string {
    const parts = SEALED.exec(sealed);
    if (parts === null) throw new SecretOpenError(`the ${context} value is not sealed (v1:<key id>:…)`);
    const [, keyId, iv, ciphertext, tag] = parts;
    const key = this.keys.get(keyId);
    if (key === undefined) {
      throw new SecretOpenError(
        `the ${context} value is sealed under key "${keyId}", which the keyring does not hold (has: ${this.keyIds.join(', ')})`,
      );
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretOpenError(
        `the ${context} value does not authenticate under key "${keyId}" (tampered with, or sealed for another context)`,
      );
    }
  }

  /**
   * Whether `sealed` needs re-sealing: it is in clear, or sealed under a key that is not the active one.
   *
   * @example
   *   if (keyring.needsReseal(row.service_key)) row.service_key = keyring.reseal(row.service_key, context);
   */
  needsReseal(sealed: string): boolean {
    return sealedKeyId(sealed) !== this.activeKeyId;
  }

  /**
   * Seals again under the active key: a sealed value is opened first (any key of the ring); a value in
   * clear (from before encryption) is sealed as it is.
   *
   * @example
   *   const fresh = keyring.reseal(row.service_key, context);
   */
  reseal(value: string, context: string): string {
    return this.seal(isSealedSecret(value) ? this.open(value, context) : value, context);
  }

  private key(id: string): Buffer {
    const key = this.keys.get(id);
    if (key === undefined) throw new SecretOpenError(`no key "${id}"`);
    return key;
  }

  /** Never shows key material (console.log, util.inspect, JSON). */
  toJSON(): { activeKeyId: string; keyIds: string[] } {
    return { activeKeyId: this.activeKeyId, keyIds: this.keyIds };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SecretKeyring { activeKeyId: '${this.activeKeyId}', keyIds: [${this.keyIds.map((id) => `'${id}'`).join(', ')}] }`;
  }
}

/**
 * A fresh key setting entry for operators and tests: `<id>:<base64 of 32 random bytes>`.
 *
 * @example
 *   generateKeyringEntry('2026-11'); // '2026-11:q3J…='
 */
export function generateKeyringEntry(id: string): string {
  if (!SECRET_KEY_ID.test(id)) throw new SecretKeyringError('invalid key id');
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}
