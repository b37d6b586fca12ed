import type { Jurisdictional } from '../../platform/jurisdiction.js';
import { relationships, type HouseholdOut, type PersonOut } from './people.schemas.js';
import type { households, persons } from './people.tables.js';
import type { PiiProtector } from './sensitive.js';

/** A caller as the registry sees it: where it may look, and whether it may see sensitive fields whole. */
export type Reader = Jurisdictional & { scopes: readonly string[] };
export const revealsTo = (caller: Reader) => caller.scopes.includes('registry:read_sensitive');

export type PersonRow = typeof persons.$inferSelect;
export type HouseholdRow = typeof households.$inferSelect;

/**
 * A person as the caller may see it: sensitive fields opened when `reveal` (the caller holds
 * registry:read_sensitive), their masked forms otherwise; each says which it is.
 */
export function personView(pii: PiiProtector, row: PersonRow, reveal: boolean): PersonOut {
  const open = (sealed: string | null, masked: string | null) =>
    sealed === null ? masked : reveal ? pii.open(sealed) : masked;
  return {
    id: row.id,
    householdId: row.householdId,
    relationship: row.relationship as PersonOut['relationship'],
    name: row.name,
    idType: row.idType as PersonOut['idType'],
    idNumber: open(row.idNumberSealed, row.idNumberMasked)!,
    idNumberMasked: !reveal,
    birthDate: row.birthDate,
    sex: row.sex as PersonOut['sex'],
    region: row.region,
    address: row.address,
    hukouRegion: row.hukouRegion,
    phone: open(row.phoneSealed, row.phoneMasked),
    phoneMasked: !reveal && row.phoneSealed !== null,
    bankAccount:
      row.bankAccountSealed === null || row.bankName === null || row.bankAccountHolder === null
        ? null
        : {
            bankName: row.bankName,
            holder: row.bankAccountHolder,
            accountNumber: open(row.bankAccountSealed, row.bankAccountMasked)!,
            accountNumberMasked: !reveal,
          },
    scatteredExtremelyPoor: row.scatteredExtremelyPoor,
    livesAlone: row.livesAlone,
    disabled: row.disabled,
    selfCare: row.selfCare as PersonOut['selfCare'],
    createdBy: row.createdByClientId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const rank = (r: string | null) => (r === null ? relationships.length : relationships.indexOf(r as never));

/** Members in a stable order: the head, then by relationship, birth date and id. */
export const memberOrder = (a: PersonRow, b: PersonRow) =>
  rank(a.relationship) - rank(b.relationship) ||
  (a.birthDate ?? '').localeCompare(b.birthDate ?? '') ||
  a.id.localeCompare(b.id);

export function householdView(
  pii: PiiProtector,
  row: HouseholdRow,
  members: PersonRow[],
  reveal: boolean,
): HouseholdOut {
  return {
    id: row.id,
    region: row.region,
    address: row.address,
    hukouRegion: row.hukouRegion,
    members: [...members].sort(memberOrder).map((m) => personView(pii, m, reveal)),
    createdBy: row.createdByClientId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** What events and audit details may carry of a person: never a whole number. */
export const personSummary = (p: {
  id: string;
  relationship: string | null;
  idType: string;
  maskedIdNumber: string;
  scatteredExtremelyPoor: boolean;
  livesAlone: boolean;
  disabled: boolean;
  selfCare: string | null;
}) => ({
  personId: p.id,
  relationship: p.relationship as PersonOut['relationship'],
  idType: p.idType as PersonOut['idType'],
  maskedIdNumber: p.maskedIdNumber,
  scatteredExtremelyPoor: p.scatteredExtremelyPoor,
  livesAlone: p.livesAlone,
  disabled: p.disabled,
  selfCare: p.selfCare as PersonOut['selfCare'],
});
