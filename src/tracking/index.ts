// The public pixel listener: GET/HEAD /p/<token>.gif answers a no-cache 1x1 GIF; every
// other path is a bare 404. A GET with a valid token records an open (and its notification
// rows) through group commit BEFORE the GIF is sent, so no 200 is ever given for an open that
// a kill -9 could lose; if the store fails the answer is 503 with no GIF.
// Trusts nothing from the request: the token is verified by HMAC (no DB read), headers are
// bounded, nothing is echoed, nothing is logged per hit. Holds no relay or API credentials.
import http from 'node:http';
import type { Config } from '../config.js';
import type { OpenInput, Store } from '../store/port.js';
import { createClientIpResolver } from './client-ip.js';
import { GIF_HEADERS, NOT_ALLOWED_HEADERS, NOT_FOUND_HEADERS, PIXEL_GIF, UNAVAILABLE_HEADERS } from './gif.js';
import { createOpenRecorder } from './group-commit.js';
import { readHeaders } from './request-headers.js';
import { PIXEL_PREFIX, PIXEL_SUFFIX, type TrackingKeys } from './tokens.js';

export { TrackingKeys, createPixelUrlFor } from './tokens.js';

/** User-Agent is stored and sent in every Open notification: bound what a client can make us keep. */
export const MAX_USER_AGENT_CHARS = 512;

export interface TrackingDeps {
  /** Only the write of opens: the public handler can read or change nothing else. */
  store: Pick<Store, 'recordOpens'>;
  keys: TrackingKeys;
  config: Pick<Config, 'trustedProxies'>;
  now?: () => number;
  /** Called after opens were committed (the lead kicks the dispatcher with it). */
  onRecorded?: () => void;
}

export interface TrackingMetrics {
  /** Opens recorded (200 after commit). */
  opens: number;
  /** Pixel requests whose token did not verify (GIF served, nothing recorded). */
  forged: number;
  /** Valid tokens of messages the store does not know (GIF served, nothing recorded). */
  unknown: number;
  /** Opens the store failed to record (answered 503). */
  errors: number;
  /** recordOpens transactions. */
  batches: number;
  largestBatch: number;
}

export interface TrackingServer {
  server: http.Server;
  metrics(): TrackingMetrics;
  /** Stops accepting, answers every queued open, closes connections. */
  close(): Promise<void>;
}

export function createTrackingServer(deps: TrackingDeps): TrackingServer {
  const { store, keys } = deps;
  const now = deps.now ?? Date.now;
  const clientIp = createClientIpResolver(deps.config.trustedProxies);
  const recorder = createOpenRecorder(store, { onRecorded: deps.onRecorded });
  const counters = { opens: 0, forged: 0, unknown: 0, errors: 0 };

  const gif = (res: http.ServerResponse): void => {
    res.writeHead(200, GIF_HEADERS as string[]);
    res.end(PIXEL_GIF);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = req.url ?? '';
    if (!url.startsWith(PIXEL_PREFIX)) {
      res.writeHead(404, NOT_FOUND_HEADERS as string[]).end();
      return;
    }
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, NOT_ALLOWED_HEADERS as string[]).end();
      return;
    }
    if (method === 'HEAD') {
      // Link checkers and scanners HEAD URLs; only a real load counts as an open.
      res.writeHead(200, GIF_HEADERS as string[]).end();
      return;
    }
    // Some clients or proxies append a query (cache busters); the token is the path alone.
    const q = url.indexOf('?');
    const end = q < 0 ? url.length : q;
    const tokenEnd = url.endsWith(PIXEL_SUFFIX, end) ? end - PIXEL_SUFFIX.length : end;
    const messageId = keys.verify(url.slice(PIXEL_PREFIX.length, tokenEnd));
    if (messageId === null) {
      counters.forged++;
      gif(res);
      return;
    }
    const h = readHeaders(req.rawHeaders);
    const ua = h.userAgent;
    const open: OpenInput = {
      messageId,
      at: now(),
      ipAddress: clientIp(req.socket.remoteAddress, h.xff, h.forwarded),
      userAgent: ua === undefined ? '' : ua.length > MAX_USER_AGENT_CHARS ? ua.slice(0, MAX_USER_AGENT_CHARS) : ua,
    };
    recorder.record(open, (err, seq) => {
      if (err) {
        counters.errors++;
        res.writeHead(503, UNAVAILABLE_HEADERS as string[]).end();
        return;
      }
      if (seq === null) counters.unknown++;
      else counters.opens++;
      gif(res);
    });
  };

  const server = http.createServer({ requestTimeout: 15_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
    try {
      handle(req, res);
    } catch {
      // Nothing here should throw; if it does, the client gets a bare error, never a crash.
      counters.errors++;
      if (!res.headersSent) res.writeHead(500, NOT_FOUND_HEADERS as string[]);
      res.end();
    }
  });
  // Malformed requests: answer 400 and drop the socket, without detail.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    server,
    metrics: () => {
      const s = recorder.stats();
      return { ...counters, batches: s.batches, largestBatch: s.largestBatch };
    },
    async close() {
      const closed = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      });
      await recorder.drain();
      server.closeIdleConnections();
      // Every queued open has its answer; a client still holding a socket is not waited for.
      const force = setTimeout(() => server.closeAllConnections(), 1000);
      await closed;
      clearTimeout(force);
    },
  };
}
