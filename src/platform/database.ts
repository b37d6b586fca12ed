import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Database } from '../db/client.js';

declare module 'fastify' {
  interface FastifyInstance {
    database: Database;
  }
}

/** Makes the database known to the app and closes it last, after everything that uses it. */
export const databasePlugin = fp(
  async (app: FastifyInstance, { database, owned }: { database: Database; owned: boolean }) => {
    app.decorate('database', database);
    if (owned) app.addHook('onClose', async () => database.close());
  },
  { name: 'database' },
);
