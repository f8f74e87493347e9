/**
 * Opens Deno KV for Kleis.
 *
 * With a local SQLite file shared by two handles (two processes, or two app
 * instances in one test), a commit whose transaction reads first (any
 * atomic `check`) fails at once with "database is locked" instead of
 * waiting: SQLite does not wait when a reading transaction must become a
 * writing one while another connection writes. Nothing was written then, so
 * such writes are retried here, for a bounded time with a short jittered
 * backoff, and every caller sees ordinary KV behaviour. Memory and
 * remote (KV Connect, Deno Deploy) databases are returned as they are.
 */

/**
 * How long a refused write keeps being retried. A budget in time, not in
 * attempts: on a loaded machine the other handle can hold the lock for
 * longer than a fixed number of quick retries covers.
 */
const RETRY_BUDGET_MS = 10_000;
const RETRIED_METHODS = new Set<PropertyKey>(["set", "delete", "enqueue"]);

export async function openKv(path?: string): Promise<Deno.Kv> {
  const kv = await Deno.openKv(path);
  const localFile = path !== undefined && path !== ":memory:" && !/^https?:/.test(path);
  return localFile ? retryWhenLocked(kv) : kv;
}

export function isLockedError(error: unknown): boolean {
  return error instanceof Error && /database is locked/i.test(error.message);
}

async function withRetry<T>(attempt: (n: number) => Promise<T>): Promise<T> {
  const deadline = performance.now() + RETRY_BUDGET_MS;
  for (let n = 0;; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!isLockedError(error) || performance.now() >= deadline) throw error;
      const ceiling = Math.min(2 ** n, 40);
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * ceiling));
    }
  }
}

/** A KV handle whose writes (set, delete, enqueue, atomic commits) retry "database is locked". */
export function retryWhenLocked(kv: Deno.Kv): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => retryingAtomic(target);
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (RETRIED_METHODS.has(prop)) {
        return (...args: unknown[]) => withRetry(() => value.apply(target, args));
      }
      return value.bind(target);
    },
  });
}

type AtomicCall = [method: PropertyKey, args: unknown[]];

/**
 * An atomic operation that remembers how it was built, so a commit refused
 * with "database is locked" can be rebuilt on a fresh operation and retried.
 */
function retryingAtomic(kv: Deno.Kv): Deno.AtomicOperation {
  const calls: AtomicCall[] = [];
  const first = kv.atomic();
  const replay = () => {
    const op = kv.atomic() as unknown as Record<PropertyKey, (...args: unknown[]) => unknown>;
    for (const [method, args] of calls) op[method]!(...args);
    return op as unknown as Deno.AtomicOperation;
  };
  const proxy: Deno.AtomicOperation = new Proxy(first, {
    get(target, prop) {
      if (prop === "commit") {
        return () => withRetry((n) => (n === 0 ? target : replay()).commit());
      }
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push([prop, args]);
        value.apply(target, args);
        return proxy;
      };
    },
  });
  return proxy;
}
