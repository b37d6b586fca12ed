import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Executor } from '../../db/client.js';
import { type FieldError, notFound, unprocessable, validationError } from '../../platform/errors.js';
import { decodeCursor } from '../../platform/http.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import { persons } from '../registry/people.tables.js';
import type { PiiProtector } from '../registry/sensitive.js';

/** A caller as care sees it: where it may look, and whether it may see phone numbers whole. */
export type CareCaller = Jurisdictional & { scopes: readonly string[] };
export const revealsTo = (caller: CareCaller) => caller.scopes.includes('registry:read_sensitive');

/** Clocks of callers drift a little; a time this far ahead is still "now". */
export const CLOCK_SKEW_MS = 60_000;

export const body = (pointer: string, detail: string): FieldError => ({ in: 'body', pointer, detail });

export const isUuid = (v: unknown): v is string => z.uuid().safeParse(v).success;
/** A cursor carrying the id of the previous page's last row. */
export const idCursor = (cursor: string | undefined) => decodeCursor(cursor, isUuid);

/** The instant a business date (Asia/Shanghai) begins, as SQL. */
export const dayStartSql = (date: string) => sql`(${date}::date::timestamp at time zone 'Asia/Shanghai')`;

/** A person as care needs them: where they live and whether the registry marks them a key person. */
export interface CarePerson {
  id: string;
  name: string;
  region: string;
  key: boolean;
}

/**
 * The person, inside the caller's jurisdiction (404 otherwise), as a key person (422 otherwise).
 * `lock` takes the person's row for the transaction (FOR NO KEY UPDATE: other changes to the
 * person wait, inserts referring to them do not), so that care decisions about one person run one
 * after another.
 */
export async function keyPerson(
  executor: Executor,
  caller: Jurisdictional,
  personId: string,
  lock = false,
): Promise<CarePerson> {
  const query = executor
    .select({
      id: persons.id,
      name: persons.name,
      region: persons.region,
      key: sql<boolean>`${persons.scatteredExtremelyPoor} or ${persons.livesAlone} or ${persons.disabled}`,
    })
    .from(persons)
    .where(eq(persons.id, personId));
  const [person] = lock ? await query.for('no key update') : await query;
  if (!person || !inJurisdiction(caller, person.region)) throw notFound('person');
  if (!person.key) {
    throw unprocessable(
      'The person is not a key person: the registry marks none of scatteredExtremelyPoor, livesAlone or disabled. ' +
        'Set one with PATCH /v1/persons/{id}, or record a welfare contact instead.',
      { personId },
    );
  }
  return person;
}

/** A phone number sealed, blind-indexed and masked as the registry keeps persons' phones. */
export function protectPhone(pii: PiiProtector, phone: string) {
  const p = pii.protect('phone', phone);
  return { sealed: p.sealed, index: p.index, masked: p.masked, keyId: pii.currentKeyId };
}

/** The phone as the caller may see it: whole with registry:read_sensitive, masked otherwise. */
export function phoneView(pii: PiiProtector, sealed: string | null, masked: string | null, reveal: boolean) {
  if (sealed === null) return { phone: null, phoneMasked: false };
  return reveal ? { phone: pii.open(sealed), phoneMasked: false } : { phone: masked, phoneMasked: true };
}

/** Throws the validation problem when any field was found wrong. */
export function check(errors: FieldError[]) {
  if (errors.length > 0) throw validationError(errors);
}

/** PostgreSQL's unique_violation on a given index (drizzle wraps the driver's error in `cause`). */
export const isUniqueViolation = (err: unknown, index: string): boolean => {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, constraint } = e as { code?: string; constraint?: string };
    if (code === '23505' && constraint === index) return true;
  }
  return false;
};
