import { unstorable } from '../../platform/text-guard.js';
import { checkResidentId, residentIdCheckCharacter } from '../registry/identity.js';
import type { SourceKind } from './tables.js';

/**
 * The record schema of each source kind: which fields a provider sends, per line of NDJSON (one
 * JSON object a line) or per row of CSV (a header row naming the fields). Every record names a
 * person by resident ID number (GB 11643; the number is validated, then only its blind index is
 * stored) and name; what `amountFen` means depends on the kind.
 */
export type FieldType = 'idNumber' | 'text' | 'fen' | 'date' | 'enum';

export interface RecordField {
  name: string;
  type: FieldType;
  required: boolean;
  description: string;
  /** For enums: the values allowed. */
  values?: readonly string[];
  /** Where it is stored: a column of matching_records, or a key of its `attrs`. */
  column: 'idIndex' | 'name' | 'amountFen' | 'eventDate' | 'ref' | 'attrs';
}

export interface KindSchema {
  kind: SourceKind;
  title: string;
  description: string;
  fields: RecordField[];
}

const common: RecordField[] = [
  {
    name: 'idNumber',
    type: 'idNumber',
    required: true,
    column: 'idIndex',
    description:
      'Resident ID number (公民身份号码, 18 characters, GB 11643 check character); stored only as its blind index',
  },
  {
    name: 'name',
    type: 'text',
    required: true,
    column: 'name',
    description: 'The person’s name as the provider holds it; compared with the registry’s to flag mismatches',
  },
  {
    name: 'ref',
    type: 'text',
    required: false,
    column: 'ref',
    description: 'The provider’s own id of the record, quoted in verification explanations',
  },
];

const amount = (description: string): RecordField => ({
  name: 'amountFen',
  type: 'fen',
  required: true,
  column: 'amountFen',
  description: `${description}, in integer fen (CNY cents), 0 or more`,
});

const kindSchemas: Record<SourceKind, KindSchema> = {
  income: {
    kind: 'income',
    title: 'Income and wages',
    description: 'One record per employer or income source; a person’s records are summed.',
    fields: [...common, amount('Monthly wage income before tax')],
  },
  pension: {
    kind: 'pension',
    title: 'Pensions and social insurance',
    description: 'Pensions and other regular social-insurance benefits being paid.',
    fields: [...common, amount('Monthly pension paid')],
  },
  housing_fund: {
    kind: 'housing_fund',
    title: 'Housing provident fund',
    description: 'Contributions show employment and the wage base.',
    fields: [...common, amount('Monthly housing-fund contribution (employee and employer)')],
  },
  real_estate: {
    kind: 'real_estate',
    title: 'Real estate',
    description: 'One record per property held.',
    fields: [
      ...common,
      amount('Assessed value of the property'),
      {
        name: 'use',
        type: 'enum',
        values: ['residential', 'commercial'],
        required: true,
        column: 'attrs',
        description: 'What the property is registered for',
      },
    ],
  },
  vehicle: {
    kind: 'vehicle',
    title: 'Vehicles',
    description: 'One record per motor vehicle registered to the person.',
    fields: [
      ...common,
      amount('Assessed value of the vehicle'),
      { name: 'plate', type: 'text', required: true, column: 'attrs', description: 'Registration plate' },
    ],
  },
  deposits: {
    kind: 'deposits',
    title: 'Deposits and securities',
    description: 'One record per account or holding.',
    fields: [...common, amount('Balance of deposits and market value of securities')],
  },
  business: {
    kind: 'business',
    title: 'Registered businesses',
    description: 'One record per business the person owns or is the legal representative of.',
    fields: [
      ...common,
      amount('Registered capital'),
      {
        name: 'status',
        type: 'enum',
        values: ['active', 'suspended', 'deregistered'],
        required: true,
        column: 'attrs',
        description: 'Registration status; only active businesses count against a household',
      },
    ],
  },
  death: {
    kind: 'death',
    title: 'Death registration',
    description: 'Persons registered as dead; used to stop payments to them.',
    fields: [
      ...common,
      {
        name: 'eventDate',
        type: 'date',
        required: true,
        column: 'eventDate',
        description: 'Date of death, YYYY-MM-DD',
      },
    ],
  },
};

export const recordSchemaOf = (kind: SourceKind): KindSchema => kindSchemas[kind];
export const recordSchemas = (): KindSchema[] => Object.values(kindSchemas);

/** One record ready to store: what matching_records holds, the ID number replaced by its index. */
export interface CheckedRecord {
  idNumber: string;
  name: string;
  amountFen: number | null;
  eventDate: string | null;
  ref: string | null;
  attrs: Record<string, string> | null;
}

export interface FieldProblem {
  field: string;
  reason: string;
}

const MAX_TEXT = 200;
/** 10^13 fen (100 billion yuan): beyond any real holding, and exact in a double. */
const MAX_FEN = 10_000_000_000_000;

function isRealDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** The value of one field, or the reason it is bad. Reasons never repeat an ID number. */
function checkField(field: RecordField, raw: unknown, today: string): { value: string | number } | { reason: string } {
  switch (field.type) {
    case 'idNumber': {
      if (typeof raw !== 'string') return { reason: 'must be a string' };
      const checked = checkResidentId(raw, today);
      return checked.valid ? { value: checked.number } : { reason: checked.reason };
    }
    case 'text': {
      if (typeof raw !== 'string') return { reason: 'must be a string' };
      const text = raw.trim();
      if (text === '') return { reason: 'must not be empty' };
      if (text.length > MAX_TEXT) return { reason: `must be at most ${MAX_TEXT} characters` };
      if (unstorable(text)) return { reason: 'must not contain NUL (U+0000) or unpaired surrogates' };
      return { value: text };
    }
    case 'fen': {
      // A JSON integer, or the digits of one (CSV cells are text).
      const n = typeof raw === 'string' && /^\d{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n)) return { reason: 'must be an integer number of fen' };
      if (n < 0) return { reason: 'must not be negative' };
      if (n > MAX_FEN) return { reason: `must be at most ${MAX_FEN} fen` };
      return { value: n };
    }
    case 'date': {
      if (typeof raw !== 'string' || !isRealDate(raw.trim())) return { reason: 'must be a date YYYY-MM-DD' };
      if (raw.trim() > today) return { reason: `must not be after today (${today})` };
      return { value: raw.trim() };
    }
    case 'enum': {
      const values = field.values ?? [];
      if (typeof raw !== 'string' || !values.includes(raw.trim()))
        return { reason: `must be one of ${values.join(', ')}` };
      return { value: raw.trim() };
    }
  }
}

/** YYYYMMDD as a number, from YYYY-MM-DD. */
const dayNumber = (date: string) =>
  Number(date.slice(0, 4)) * 10_000 + Number(date.slice(5, 7)) * 100 + Number(date.slice(8, 10));
const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const digit = (s: string, i: number) => s.charCodeAt(i) - 48;

/**
 * The common case of a resident ID number, decided without allocating: 18 characters, 17 digits
 * and a digit or X, a region code, a real birth date from 1880 on and not after `today`, the right
 * check character. True only when `checkResidentId` would accept `value` as it is (already
 * normalised); anything else (spaces, a lowercase x, any fault) goes to `checkResidentId`, which
 * says what is wrong.
 */
function plainValidResidentId(value: string, today: number): boolean {
  if (value.length !== 18) return false;
  for (let i = 0; i < 17; i++) {
    const d = digit(value, i);
    if (d < 0 || d > 9) return false;
  }
  if (value.charCodeAt(0) === 48) return false;
  const year = digit(value, 6) * 1000 + digit(value, 7) * 100 + digit(value, 8) * 10 + digit(value, 9);
  const month = digit(value, 10) * 10 + digit(value, 11);
  const day = digit(value, 12) * 10 + digit(value, 13);
  if (year < 1880 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : monthDays[month - 1]!)) return false;
  if (year * 10_000 + month * 100 + day > today) return false;
  return value[17] === residentIdCheckCharacter(value);
}

export type RecordCheck = { record: CheckedRecord } | { problems: FieldProblem[] };

/**
 * The checker of one kind's records for one day (what `checkRecord` does, with the schema's field
 * names and `today` prepared once): a load checks millions of records with it.
 */
export function recordChecker(schema: KindSchema, today: string): (input: Record<string, unknown>) => RecordCheck {
  const known = new Set(schema.fields.map((f) => f.name));
  const fields = schema.fields;
  const todayNumber = dayNumber(today);
  const unknownReason = `is not a field of ${schema.kind} records`;
  return (input) => {
    let problems: FieldProblem[] | null = null;
    for (const key of Object.keys(input)) {
      if (!known.has(key)) (problems ??= []).push({ field: key, reason: unknownReason });
    }
    const record: CheckedRecord = { idNumber: '', name: '', amountFen: null, eventDate: null, ref: null, attrs: null };
    for (const field of fields) {
      const raw = input[field.name];
      if (raw === undefined || raw === null || raw === '') {
        if (field.required) (problems ??= []).push({ field: field.name, reason: 'is required' });
        continue;
      }
      if (field.type === 'idNumber' && typeof raw === 'string' && plainValidResidentId(raw, todayNumber)) {
        record.idNumber = raw;
        continue;
      }
      if (field.type === 'fen' && typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw <= MAX_FEN) {
        record.amountFen = raw;
        continue;
      }
      const checked = checkField(field, raw, today);
      if ('reason' in checked) {
        (problems ??= []).push({ field: field.name, reason: checked.reason });
        continue;
      }
      const value = checked.value;
      if (field.column === 'attrs') (record.attrs ??= {})[field.name] = String(value);
      else if (field.column === 'idIndex') record.idNumber = String(value);
      else if (field.column === 'amountFen') record.amountFen = Number(value);
      else record[field.column] = String(value);
    }
    return problems ? { problems } : { record };
  };
}

/**
 * Validates one record of a kind: every field it names must be in the kind's schema, every
 * required field present (absent, null and the empty string all count as missing), each value of
 * its type. `today` (YYYY-MM-DD) bounds birth dates and dates of death.
 */
export function checkRecord(schema: KindSchema, input: Record<string, unknown>, today: string): RecordCheck {
  return recordChecker(schema, today)(input);
}
