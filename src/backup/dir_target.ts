/** A local directory (a mounted disk, a synced folder): files written atomically by rename. */
import type { BackupTarget, WriteResult } from "./target.ts";
import { backupNames, namesToRemove } from "./target.ts";

export class DirTarget implements BackupTarget {
  readonly description: string;

  constructor(private readonly path: string) {
    this.description = `dir:${path}`;
  }

  async write(name: string, data: Uint8Array, keep: number): Promise<WriteResult> {
    await Deno.mkdir(this.path, { recursive: true });
    // A reader (a restore, a sync tool) never sees a half-written file.
    const temporary = `${this.path}/.${name}.partial`;
    await Deno.writeFile(temporary, data, { mode: 0o600 });
    await Deno.rename(temporary, `${this.path}/${name}`);
    const remove = namesToRemove(await this.list(), keep);
    for (const old of remove) await Deno.remove(`${this.path}/${old}`);
    return { kept: (await this.list()).length, removed: remove.length };
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.path)) {
        if (entry.isFile) names.push(entry.name);
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    return backupNames(names);
  }

  async read(name: string): Promise<Uint8Array> {
    return await Deno.readFile(`${this.path}/${name}`);
  }
}
