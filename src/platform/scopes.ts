/**
 * Every scope the service knows, and what each agency gets by default. The README's scope table is
 * this file in prose; a test keeps the two in step.
 */
export const agencies = [
  'civil_affairs',
  'finance',
  'bank',
  'data_provider',
  'health',
  'cdc',
  'portal',
  'admin',
] as const;
export type Agency = (typeof agencies)[number];

export const scopeCatalogue = {
  'regions:read': 'Read the administrative divisions',
  'jobs:read': 'Read the long-running jobs the client started (admins: all in their jurisdiction)',
  'clients:read': 'List and read API clients and their keys (metadata only)',
  'clients:write': 'Create, change and disable clients; issue and revoke keys',
  'audit:read': 'Read the audit trail',
  'audit:verify': 'Verify the audit hash chain',
  'events:read': 'Poll the event feed',
  'webhooks:manage': 'Manage the client’s own webhook subscriptions',
  'registry:read': 'Read households and persons (sensitive fields masked)',
  'registry:write': 'Register and change households and persons',
  'registry:read_sensitive': 'See ID numbers, phone numbers and bank accounts unmasked',
  'programs:read': 'Read programs, standards and emergency policies',
  'programs:manage': 'Manage program standards, emergency policies and the in-kind item catalogue',
  'applications:read': 'Read applications and enrollments',
  'applications:write': 'Submit applications on a resident’s behalf',
  'applications:decide': 'Decide applications; manage enrollments and reviews',
  'assistance:write': 'Record welfare contacts and grant temporary assistance',
  'matching:load': 'Load records into the provider’s own matching source',
  'matching:verify': 'Run economic verification',
  'payments:read': 'Read payment batches and payments',
  'payments:prepare': 'Generate and submit payment batches; record in-kind aid',
  'payments:approve': 'Approve, reject and reconcile payment batches (finance)',
  'payments:execute': 'Download payment instructions and report results (bank)',
  'care:read': 'Read caregivers, assignments, visits and coverage',
  'care:write': 'Manage caregivers and assignments; record visits',
  'referrals:create': 'Report suspected cases',
  'referrals:read': 'Read referrals',
  'referrals:receive': 'Receive, acknowledge and answer referrals (health, CDC)',
  'contacts:create': 'Assemble and send close-contact handoffs',
  'contacts:read': 'Read close-contact handoffs',
  'contacts:receive': 'Receive handoffs and report tracing status (CDC)',
  'reports:write': 'File daily and urgent reports',
  'reports:read': 'Read reports, compliance and city totals',
} as const;

export type Scope = keyof typeof scopeCatalogue;
export const scopeNames = Object.keys(scopeCatalogue) as [Scope, ...Scope[]];

const common: Scope[] = ['regions:read', 'jobs:read', 'events:read', 'webhooks:manage'];

export const defaultScopes: Record<Agency, Scope[]> = {
  civil_affairs: [
    ...common,
    'registry:read',
    'registry:write',
    'registry:read_sensitive',
    'programs:read',
    'applications:read',
    'applications:write',
    'applications:decide',
    'assistance:write',
    'matching:verify',
    'payments:read',
    'payments:prepare',
    'care:read',
    'care:write',
    'referrals:create',
    'referrals:read',
    'contacts:create',
    'contacts:read',
    'reports:write',
    'reports:read',
  ],
  finance: [...common, 'programs:read', 'payments:read', 'payments:approve'],
  bank: [...common, 'payments:read', 'payments:execute'],
  data_provider: [...common, 'matching:load'],
  health: [...common, 'referrals:read', 'referrals:receive'],
  cdc: [...common, 'referrals:read', 'referrals:receive', 'contacts:read', 'contacts:receive'],
  portal: [...common, 'programs:read', 'applications:read', 'applications:write'],
  admin: [...common, 'clients:read', 'clients:write', 'audit:read', 'audit:verify', 'programs:read', 'programs:manage'],
};
