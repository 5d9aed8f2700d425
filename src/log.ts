// A minimal structured logger: one JSON line per event on stderr. Callers never pass
// secrets (keys, passwords, signing secrets, pixel tokens) in fields; the pixel handler
// does not log per request (it would cost more CPU than the request itself).
export type Log = (msg: string, fields?: Record<string, unknown>) => void;

export function createLogger(stream: NodeJS.WritableStream = process.stderr, level: 'info' | 'silent' = 'info'): Log {
  if (level === 'silent') return () => {};
  return (msg, fields) => {
    stream.write(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }) + '\n');
  };
}

export const silentLog: Log = () => {};
