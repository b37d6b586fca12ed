import { sql } from 'drizzle-orm';
import { type Executor, rows } from '../../db/client.js';
import { conflict, type ProblemError } from '../../platform/errors.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { PreparedHousehold, PreparedPerson } from './people.check.js';

/**
 * Set-based writes of prepared households and persons: one INSERT … SELECT over a JSON array per
 * table, whatever the number of rows (one parameter each, so no limit on bind parameters).
 */
export async function insertHouseholds(tx: Executor, households: PreparedHousehold[], clientId: string | null) {
  if (households.length === 0) return;
  const payload = households.map((h) => ({
    id: h.id,
    region: h.region,
    address: h.address,
    hukou_region: h.hukouRegion,
    created_by_client_id: clientId,
  }));
  await tx.execute(sql`
    insert into households (id, region, address, hukou_region, created_by_client_id)
    select id, region, address, hukou_region, created_by_client_id
    from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb)
      as r(id uuid, region text, address text, hukou_region text, created_by_client_id uuid)`);
}

export async function insertPersons(
  tx: Executor,
  people: PreparedPerson[],
  sealedKeyId: string,
  clientId: string | null,
) {
  if (people.length === 0) return;
  const payload = people.map((p) => ({
    id: p.id,
    household_id: p.householdId,
    relationship: p.relationship,
    name: p.name,
    id_type: p.idType,
    id_number_sealed: p.document.sealed,
    id_number_index: p.document.index,
    id_number_masked: p.document.masked,
    birth_date: p.birthDate,
    sex: p.sex,
    region: p.region,
    address: p.address,
    hukou_region: p.hukouRegion,
    phone_sealed: p.phone?.sealed ?? null,
    phone_index: p.phone?.index ?? null,
    phone_masked: p.phone?.masked ?? null,
    bank_name: p.bank?.bankName ?? null,
    bank_account_holder: p.bank?.holder ?? null,
    bank_account_sealed: p.bank?.sealed ?? null,
    bank_account_masked: p.bank?.masked ?? null,
    sealed_key_id: sealedKeyId,
    scattered_extremely_poor: p.scatteredExtremelyPoor,
    lives_alone: p.livesAlone,
    disabled: p.disabled,
    self_care: p.selfCare,
    created_by_client_id: clientId,
  }));
  await tx.execute(sql`
    insert into persons (id, household_id, relationship, name, id_type, id_number_sealed, id_number_index,
      id_number_masked, birth_date, sex, region, address, hukou_region, phone_sealed, phone_index, phone_masked,
      bank_name, bank_account_holder, bank_account_sealed, bank_account_masked, sealed_key_id,
      scattered_extremely_poor, lives_alone, disabled, self_care, created_by_client_id)
    select * from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as r(
      id uuid, household_id uuid, relationship text, name text, id_type text, id_number_sealed text,
      id_number_index text, id_number_masked text, birth_date date, sex text, region text, address text,
      hukou_region text, phone_sealed text, phone_index text, phone_masked text, bank_name text,
      bank_account_holder text, bank_account_sealed text, bank_account_masked text, sealed_key_id text,
      scattered_extremely_poor boolean, lives_alone boolean, disabled boolean, self_care text,
      created_by_client_id uuid)`);
}

interface Registered {
  id: string;
  household_id: string | null;
  region: string;
  id_type: string;
  id_number_index: string;
}

/** Persons already registered with any of these documents. */
export async function findRegistered(executor: Executor, people: PreparedPerson[]): Promise<Registered[]> {
  if (people.length === 0) return [];
  const documents = people.map((p) => ({ id_type: p.idType, idx: p.document.index }));
  return rows<Registered>(
    executor,
    sql`select p.id, p.household_id, p.region, p.id_type, p.id_number_index
        from persons p
        join jsonb_to_recordset(${JSON.stringify(documents)}::jsonb) as d(id_type text, idx text)
          on p.id_type = d.id_type and p.id_number_index = d.idx`,
  );
}

interface DocumentConflict {
  pointer: string;
  existingPersonId?: string;
  existingHouseholdId?: string | null;
  registeredElsewhere?: true;
}

/**
 * The 409 for documents registered already. A person in the caller's jurisdiction is named (its id
 * and household); one elsewhere is only said to exist, without id or region.
 */
export function documentConflict(
  caller: Jurisdictional,
  people: PreparedPerson[],
  registered: Registered[],
): ProblemError | null {
  const byDocument = new Map(registered.map((r) => [`${r.id_type}|${r.id_number_index}`, r]));
  const conflicts = people.flatMap((p): DocumentConflict[] => {
    const found = byDocument.get(`${p.idType}|${p.document.index}`);
    if (!found) return [];
    const pointer = `${p.pointer}/idNumber`;
    return inJurisdiction(caller, found.region)
      ? [{ pointer, existingPersonId: found.id, existingHouseholdId: found.household_id }]
      : [{ pointer, registeredElsewhere: true as const }];
  });
  const [first] = conflicts;
  if (!first) return null;
  const detail =
    first.existingPersonId !== undefined
      ? `${first.pointer}: this document is registered already to person ${first.existingPersonId}; one person per identity document.`
      : `${first.pointer}: this document is registered already, outside your jurisdiction; one person per identity document.`;
  return conflict(conflicts.length === 1 ? detail : `${conflicts.length} documents are registered already. ${detail}`, {
    ...first,
    conflicts,
  });
}

/** A unique violation of the one-person-per-document index (a concurrent registration won). */
export function isDocumentTaken(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, constraint } = e as { code?: unknown; constraint?: unknown };
    if (code === '23505') return constraint === 'persons_id_document_idx';
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
