// The real service, as `npm start` runs it (job worker and audit sealer included).
import { startServer } from '../../src/server.js';
import { loadConfig } from '../../src/config.js';

await startServer(loadConfig());
process.send?.('ready');
