/** Unsent edits across visits: which tab takes over the edits a closed tab left, and the unload warning. */
import type { PendingEdit } from "./doc.ts";
import type { UnsentStore } from "./unsent_store.ts";

/** The part of the Web Locks API this module uses (`navigator.locks`). */
export interface Locks {
  request(
    name: string,
    options: { ifAvailable: boolean },
    callback: (lock: unknown) => Promise<void> | undefined,
  ): Promise<unknown>;
}

/** What a page takes over: the client id to say hello with, and that client's unsent edits. */
export interface Claimed {
  client: string;
  edits: PendingEdit[];
}

/** Options for {@link claimUnsent}. */
export interface ClaimOptions {
  store: Pick<UnsentStore, "load">;
  map: string;
  /** This tab's own client id. */
  tabClient: string;
  /** `navigator.locks`; absent outside secure contexts. */
  locks?: Locks;
}

/** Takes a lock when it is free and holds it for the life of the page; resolves whether it did. */
function hold(locks: Locks, name: string): Promise<boolean> {
  return new Promise((resolve) => {
    locks.request(name, { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      return lock === null ? undefined : new Promise<void>(() => {});
    }).catch(() => resolve(false));
  });
}

/** The Web Lock a page holds while it speaks for a client id. */
export function clientLockName(client: string): string {
  return `duplexmap.client.${client}`;
}

/**
 * Decides which unsent edits of a map this page sends: those a tab that is gone left behind, under
 * that tab's client id, so the relay (which remembers `client` + edit id) recognises an edit it
 * applied before the tab lost the ack, and applies each exactly once. A page holds a Web Lock named
 * after the client id it uses for as long as it lives; edits whose client's lock is held belong to
 * an open tab and are left alone. This tab's own leftovers (a reload) come first. Without Web Locks
 * (a page that is not a secure context) only this tab's own leftovers are taken.
 *
 * @example
 * ```ts ignore
 * const claimed = await claimUnsent({ store, map, tabClient, locks: navigator.locks });
 * // hello with claimed.client; after welcome: session.restore(claimed.edits)
 * ```
 */
export async function claimUnsent(options: ClaimOptions): Promise<Claimed> {
  const groups = await options.store.load(options.map);
  const own = groups.filter((g) => g.client === options.tabClient);
  const others = groups.filter((g) => g.client !== options.tabClient);
  const locks = options.locks;
  if (!locks) return { client: options.tabClient, edits: own[0]?.edits ?? [] };
  for (const group of [...own, ...others]) {
    if (await hold(locks, clientLockName(group.client))) return group;
  }
  // A duplicated tab shares its client id with the original: it cannot hold the lock, and then
  // simply has nothing to take over.
  await hold(locks, clientLockName(options.tabClient));
  return { client: options.tabClient, edits: [] };
}

/**
 * Asks the browser to warn before the page is closed or left while `unsent()` is above zero, and
 * only then (a page with nothing unsent closes without a question). Returns the cleanup.
 */
export function warnBeforeUnload(target: EventTarget, unsent: () => number): () => void {
  const listener = (event: Event) => {
    if (unsent() === 0) return;
    event.preventDefault();
    // Older browsers show the dialog only when returnValue is set.
    (event as BeforeUnloadEvent).returnValue = "";
  };
  target.addEventListener("beforeunload", listener);
  return () => target.removeEventListener("beforeunload", listener);
}

/** The notice after the edits of an earlier visit went through. */
export function restoredNotice(sent: number): string {
  return sent === 1
    ? "1 unsent change from your last visit was sent."
    : `${sent} unsent changes from your last visit were sent.`;
}
