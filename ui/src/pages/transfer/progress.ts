// Transfer progress: bytes per file and overall, speed over a sliding window (a part that
// finishes in one burst must not make the speed jump), and the time left at that speed.

export type FileProgress = { total: number; done: number };

/** Speed over the last `windowMs` of samples (bytes done, at a time), in bytes a second. */
export class SpeedMeter {
  private samples: Array<{ at: number; bytes: number }> = [];
  constructor(private readonly windowMs = 5000) {}

  /** Record that `bytes` were done in all at time `at` (ms, e.g. performance.now()). */
  sample(bytes: number, at: number): void {
    this.samples.push({ at, bytes });
    const oldest = at - this.windowMs;
    // Keep one sample at or before the window's start, so the window is always covered.
    while (this.samples.length > 2 && this.samples[1].at <= oldest) this.samples.shift();
  }

  /** Bytes a second, or null until there are two samples some time apart. */
  speed(): number | null {
    if (this.samples.length < 2) return null;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    if (seconds < 0.25) return null;
    return Math.max(0, (last.bytes - first.bytes) / seconds);
  }

  reset(): void {
    this.samples = [];
  }
}

/** Seconds left for `remaining` bytes at `speed` bytes a second (null when unknown). */
export function secondsLeft(remaining: number, speed: number | null): number | null {
  if (remaining <= 0) return 0;
  if (speed === null || speed <= 0) return null;
  return remaining / speed;
}

/** Done and total bytes over all files. */
export function overall(files: Iterable<FileProgress>): FileProgress {
  let total = 0;
  let done = 0;
  for (const f of files) {
    total += f.total;
    done += Math.min(f.done, f.total);
  }
  return { total, done };
}

/** Percent done, 0-100 (an empty transfer is done). */
export function percent(p: FileProgress): number {
  if (p.total <= 0) return 100;
  return Math.min(100, (100 * p.done) / p.total);
}

/** "12.5 MB/s" */
export function formatSpeed(bytesPerSecond: number | null, formatBytes: (n: number) => string): string {
  return bytesPerSecond === null ? "—" : `${formatBytes(bytesPerSecond)}/s`;
}
