/**
 * The allow-list of client keys as a running server sees it: `<home>/authorized_clients`, re-read whenever it
 * changes, so `rpcservice keys authorize/revoke` take effect for the next handshake and the next call, and a
 * revoked key's open connections can be closed at once.
 */
import type { ClientKeyDirectory } from "../rpc/index.js";
import { readAuthorizedClientEntries, type AuthorizedClient } from "./curve-keys.js";
import { LiveFile } from "./live-file.js";

export class ClientKeyFile implements ClientKeyDirectory {
  private readonly file: LiveFile<Map<string, AuthorizedClient> | null>;

  constructor(path: string, onError: (message: string) => void = () => undefined) {
    this.file = new LiveFile(path, (p) => byKey(readAuthorizedClientEntries(p)), null, onError);
  }

  get path(): string {
    return this.file.path;
  }

  /** False while the file does not exist (then no key may connect). */
  get exists(): boolean {
    return this.file.current() !== null;
  }

  get size(): number {
    return this.file.current()?.size ?? 0;
  }

  /** The key's name ("" for none), undefined when it is not (or no longer) allowed. */
  get(publicKey: string): string | undefined {
    return this.file.current()?.get(publicKey)?.name;
  }

  entry(publicKey: string): AuthorizedClient | undefined {
    return this.file.current()?.get(publicKey);
  }

  /** Hears the keys removed from the file, or whose role changed: their connections should close. */
  onRevoked(listener: (entries: AuthorizedClient[]) => void): void {
    this.file.onChange((previous, next) => {
      const gone = [...(previous?.values() ?? [])].filter((entry) => next?.get(entry.publicKey)?.role !== entry.role || !next?.has(entry.publicKey));
      if (gone.length > 0) listener(gone);
    });
  }

  watch(): void {
    this.file.watch();
  }

  close(): void {
    this.file.unwatch();
  }
}

function byKey(entries: AuthorizedClient[] | null): Map<string, AuthorizedClient> | null {
  return entries === null ? null : new Map(entries.map((entry) => [entry.publicKey, entry]));
}
