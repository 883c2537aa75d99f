// Event polling over the client (plan 5C "async event polling"): a cursor-based subscription to the
// telemetry ring with `for await` iteration or callbacks, backpressure, gap reports, and resumption
// after a reconnect from the last cursor (no event lost to the reconnect, none delivered twice).
import { isWin11MonError } from '../abi/errors.js';
import type { MonitorEvent } from '../driver/telemetry/index.js';
import type { Win11MonClient } from './client.js';

/** Events the ring overwrote (or dropped) before this subscriber read them: sequences [from, from + missed). */
export interface EventGap { from: number; missed: number }
/** What a subscription delivers, in ring order. `reset`: the service came back with a new ring (sequences restarted at 1). */
export type SubscriptionItem =
  | { type: 'event'; event: MonitorEvent }
  | { type: 'gap'; gap: EventGap }
  | { type: 'reset'; previousCursor: number };

/** Options of subscribeEvents. */
export interface SubscribeOptions {
  /** First sequence to read (default 1: the oldest event the ring still holds). */
  from?: number;
  /** Poll interval when the ring has nothing new (default 200 ms). */
  intervalMs?: number;
  /** Ends the subscription (the iterator finishes; callbacks stop). */
  signal?: AbortSignal;
  /** Most events fetched per poll; also the bound of the internal queue (default 256). */
  maxBatch?: number;
  /** Callback mode: called for every event, in order; a returned promise is awaited before the next (backpressure). */
  onEvent?: (event: MonitorEvent) => void | Promise<void>;
  /** Called for every gap the ring reports. */
  onGap?: (gap: EventGap) => void | Promise<void>;
  /** Called when the subscription reconnects (after WIN11MON_ERR_NOT_CONNECTED), with the attempt count. */
  onReconnect?: (attempts: number) => void;
  /** Backoff between reconnect attempts: starts at initialMs (default 50), doubles up to maxMs (default 2000). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Give up after this many failed reconnect attempts in a row (default Infinity); the iterator then throws. */
  maxReconnectAttempts?: number;
}

/** A running subscription. */
export interface EventSubscription extends AsyncIterable<SubscriptionItem> {
  /** The next sequence the subscription will read. */
  readonly cursor: number;
  /** Stops polling and closes the client the subscription opened (never the one it was given). */
  close(): Promise<void>;
  /** Callback mode: resolves when the subscription ends (signal, close), rejects on a fatal error. */
  readonly done: Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); resolve(); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Subscribes to the service's events. `source` is a client, or a factory that opens one: with a
 * factory the subscription survives the service going away (WIN11MON_ERR_NOT_CONNECTED): it closes
 * the dead client, reconnects with backoff and continues from its cursor.
 *
 * Backpressure: the iterator polls only when its queue (at most `maxBatch` items) is empty, so it
 * never fetches faster than it is consumed; callbacks are awaited one by one.
 *
 * @example
 * const ac = new AbortController();
 * const sub = subscribeEvents(async () => new Win11MonClient(await socketTransport(dir)), { signal: ac.signal });
 * for await (const item of sub) {
 *   if (item.type === 'gap') console.warn(`${item.gap.missed} events missed`);
 *   else if (item.type === 'event') console.log(item.event.seq, item.event.type);
 * }
 *
 * @example
 * subscribeEvents(client, { onEvent: (e) => console.log(e.type), onGap: (g) => console.warn(g.missed) });
 */
export function subscribeEvents(source: Win11MonClient | (() => Promise<Win11MonClient>), opts: SubscribeOptions = {}): EventSubscription {
  const factory = typeof source === 'function' ? source : null;
  let client: Win11MonClient | null = typeof source === 'function' ? null : source;
  const intervalMs = opts.intervalMs ?? 200;
  const maxBatch = Math.max(1, opts.maxBatch ?? 256);
  const maxBytes = 48 + maxBatch * 256; // a ring record is at most 256 bytes
  const initialBackoff = opts.backoff?.initialMs ?? 50;
  const maxBackoff = opts.backoff?.maxMs ?? 2000;
  const maxAttempts = opts.maxReconnectAttempts ?? Infinity;
  const internal = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, internal.signal]) : internal.signal;
  let cursor = Math.max(1, Math.floor(opts.from ?? 1));
  let connectedBefore = client !== null;
  let reconnected = false;
  const queue: SubscriptionItem[] = [];

  const connect = async (): Promise<boolean> => {
    let attempts = 0;
    let wait = initialBackoff;
    for (;;) {
      if (signal.aborted) return false;
      try {
        client = await factory!();
        if (attempts > 0 || reconnected) opts.onReconnect?.(attempts);
        return true;
      } catch (e) {
        if (!isWin11MonError(e) || (e.code !== 'WIN11MON_ERR_NOT_CONNECTED' && e.code !== 'WIN11MON_ERR_TIMEOUT')) throw e;
        attempts++;
        if (attempts >= maxAttempts) throw e;
        await sleep(wait, signal);
        wait = Math.min(maxBackoff, wait * 2);
      }
    }
  };

  /** One poll into `queue`. Returns false when the subscription ended; `more` tells the caller not to wait. */
  const poll = async (): Promise<{ alive: boolean; more: boolean }> => {
    for (;;) {
      if (signal.aborted) return { alive: false, more: false };
      if (!client) {
        if (!factory) return { alive: false, more: false };
        if (!(await connect())) return { alive: false, more: false };
        // Only a connection that replaces a lost one can meet a restarted service: on the first one
        // a cursor beyond the head is the caller's own --since, to wait at, not to reset.
        reconnected = connectedBefore;
        connectedBefore = true;
      }
      const c = client!;
      try {
        if (reconnected) {
          reconnected = false;
          // A restarted service process has a new ring whose sequences start at 1 again: a cursor
          // beyond what it ever wrote means "start over", not "wait" (the ring would return nothing).
          const rs = await c.ringStats();
          if (rs.totalEventsWritten + 1 < cursor && rs.totalEventsWritten < 0xffffffff) {
            queue.push({ type: 'reset', previousCursor: cursor });
            cursor = 1;
          }
        }
        const snap = await c.readEvents(cursor, maxBytes);
        if (snap.missed > 0) queue.push({ type: 'gap', gap: { from: cursor, missed: snap.missed } });
        for (const event of snap.events) queue.push({ type: 'event', event });
        cursor = snap.nextCursor;
        return { alive: true, more: snap.more };
      } catch (e) {
        if (factory && isWin11MonError(e) && e.code === 'WIN11MON_ERR_NOT_CONNECTED') {
          client = null;
          reconnected = true;
          await c.close().catch(() => undefined);
          if (queue.length > 0) return { alive: true, more: true };
          continue;
        }
        throw e;
      }
    }
  };

  let ended = false;
  const finish = async (): Promise<void> => {
    ended = true;
    internal.abort();
    if (factory && client) { const c = client; client = null; await c.close().catch(() => undefined); }
  };

  async function* iterate(): AsyncGenerator<SubscriptionItem> {
    try {
      let wait = false;
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (ended || signal.aborted) return;
        if (wait) await sleep(intervalMs, signal);
        const r = await poll();
        if (!r.alive && queue.length === 0) return;
        wait = !r.more && queue.length === 0;
      }
    } finally {
      await finish();
    }
  }

  const callbackMode = opts.onEvent !== undefined || opts.onGap !== undefined;
  let iterator: AsyncGenerator<SubscriptionItem> | null = null;
  const done: Promise<void> = callbackMode
    ? (async () => {
        iterator = iterate();
        for await (const item of iterator) {
          if (item.type === 'event') await opts.onEvent?.(item.event);
          else if (item.type === 'gap') await opts.onGap?.(item.gap);
        }
      })()
    : Promise.resolve();
  done.catch(() => undefined); // observed through `done` by callers that care

  return {
    get cursor() { return cursor; },
    [Symbol.asyncIterator]() {
      if (callbackMode) throw new TypeError('subscribeEvents: iterate or pass onEvent/onGap, not both');
      if (iterator) throw new TypeError('subscribeEvents: a subscription can be iterated once');
      iterator = iterate();
      return iterator;
    },
    async close() {
      internal.abort();
      if (iterator && !callbackMode) await iterator.return(undefined);
      await done.catch(() => undefined);
      await finish();
    },
    done,
  };
}
