/**
 * BullMQ executor (coordinator side). Each trial is a job `<runKey>-<trialId>` on the queue; workers
 * (`tsnas worker`) run it and stream intermediate values as job progress. Results stay in Redis
 * (completed jobs are kept) until the coordinator has recorded them (`ack` removes the job), so a
 * coordinator killed and restarted collects what finished while it was down. Stop requests are Redis
 * keys the worker polls. A job whose worker died is re-run by BullMQ's stalled-job recovery; a job
 * lost with Redis' data is resubmitted.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { brokenOutcome, type Executor, type ExecutorListener, type TrialEvent, type TrialJob, type TrialOutcome } from './types.js';
import { checkRedis, connectRedis, parseRedisUrl, watchRedis, type RedisUnavailable } from './redis.js';

export interface BullmqOptions {
  url: string;
  /** Queue name shared with the workers (default "tsnas"). */
  queue?: string;
  /** Trials in flight (default 4). */
  slots?: number;
  /** Unique per experiment and store (kept in the store, so it survives a restart). */
  runKey: string;
  /** How often job states are checked besides the event stream (default 1000 ms). */
  pollMs?: number;
  /** Give up with a one-line error when Redis is unreachable this long (default 30 s). */
  redisTimeoutS?: number;
}

export const stopKey = (queue: string, jobId: string) => `tsnas:${queue}:stop:${jobId}`;
export const PROGRESS_TYPES = new Set(['intermediate', 'params', 'attrs']);

export class BullmqExecutor implements Executor {
  readonly kind = 'bullmq' as const;
  readonly slots: number;
  readonly queueName: string;
  private queue: Queue | null = null;
  private events: QueueEvents | null = null;
  private redis: Redis | null = null;
  private listener: ExecutorListener | null = null;
  private readonly tracked = new Map<number, TrialJob>();
  private readonly collecting = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;
  /** Jobs found missing (Redis lost its data) and added again. */
  resubmitted = 0;
  lost: RedisUnavailable | null = null;
  private rejectLost: (e: Error) => void = () => {};
  /** Rejects when Redis is given up on, so no call waits forever on a reconnecting client. */
  private readonly lostPromise = new Promise<never>((_, rej) => (this.rejectLost = rej));

  constructor(private readonly opts: BullmqOptions) {
    this.slots = opts.slots ?? 4;
    this.queueName = opts.queue ?? 'tsnas';
  }

  jobId(trialId: number): string {
    return `${this.opts.runKey}-${trialId}`;
  }

  private trialOf(jobId: string): number | null {
    const prefix = `${this.opts.runKey}-`;
    if (!jobId.startsWith(prefix)) return null;
    const id = Number(jobId.slice(prefix.length));
    return this.tracked.has(id) ? id : null;
  }

  async start(listener: ExecutorListener): Promise<void> {
    this.listener = listener;
    if (this.queue) return;
    await checkRedis(this.opts.url);
    const connection = { ...parseRedisUrl(this.opts.url), maxRetriesPerRequest: null };
    this.queue = new Queue(this.queueName, { connection });
    this.queue.on('error', () => {});
    this.events = new QueueEvents(this.queueName, { connection });
    this.events.on('error', () => {});
    this.redis = connectRedis(this.opts.url);
    this.unwatch = watchRedis(this.redis, this.opts.url, this.opts.redisTimeoutS ?? 30, (e) => {
      this.lost = e;
      this.rejectLost(e);
      this.listener?.fatal?.(e);
    });
    this.events.on('progress', ({ jobId, data }) => {
      const id = this.trialOf(jobId);
      const e = data as unknown as TrialEvent;
      if (id !== null && e && typeof e === 'object' && PROGRESS_TYPES.has(e.type)) this.listener?.event(id, e);
    });
    const collect = ({ jobId }: { jobId: string }) => {
      const id = this.trialOf(jobId);
      if (id !== null) void this.collect(id);
    };
    this.events.on('completed', collect);
    this.events.on('failed', collect);
    await this.events.waitUntilReady();
    this.timer = setInterval(() => void this.reconcile(), this.opts.pollMs ?? 1000);
  }

  async submit(job: TrialJob): Promise<void> {
    this.tracked.set(job.trialId, job);
    await this.add(job);
  }

  private async add(job: TrialJob): Promise<void> {
    this.lostPromise.catch(() => {});
    const added = this.queue!.add('trial', job, {
      jobId: this.jobId(job.trialId),
      attempts: 1,
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    await Promise.race([added, this.lostPromise]);
  }

  /** Reads a finished job and hands its outcome to the coordinator (at most once per job here). */
  private async collect(trialId: number): Promise<void> {
    if (this.collecting.has(trialId) || !this.tracked.has(trialId)) return;
    this.collecting.add(trialId);
    try {
      const job = (await this.queue!.getJob(this.jobId(trialId))) as Job | undefined;
      if (!job) return;
      const state = await job.getState();
      if (state === 'completed') {
        this.end(trialId, job.returnvalue as TrialOutcome);
      } else if (state === 'failed') {
        this.fail(trialId, `worker job failed: ${job.failedReason}`);
      }
    } catch {
      /* Redis hiccup: the next reconcile tries again */
    } finally {
      this.collecting.delete(trialId);
    }
  }

  private end(trialId: number, outcome: TrialOutcome): void {
    if (!this.tracked.delete(trialId)) return;
    this.listener?.end(trialId, outcome);
  }

  private fail(trialId: number, error: string): void {
    this.end(trialId, brokenOutcome('FAILED', error));
  }

  /** Safety net beside the event stream: finished jobs are collected, lost jobs added again. */
  private async reconcile(): Promise<void> {
    if (!this.queue || this.redis?.status !== 'ready') return;
    for (const [id, job] of [...this.tracked]) {
      try {
        const j = await this.queue.getJob(this.jobId(id));
        if (!j) {
          if (!this.tracked.has(id)) continue;
          this.resubmitted++;
          await this.add(job);
        } else {
          const state = await j.getState();
          if (state === 'completed' || state === 'failed') await this.collect(id);
        }
      } catch {
        return;
      }
    }
  }

  async recover(jobs: TrialJob[]): Promise<void> {
    for (const j of jobs) this.tracked.set(j.trialId, j);
    await this.reconcile();
  }

  async ack(trialId: number): Promise<void> {
    const id = this.jobId(trialId);
    try {
      await this.queue?.remove(id);
      await this.redis?.del(stopKey(this.queueName, id));
    } catch {
      /* removed by age later */
    }
  }

  stop(trialId: number): void {
    if (!this.tracked.has(trialId)) return;
    void this.redis?.set(stopKey(this.queueName, this.jobId(trialId)), '1', 'EX', 24 * 3600).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unwatch?.();
    // With Redis gone a graceful close would wait for it: give it a moment, then drop the sockets.
    const soon = (p: Promise<unknown> | undefined) => Promise.race([p?.catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
    await soon(this.events?.close());
    await soon(this.queue?.close());
    if (this.lost) {
      await soon(this.events?.disconnect());
      await soon(this.queue?.disconnect());
    }
    this.redis?.disconnect();
    this.queue = null;
  }
}
