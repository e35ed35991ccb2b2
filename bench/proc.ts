/** Reads a process's CPU time and memory from /proc (Linux), and samples them during a run. */

/** One reading of a process. */
export interface ProcReading {
  /** user + system CPU seconds since the process started. */
  cpuSeconds: number;
  /** Resident set size in bytes. */
  rssBytes: number;
  /** `performance.now()` when read. */
  at: number;
}

// Clock ticks per second for /proc/<pid>/stat; 100 on every Linux this runs on (`getconf CLK_TCK`).
const CLK_TCK = 100;

/** Which process to read: a pid, this process, or the whole machine (busy CPU of all cores). */
export type ProcTarget = number | "self" | "system";

/** Reads `/proc/<pid>/stat` and `/proc/<pid>/status`; `"self"` reads this process. */
export function readProc(pid: ProcTarget): ProcReading {
  if (pid === "system") {
    // First line of /proc/stat: user nice system idle iowait irq softirq steal ... in ticks.
    const cpu = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
      .map(Number);
    const busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0);
    return { cpuSeconds: busy / CLK_TCK, rssBytes: 0, at: performance.now() };
  }
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name may hold spaces and parentheses; fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  return { cpuSeconds, rssBytes: rss ? Number(rss[1]) * 1024 : 0, at: performance.now() };
}

/** Summary of a sampling window. */
export interface ProcSummary {
  /** CPU seconds used in the window. */
  cpuSeconds: number;
  /** Mean CPU use in the window, 1 = one full core. */
  cpuCores: number;
  /** Largest RSS seen. */
  peakRssBytes: number;
  /** RSS at the end. */
  endRssBytes: number;
}

/** Samples a process every `intervalMs` to catch its peak RSS; `stop()` summarises the window. */
export class ProcSampler {
  #pid: ProcTarget;
  #first: ProcReading;
  #last: ProcReading;
  #peak: number;
  #timer: ReturnType<typeof setInterval>;

  constructor(pid: ProcTarget, intervalMs = 250) {
    this.#pid = pid;
    this.#first = this.#last = readProc(pid);
    this.#peak = this.#first.rssBytes;
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  /** The latest reading (taken now). */
  now(): ProcReading {
    this.#sample();
    return this.#last;
  }

  /** Stops sampling and summarises from construction to now. */
  stop(): ProcSummary {
    this.#sample();
    clearInterval(this.#timer);
    const cpuSeconds = this.#last.cpuSeconds - this.#first.cpuSeconds;
    const seconds = Math.max(1e-3, (this.#last.at - this.#first.at) / 1000);
    return {
      cpuSeconds,
      cpuCores: cpuSeconds / seconds,
      peakRssBytes: this.#peak,
      endRssBytes: this.#last.rssBytes,
    };
  }

  #sample(): void {
    try {
      this.#last = readProc(this.#pid);
      if (this.#last.rssBytes > this.#peak) this.#peak = this.#last.rssBytes;
    } catch {
      // The process exited; keep the last reading.
    }
  }
}

/** Pids whose parent is `parent` (`/proc/<pid>/stat`), only those named `comm` when given. */
export function childPids(parent: number, comm?: string): number[] {
  const found: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent && (comm === undefined || name === comm)) found.push(Number(e.name));
    } catch {
      // Exited while listing.
    }
  }
  return found;
}
