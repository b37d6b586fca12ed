import type { PiiProtector } from '../registry/sensitive.js';
import type { CaregiverKind, CaregiverOut } from './caregivers.schemas.js';
import type { Counted } from './caregivers.service.js';
import { phoneView, protectPhone } from './common.js';

/** A caregiver as the caller may see them: the phone whole with registry:read_sensitive, masked otherwise. */
export function caregiverView(pii: PiiProtector, row: Counted, reveal: boolean): CaregiverOut {
  return {
    id: row.id,
    region: row.region,
    name: row.name,
    kind: row.kind as CaregiverKind,
    organisation: row.organisation,
    personId: row.personId,
    ...phoneView(pii, row.phoneSealed, row.phoneMasked, reveal),
    active: row.active,
    activeAssignments: row.activeAssignments,
    createdBy: row.createdByClientId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The phone columns: sealed, blind index, masked and the sealing key; all null without a phone. */
export const phoneColumns = (pii: PiiProtector, phone: string | null) => {
  if (phone === null) return { phoneSealed: null, phoneIndex: null, phoneMasked: null, sealedKeyId: null };
  const p = protectPhone(pii, phone);
  return { phoneSealed: p.sealed, phoneIndex: p.index, phoneMasked: p.masked, sealedKeyId: p.keyId };
};
