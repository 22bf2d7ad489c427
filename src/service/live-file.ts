/**
 * A settings file read again whenever it changes on disk: an edit by another process (the `rpcservice keys` and
 * `console` commands) takes effect for the next call, without a restart or a signal. While the folder is watched,
 * the watch says when to re-read and a use stats the file at most once a second (in case an event was missed);
 * unwatched, every use stats it. A stat is several µs, and authenticated calls ask at every call.
 */
import { statSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";

/** With the folder watched, how stale a value may get if the watch missed an event. */
const WATCHED_RECHECK_MS = 1_000;

export class LiveFile<T> {
  private signature = "";
  private value: T;
  private readonly listeners: Array<(previous: T, next: T) => void> = [];
  private watcher: FSWatcher | undefined;
  /** When the file was last stat'ed (ms, monotonic enough for a throttle). */
  private checkedAt = 0;

  /**
   * `parse` reads the file (null when it does not exist is the parser's business); when it throws, the last good
   * value stays and `onError` hears why (a half-edited file must not lock everyone out or let everyone in).
   */
  constructor(
    readonly path: string,
    private readonly parse: (path: string) => T,
    initial: T,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    this.value = initial;
    this.current();
  }

  /** The value, re-read first if the file changed. */
  current(): T {
    if (this.watcher === undefined || Date.now() - this.checkedAt >= WATCHED_RECHECK_MS) this.refresh();
    return this.value;
  }

  /** Hears every change, whoever noticed it first (a call, or the directory watch). */
  onChange(listener: (previous: T, next: T) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Also re-reads when the file changes with no call coming (a revoked client that only listens must lose its
   * connection too). The watch is on the folder: the commands replace the file by a rename.
   */
  watch(): void {
    if (this.watcher) return;
    try {
      const name = basename(this.path);
      this.watcher = watch(dirname(this.path), { persistent: false }, (_type, file) => {
        if (file === null || file.toString() === name) this.refresh();
      });
      this.watcher.on("error", () => this.unwatch());
    } catch {
      // No folder yet, or no inotify: changes are still seen at the next call.
    }
  }

  unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Re-reads if the file changed; true when it did. */
  refresh(): boolean {
    this.checkedAt = Date.now();
    const stat = statSync(this.path, { throwIfNoEntry: false, bigint: true });
    const signature = stat ? `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}` : "missing";
    if (signature === this.signature) return false;
    this.signature = signature; // a broken file is reported once per change, not at every call
    let next: T;
    try {
      next = this.parse(this.path);
    } catch (error) {
      this.onError((error as Error).message);
      return false;
    }
    const previous = this.value;
    this.value = next;
    for (const listener of this.listeners) listener(previous, next);
    return true;
  }
}
