// Every table of the service, for drizzle-kit and the typed client. Modules add theirs here.
export * from '../platform/clients/tables.js';
export * from '../platform/regions/tables.js';
export * from '../platform/idempotency/tables.js';
export * from '../platform/audit/tables.js';
export * from '../platform/jobs/tables.js';
export * from '../platform/events/tables.js';
export * from '../modules/registry/programs.tables.js';
export * from '../modules/registry/people.tables.js';
export * from '../modules/registry/policies.tables.js';
export * from '../modules/registry/applications.tables.js';
export * from '../modules/registry/assistance.tables.js';
export * from '../modules/matching/tables.js';
export * from '../modules/inkind/tables.js';
export * from '../modules/payments/tables.js';
export * from '../modules/payments/bank.tables.js';
export * from '../modules/care/tables.js';
export * from '../modules/referrals/tables.js';
