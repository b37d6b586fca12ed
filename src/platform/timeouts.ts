import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A streamed upload (millions of records): no limit on the whole request, and the socket may
     * sit unread for `uploadIdleMs` while the database catches up (backpressure) instead of the
     * usual connection timeout. Every other request must arrive whole within `requestMs`.
     */
    streamedUpload?: boolean;
  }
  interface FastifyRequest {
    /** Puts the connection timeout back on the socket (timeoutsPlugin). */
    restoreIdleTimeout?: (() => void) | undefined;
  }
}

interface Options {
  /** Time allowed to receive a whole request (REQUEST_TIMEOUT_MS). */
  requestMs: number;
  /** Idle time allowed on a streamed upload's socket (UPLOAD_IDLE_TIMEOUT_MS). */
  uploadIdleMs: number;
}

/**
 * Node's own `requestTimeout` applies to every request of the server alike, so it would cut a
 * streamed upload of a few million records as surely as a slow-dripped JSON body. The server runs
 * with it off (headers still have Node's `headersTimeout`) and this hook gives each request its
 * limit instead: the whole body within `requestMs`, or, for routes marked `streamedUpload`, no total
 * limit but an idle limit on the socket. No request is cut while it is being answered: the socket's
 * connection timeout is off from its arrival until its answer is sent.
 */
export const timeoutsPlugin = fp<Options>(
  async (app: FastifyInstance, { requestMs, uploadIdleMs }) => {
    app.decorateRequest('restoreIdleTimeout', undefined);
    app.addHook('onRequest', async (request) => {
      const raw = request.raw;
      // An injected request (app.inject) has a stand-in socket: no network, nothing to time.
      const socket = raw.socket as Partial<typeof raw.socket> | undefined;
      if (typeof socket?.setTimeout !== 'function' || typeof socket.destroy !== 'function') return;
      if (request.routeOptions.config.streamedUpload) {
        socket.setTimeout(uploadIdleMs);
        // Back to the connection timeout for whatever follows on a kept-alive socket.
        const previous = app.server.timeout;
        raw.once('close', () => socket.setTimeout!(previous));
        return;
      }
      // The connection timeout is for idle sockets. While the answer is being made nothing flows
      // (a 500,000-payment batch takes seconds), and cutting the socket then would lose the answer
      // to work that still commits: off until the answer is sent, when it guards a slow reader.
      // A body that does not come in time is the timer's below.
      const idle = app.server.timeout;
      socket.setTimeout(0);
      request.restoreIdleTimeout = () => socket.setTimeout!(idle);
      if (raw.complete) return;
      const timer = setTimeout(() => {
        if (raw.complete) return;
        request.log.info({ requestMs }, 'request not received whole in time: connection closed');
        socket.destroy!();
      }, requestMs);
      timer.unref();
      const clear = () => clearTimeout(timer);
      raw.once('end', clear);
      raw.once('close', clear);
    });
    app.addHook('onSend', async (request) => {
      request.restoreIdleTimeout?.();
      request.restoreIdleTimeout = undefined;
    });
  },
  { name: 'timeouts' },
);
