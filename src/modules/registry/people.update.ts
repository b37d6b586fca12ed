import { eq } from 'drizzle-orm';
import type { AuditActor } from '../../platform/audit/service.js';
import { type FieldError, notFound, ProblemError, validationError } from '../../platform/errors.js';
import { etagOf } from '../../platform/http.js';
import { inJurisdiction } from '../../platform/jurisdiction.js';
import type { PeopleChecker } from './people.check.js';
import { personUpdated } from './people.events.js';
import type { PersonPatch, SelfCare } from './people.schemas.js';
import type { PeopleDeps } from './people.service.js';
import { persons } from './people.tables.js';
import { type PersonRow, personView, type Reader, revealsTo } from './people.view.js';

type PersonChanges = Partial<typeof persons.$inferInsert>;

const plainFields = [
  'region',
  'address',
  'hukouRegion',
  'scatteredExtremelyPoor',
  'livesAlone',
  'disabled',
  'selfCare',
] as const;

/** Changes to a person's contact, bank account, flags, address and region (never name or document). */
export function createPersonUpdate({ db, audit, events, pii, checker }: PeopleDeps & { checker: PeopleChecker }) {
  /**
   * Every sealed field of a row is sealed under one key (`sealed_key_id`): when a change seals a new
   * value under the current key, the row's other sealed values are sealed again under it as well.
   */
  function resealed(current: PersonRow): PersonChanges {
    if (current.sealedKeyId === pii.currentKeyId) return {};
    const again = (sealed: string | null) => (sealed === null ? null : pii.seal(pii.open(sealed)));
    return {
      idNumberSealed: again(current.idNumberSealed)!,
      phoneSealed: again(current.phoneSealed),
      bankAccountSealed: again(current.bankAccountSealed),
      sealedKeyId: pii.currentKeyId,
    };
  }

  function changesOf(current: PersonRow, patch: PersonPatch): { set: PersonChanges; changed: string[] } {
    const set: PersonChanges = {};
    const changed: string[] = [];
    for (const field of plainFields) {
      const value = patch[field];
      if (value !== undefined && value !== current[field]) {
        Object.assign(set, { [field]: value });
        changed.push(field);
      }
    }
    if (patch.phone !== undefined) {
      const phone = patch.phone === null ? null : pii.protect('phone', patch.phone);
      if (phone?.index !== (current.phoneIndex ?? undefined)) {
        Object.assign(set, { phoneSealed: phone?.sealed ?? null, phoneIndex: phone?.index ?? null });
        set.phoneMasked = phone?.masked ?? null;
        changed.push('phone');
      }
    }
    if (patch.bankAccount !== undefined) {
      const bank = patch.bankAccount;
      const account = bank === null ? null : pii.protect('bank_account', bank.accountNumber);
      Object.assign(set, {
        bankName: bank?.bankName ?? null,
        bankAccountHolder: bank?.holder ?? null,
        bankAccountSealed: account?.sealed ?? null,
        bankAccountMasked: account?.masked ?? null,
      });
      changed.push('bankAccount');
    }
    const sealsNew = set.phoneSealed || set.bankAccountSealed;
    return { set: sealsNew ? { ...resealed(current), ...set } : set, changed };
  }

  /**
   * Applies the fields given (null removes an optional one). With `expectedVersion` (If-Match) only
   * the version read is changed (412 otherwise). A change publishes `person.updated`.
   */
  async function updatePerson(
    caller: Reader,
    actor: AuditActor,
    id: string,
    patch: PersonPatch,
    expectedVersion?: number,
  ) {
    if (patch.region !== undefined) {
      const errors: FieldError[] = [];
      await checker.checkResidence(caller, patch.region, '/region', errors);
      if (errors.length > 0) throw validationError(errors);
    }
    const row = await db.transaction(async (tx) => {
      const [current] = await tx.select().from(persons).where(eq(persons.id, id)).for('update');
      if (!current || !inJurisdiction(caller, current.region)) throw notFound('person');
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw new ProblemError(412, 'precondition-failed', 'The person changed since you read it; read it again.', {
          currentETag: etagOf(current),
        });
      }
      const { set, changed } = changesOf(current, patch);
      if (changed.length === 0) return current;
      const [updated] = await tx
        .update(persons)
        .set({ ...set, version: current.version + 1, updatedAt: new Date() })
        .where(eq(persons.id, id))
        .returning();
      await events.publish(tx, personUpdated, {
        subject: `person/${id}`,
        region: updated!.region,
        data: {
          personId: id,
          householdId: updated!.householdId,
          region: updated!.region,
          previousRegion: changed.includes('region') ? current.region : null,
          changed,
          scatteredExtremelyPoor: updated!.scatteredExtremelyPoor,
          livesAlone: updated!.livesAlone,
          disabled: updated!.disabled,
          selfCare: updated!.selfCare as SelfCare | null,
        },
      });
      await audit.record(tx, actor, {
        operation: 'updatePerson',
        resourceType: 'person',
        resourceIds: [id],
        personIds: [id],
        detail: { changed },
      });
      return updated!;
    });
    return { body: personView(pii, row, revealsTo(caller)), etag: etagOf(row) };
  }

  return { updatePerson };
}
