/**
 * What the soak's mix sends, and how often (weights out of 100): reads of persons, households,
 * lists, visits, coverage and the event feed; writes that register persons, record visits and
 * verify households, each publishing its events in its own transaction. Writes feed the reads:
 * a registered person is read by id afterwards, and one in five (living alone) is visited.
 */
import { syntheticResidentId } from '../../src/modules/registry/people.seed.js';
import { REGION, type SoakCity } from './city.js';
import type { Kind } from './mix.js';

const surnames = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗';
const given = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志';
const channels = ['phone', 'wechat_video', 'in_person'] as const;
/** Synthetic ID numbers of persons registered by the mix: a seed the city's households (seed 11) never reach. */
const NEW_PERSON_BASE = 9 * 1_000_003;

const any = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;

export interface MixState {
  /** Events the mix's writes published, by type (each 201 publishes them in its transaction). */
  published: Map<string, number>;
  /** Persons registered by the mix. */
  registered: number;
  /** The feed's last position, roughly: feed reads start at random below it. */
  feedHead: () => number;
}

export function soakKinds(city: SoakCity, caregivers: string[], state: MixState): Kind[] {
  const persons = [...city.persons];
  const keyPersons = [...city.keyPersons];
  const publish = (type: string) => state.published.set(type, (state.published.get(type) ?? 0) + 1);
  let listCursor: string | null = null;
  return [
    {
      name: 'read person',
      group: 'read',
      weight: 20,
      make: () => ({ method: 'GET', path: `/v1/persons/${any(persons)}`, expect: 200 }),
    },
    {
      name: 'read household',
      group: 'read',
      weight: 8,
      make: () => ({ method: 'GET', path: `/v1/households/${any(city.households)}`, expect: 200 }),
    },
    {
      name: 'list persons',
      group: 'read',
      weight: 10,
      make: () => ({
        method: 'GET',
        path: `/v1/persons?region=${REGION}&limit=50${listCursor ? `&cursor=${encodeURIComponent(listCursor)}` : ''}`,
        expect: 200,
        ok: (body) => (listCursor = (body as { nextCursor: string | null }).nextCursor),
      }),
    },
    {
      name: 'list visits',
      group: 'read',
      weight: 6,
      make: () => ({ method: 'GET', path: `/v1/visits?personId=${any(keyPersons)}&limit=20`, expect: 200 }),
    },
    {
      name: 'coverage',
      group: 'read',
      weight: 4,
      make: () => ({ method: 'GET', path: `/v1/coverage?region=${REGION}`, expect: 200 }),
    },
    {
      name: 'event feed',
      group: 'read',
      weight: 17,
      make: () => ({
        method: 'GET',
        path: `/v1/events?after=${Math.floor(Math.random() * state.feedHead())}&limit=100`,
        expect: 200,
      }),
    },
    {
      name: 'register person',
      group: 'write',
      weight: 10,
      make: () => {
        const n = state.registered++;
        const name = surnames[n % surnames.length]! + given[(n * 7) % given.length]! + given[(n * 13) % given.length]!;
        const livesAlone = n % 5 === 0;
        return {
          method: 'POST',
          path: '/v1/persons',
          body: {
            name,
            idType: 'resident_id',
            idNumber: syntheticResidentId(REGION, NEW_PERSON_BASE + n),
            phone: `139${String(n).padStart(8, '0')}`,
            region: REGION,
            address: `人民大街${1 + (n % 2000)}号`,
            ...(livesAlone && { livesAlone }),
          },
          expect: 201,
          ok: (body) => {
            const id = (body as { id: string }).id;
            persons.push(id);
            if (livesAlone) keyPersons.push(id);
            publish('person.registered');
          },
        };
      },
    },
    {
      name: 'record visit',
      group: 'write',
      weight: 15,
      make: () => {
        const symptomatic = Math.random() < 0.1;
        return {
          method: 'POST',
          path: '/v1/visits',
          body: {
            personId: any(keyPersons),
            caregiverId: any(caregivers),
            channel: any(channels),
            visitedAt: new Date(Date.now() - 1_000).toISOString(),
            healthStatus: symptomatic ? 'symptomatic' : 'well',
            ...(symptomatic && { symptoms: ['fever', 'cough'] }),
            needs: ['food'],
          },
          expect: 201,
          ok: () => {
            publish('visit.recorded');
            if (symptomatic) publish('visit.symptoms_reported');
          },
        };
      },
    },
    {
      name: 'verify household',
      group: 'write',
      weight: 10,
      make: () => ({
        method: 'POST',
        path: '/v1/matching/verifications',
        body: { householdId: any(city.households), program: 'dibao' },
        expect: 201,
        ok: () => publish('matching_verification.completed'),
      }),
    },
  ];
}
