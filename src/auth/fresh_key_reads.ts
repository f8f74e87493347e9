/**
 * Fresh reads of API key records, shared between concurrent requests
 * without ever answering a request from a read older than the request.
 *
 * Revocation must take effect at once on every instance, so each request is
 * authorised from a KV read of its key's record. Under load many requests
 * of one key arrive while such a read is in flight; one read started
 * *after* all of them arrived serves them all equally well. So, per key id:
 * at most one read is in flight; a request arriving while none is starts
 * one; requests arriving while one is in flight wait for the next read,
 * which starts when the current one ends and serves all of them. A read
 * that started before a request arrived never answers that request, so a
 * revocation committed (anywhere) before the request arrived is always seen:
 * the guarantee of one read per request, at a fraction of the reads (one
 * KV read is most of an authenticated request's CPU). The price is at most
 * one extra read's wait for a request that arrives during a read.
 *
 * The requests served by one read share its record object: treat it as
 * immutable (admission is per request, not per record: keys/limits.ts).
 */
import type { ApiKeyRecord } from "../model/keys.ts";
import { keys } from "../kv/keys.ts";

type Read = Promise<ApiKeyRecord | null>;

interface KeyReads {
  /** The read in flight, if any. */
  current: Read | undefined;
  /** The read that starts when `current` ends, shared by everyone who asked since `current` began. */
  next: Read | undefined;
}

export class FreshKeyReads {
  /** Key id → its reads; an entry lives only while a read is in flight. */
  readonly #byId = new Map<string, KeyReads>();

  constructor(private readonly kv: Deno.Kv) {}

  /** The key's record as stored at some moment after this call (null when it does not exist). */
  read(id: string): Read {
    let reads = this.#byId.get(id);
    if (!reads) {
      reads = { current: undefined, next: undefined };
      this.#byId.set(id, reads);
      return this.#start(id, reads);
    }
    if (reads.next) return reads.next;
    const entry = reads;
    // Started once the current read has ended (whatever its outcome), so it
    // begins after every caller that joins it arrived.
    return reads.next = entry.current!.then(
      () => this.#start(id, entry),
      () => this.#start(id, entry),
    );
  }

  #start(id: string, reads: KeyReads): Read {
    reads.next = undefined;
    const read = this.kv.get<ApiKeyRecord>(keys.apiKey(id)).then((entry) => entry.value);
    reads.current = read;
    const settle = () => {
      if (reads.current === read && reads.next === undefined) this.#byId.delete(id);
    };
    read.then(settle, settle);
    return read;
  }
}
