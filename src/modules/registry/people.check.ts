import { randomUUID } from 'node:crypto';
import type { FieldError } from '../../platform/errors.js';
import { inJurisdiction, type Jurisdictional } from '../../platform/jurisdiction.js';
import type { RegionService } from '../../platform/regions/service.js';
import { checkResidentId, normaliseDocumentNumber } from './identity.js';
import {
  accountNumberProblem,
  type IdType,
  type NewHousehold,
  type NewMember,
  type NewPerson,
  type Relationship,
  type SelfCare,
} from './people.schemas.js';
import type { PiiProtector, Protected } from './sensitive.js';

/** A person checked and protected, ready to insert; `pointer` is where it came from in the request. */
export interface PreparedPerson {
  id: string;
  pointer: string;
  householdId: string | null;
  relationship: Relationship | null;
  name: string;
  idType: IdType;
  document: Protected;
  birthDate: string | null;
  sex: 'male' | 'female' | null;
  region: string;
  address: string | null;
  hukouRegion: string | null;
  phone: Protected | null;
  bank: { bankName: string; holder: string; sealed: string; masked: string } | null;
  scatteredExtremelyPoor: boolean;
  livesAlone: boolean;
  disabled: boolean;
  selfCare: SelfCare | null;
}

export interface PreparedHousehold {
  id: string;
  pointer: string;
  region: string;
  address: string | null;
  hukouRegion: string | null;
  members: PreparedPerson[];
}

/** Where a person lives, taken from the household (members) or given (a person on their own). */
interface Placement {
  householdId: string | null;
  region: string;
  address: string | null;
  hukouRegion: string | null;
}

type PersonInput = (NewMember | NewPerson) & { relationship?: Relationship };

/**
 * The checks of new people, collected all at once: every bad field of a request is named by its
 * JSON pointer before anything is written. Details never repeat a document number (they may be logged).
 */
export function createPeopleChecker({ regions, pii }: { regions: RegionService; pii: PiiProtector }) {
  /** A residence: a known region of county level or below, inside the caller's jurisdiction. */
  async function checkResidence(caller: Jurisdictional, region: string, pointer: string, errors: FieldError[]) {
    if (!(await regions.isKnown(region))) {
      errors.push({
        in: 'body',
        pointer,
        detail: `${region} is not a region code this service knows (see /v1/regions)`,
      });
    } else if (region.length < 6) {
      errors.push({
        in: 'body',
        pointer,
        detail: 'a residence must be a county-level region or one inside it (6 digits or more)',
      });
    } else if (!inJurisdiction(caller, region)) {
      errors.push({ in: 'body', pointer, detail: `must lie inside your own jurisdiction ${caller.jurisdiction}` });
    }
  }

  /** Checks a document number by its type; for a resident ID, derives the birth date and sex. */
  function checkDocument(input: PersonInput, at: string, today: string, errors: FieldError[]) {
    const push = (field: string, detail: string) => errors.push({ in: 'body', pointer: `${at}/${field}`, detail });
    if (input.idType === 'resident_id') {
      const checked = checkResidentId(input.idNumber, today);
      if (!checked.valid) {
        push('idNumber', checked.reason);
        return null;
      }
      if (input.birthDate !== undefined && input.birthDate !== checked.birthDate) {
        push('birthDate', 'differs from the birth date in the resident ID number; leave it out');
      }
      if (input.sex !== undefined && input.sex !== checked.sex) {
        push('sex', 'differs from the sex the resident ID number gives; leave it out');
      }
      return { number: checked.number, birthDate: checked.birthDate, sex: checked.sex };
    }
    const number = normaliseDocumentNumber(input.idNumber);
    if (!/^[A-Z0-9()-]{5,30}$/.test(number)) {
      push('idNumber', 'must be 5 to 30 letters, digits, dashes or parentheses');
      return null;
    }
    if (input.birthDate !== undefined && input.birthDate > today) push('birthDate', 'must not be in the future');
    return { number, birthDate: input.birthDate ?? null, sex: input.sex ?? null };
  }

  function preparePerson(
    input: PersonInput,
    at: string,
    placement: Placement,
    today: string,
    errors: FieldError[],
  ): PreparedPerson | null {
    const bank = input.bankAccount;
    // As the request's schema says; again here for callers that bypass it (the bulk load of the CLI).
    const accountProblem = bank ? accountNumberProblem(bank.accountNumber) : null;
    if (accountProblem) errors.push({ in: 'body', pointer: `${at}/bankAccount/accountNumber`, detail: accountProblem });
    const document = checkDocument(input, at, today, errors);
    if (!document) return null;
    const sealedBank = bank ? pii.protect('bank_account', bank.accountNumber) : null;
    return {
      id: randomUUID(),
      pointer: at,
      householdId: placement.householdId,
      relationship: input.relationship ?? null,
      name: input.name,
      idType: input.idType,
      document: pii.protect('document', document.number, input.idType),
      birthDate: document.birthDate,
      sex: document.sex,
      region: placement.region,
      address: placement.address,
      hukouRegion: input.hukouRegion ?? placement.hukouRegion,
      phone: input.phone === undefined ? null : pii.protect('phone', input.phone),
      bank:
        bank && sealedBank
          ? { bankName: bank.bankName, holder: bank.holder, sealed: sealedBank.sealed, masked: sealedBank.masked }
          : null,
      scatteredExtremelyPoor: input.scatteredExtremelyPoor ?? false,
      livesAlone: input.livesAlone ?? false,
      disabled: input.disabled ?? false,
      selfCare: input.selfCare ?? null,
    };
  }

  /** The second and later uses of one document in a request, each named by its pointer. */
  function checkRepeats(people: PreparedPerson[], errors: FieldError[]) {
    const seen = new Map<string, string>();
    for (const p of people) {
      const key = `${p.idType}|${p.document.index}`;
      const first = seen.get(key);
      if (first !== undefined) {
        errors.push({
          in: 'body',
          pointer: `${p.pointer}/idNumber`,
          detail: `is the same document as ${first}/idNumber: one person per identity document`,
        });
      } else seen.set(key, p.pointer);
    }
  }

  /** Checks households (one or a bulk) and their members; `pointerOf(i)` is the household's pointer. */
  async function prepareHouseholds(
    caller: Jurisdictional,
    inputs: NewHousehold[],
    pointerOf: (i: number) => string,
    today: string,
  ): Promise<{ households: PreparedHousehold[]; errors: FieldError[] }> {
    const errors: FieldError[] = [];
    const households: PreparedHousehold[] = [];
    for (const [i, input] of inputs.entries()) {
      const at = pointerOf(i);
      await checkResidence(caller, input.region, `${at}/region`, errors);
      const heads = input.members.flatMap((m, j) => (m.relationship === 'head' ? [j] : []));
      if (heads.length !== 1) {
        const where = heads.length === 0 ? `${at}/members` : `${at}/members/${heads[1]}/relationship`;
        errors.push({
          in: 'body',
          pointer: where,
          detail: `a household has exactly one head (relationship: head); this one has ${heads.length}`,
        });
      }
      const placement = {
        householdId: randomUUID(),
        region: input.region,
        address: input.address ?? null,
        hukouRegion: input.hukouRegion ?? null,
      };
      const members = input.members.flatMap(
        (m, j) => preparePerson(m, `${at}/members/${j}`, placement, today, errors) ?? [],
      );
      households.push({ id: placement.householdId, pointer: at, ...placement, members });
    }
    checkRepeats(
      households.flatMap((h) => h.members),
      errors,
    );
    return { households, errors };
  }

  return { checkResidence, preparePerson, prepareHouseholds };
}

export type PeopleChecker = ReturnType<typeof createPeopleChecker>;
