/**
 * An S3-compatible bucket (AWS S3, R2, MinIO, ...), path-style addressing
 * (endpoint/bucket/key), every request signed with SigV4. Four calls:
 * PutObject, ListObjectsV2, GetObject, DeleteObject.
 */
import type { BackupTargetSpec } from "../config.ts";
import type { Deps } from "../deps.ts";
import { sha256Hex, signRequest, uriEncode } from "./sigv4.ts";
import {
  backupNames,
  type BackupTarget,
  namesToRemove,
  type TargetOptions,
  withoutSecrets,
  type WriteResult,
} from "./target.ts";

type S3Spec = Extract<BackupTargetSpec, { kind: "s3" }>;

/** ListObjectsV2 pages of 1000 keys: more than this many pages is not a Kleis bucket prefix. */
const MAX_LIST_PAGES = 50;

function xmlText(xml: string, tag: string): string[] {
  const out: string[] = [];
  const pattern = new RegExp(`<${tag}>([^<]*)</${tag}>`, "g");
  for (const match of xml.matchAll(pattern)) {
    out.push(
      match[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'").replace(/&amp;/g, "&"),
    );
  }
  return out;
}

export class S3Target implements BackupTarget {
  readonly description: string;

  constructor(
    private readonly spec: S3Spec,
    private readonly deps: Pick<Deps, "fetch" | "now">,
    private readonly options: TargetOptions,
  ) {
    this.description = `s3://${spec.bucket}/${spec.prefix} at ${spec.endpoint}`;
  }

  private url(key: string, query: Record<string, string> = {}): URL {
    const path = key
      ? `/${this.spec.bucket}/${key.split("/").map(uriEncode).join("/")}`
      : `/${this.spec.bucket}`;
    const url = new URL(path, this.spec.endpoint);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url;
  }

  private async request(
    method: string,
    url: URL,
    body?: Uint8Array,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const signed = await signRequest({
      method,
      url,
      headers,
      payloadHash: await sha256Hex(body ?? new Uint8Array()),
      now: this.deps.now(),
      region: this.spec.region,
      service: "s3",
      accessKeyId: this.spec.accessKeyId,
      secretAccessKey: this.spec.secretAccessKey,
    });
    const res = await this.deps.fetch(url, {
      method,
      headers: signed,
      ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    const code = xmlText(text, "Code")[0] ?? res.statusText;
    const message = xmlText(text, "Message")[0] ?? "";
    throw new Error(
      withoutSecrets(
        `S3 ${method} answered ${res.status} ${code}${message ? `: ${message}` : ""}`,
        [this.spec.secretAccessKey],
      ),
    );
  }

  async write(name: string, data: Uint8Array, keep: number): Promise<WriteResult> {
    const res = await this.request("PUT", this.url(this.spec.prefix + name), data, {
      "content-type": "application/json",
    });
    await res.body?.cancel();
    const names = await this.list();
    const remove = namesToRemove(names, keep);
    for (const old of remove) {
      const gone = await this.request("DELETE", this.url(this.spec.prefix + old));
      await gone.body?.cancel();
    }
    return { kept: names.length - remove.length, removed: remove.length };
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const query: Record<string, string> = {
        "list-type": "2",
        prefix: `${this.spec.prefix}kleis-backup-`,
      };
      if (token) query["continuation-token"] = token;
      const xml = await (await this.request("GET", this.url("", query))).text();
      for (const key of xmlText(xml, "Key")) names.push(key.slice(this.spec.prefix.length));
      token = xmlText(xml, "NextContinuationToken")[0];
      if (xmlText(xml, "IsTruncated")[0] !== "true" || !token) return backupNames(names);
    }
    throw new Error(`S3 listing has more than ${MAX_LIST_PAGES} pages of backups.`);
  }

  async read(name: string): Promise<Uint8Array> {
    const res = await this.request("GET", this.url(this.spec.prefix + name));
    return new Uint8Array(await res.arrayBuffer());
  }
}
