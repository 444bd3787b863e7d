/**
 * Where trials put artifacts (weights for inheritance or export) so that a trial on one machine can
 * read what another wrote: a shared directory, or Redis for small ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Trial } from '../core/trial.js';

export interface ArtifactStore {
  put(key: string, data: Uint8Array): Promise<void>;
  get(key: string): Promise<Buffer | null>;
  has(key: string): Promise<boolean>;
}

function checkKey(key: string): string {
  if (!/^[A-Za-z0-9._/-]+$/.test(key) || key.split('/').some((p) => p === '..' || p === '')) {
    throw new Error(`artifact key "${key}": use letters, digits, . _ - and / between non-empty parts`);
  }
  return key;
}

export class DirArtifactStore implements ArtifactStore {
  constructor(readonly dir: string) {}
  private file(key: string): string {
    return path.join(this.dir, checkKey(key));
  }
  async put(key: string, data: Uint8Array): Promise<void> {
    const f = this.file(key);
    await fs.promises.mkdir(path.dirname(f), { recursive: true });
    const tmp = `${f}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, data);
    await fs.promises.rename(tmp, f); // atomic: readers never see half a file
  }
  async get(key: string): Promise<Buffer | null> {
    try {
      return await fs.promises.readFile(this.file(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }
  async has(key: string): Promise<boolean> {
    return fs.existsSync(this.file(key));
  }
}

export class RedisArtifactStore implements ArtifactStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'tsnas:artifact:',
    readonly maxBytes = 8 * 1024 * 1024,
  ) {}
  async put(key: string, data: Uint8Array): Promise<void> {
    if (data.byteLength > this.maxBytes) {
      throw new Error(`artifact ${key}: ${data.byteLength} bytes is over the Redis artifact limit of ${this.maxBytes}; use --artifacts DIR`);
    }
    await this.redis.set(this.prefix + checkKey(key), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
  async get(key: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.prefix + checkKey(key));
  }
  async has(key: string): Promise<boolean> {
    return (await this.redis.exists(this.prefix + checkKey(key))) === 1;
  }
}

/** `DIR` or `redis://host:port` (small artifacts only) -> a store. */
export function openArtifactStore(where: string): ArtifactStore {
  if (/^rediss?:\/\//.test(where)) return new RedisArtifactStore(new Redis(where, { lazyConnect: true, maxRetriesPerRequest: 3 }));
  return new DirArtifactStore(path.resolve(where));
}

const byTrial = new WeakMap<Trial, ArtifactStore>();
let processDefault: ArtifactStore | null | undefined;

/** The artifact store of the process running `trial`: set by its executor, else env TSNAS_ARTIFACTS, else null. */
export function trialArtifacts(trial: Trial): ArtifactStore | null {
  const own = byTrial.get(trial);
  if (own) return own;
  if (processDefault === undefined) processDefault = process.env.TSNAS_ARTIFACTS ? openArtifactStore(process.env.TSNAS_ARTIFACTS) : null;
  return processDefault;
}

export function setTrialArtifacts(trial: Trial, store: ArtifactStore | null): void {
  if (store) byTrial.set(trial, store);
}
