/** Unsent edits in IndexedDB, per map, so edits made offline survive a closed tab. */
import type { EditId, EditOp } from "../../relay/protocol.ts";
import type { PendingEdit } from "./doc.ts";
import { stringifyAnyDepth } from "./json_text.ts";
import type { EditJournal } from "./session.ts";

/** Unsent edits one client (one tab) left on one map, oldest first. */
export interface UnsentGroup {
  client: string;
  edits: PendingEdit[];
}

/** One stored edit. The ops are JSON text: structured clone gives up on deep values. */
export interface StoredEdit {
  map: string;
  id: EditId;
  client: string;
  order: number;
  ops: string;
  /** The edit's label (extension); records written before labels were kept have none. */
  label?: string;
}

/** The record that keeps one unsent edit of `client` on `map`. */
export function recordOfEdit(
  map: string,
  client: string,
  order: number,
  edit: PendingEdit,
): StoredEdit {
  const record: StoredEdit = { map, id: edit.id, client, order, ops: stringifyAnyDepth(edit.ops) };
  if (edit.label !== undefined) record.label = edit.label;
  return record;
}

/** The edit a record keeps, or null when its ops are not readable. */
export function editOfRecord(record: StoredEdit): PendingEdit | null {
  let ops: EditOp[];
  try {
    ops = JSON.parse(record.ops);
  } catch {
    return null;
  }
  return typeof record.label === "string"
    ? { id: record.id, ops, label: record.label }
    : { id: record.id, ops };
}

/** Options for {@link openUnsentStore}. */
export interface UnsentStoreOptions {
  /** @default globalThis.indexedDB */
  indexedDB?: IDBFactory;
  /** The database's name. @default "duplexmap-unsent" */
  name?: string;
  /** Orders the edits; must grow across visits. @default performance.timeOrigin + performance.now() */
  now?: () => number;
  /** A write failed (storage full, private mode): the edit is still sent, only not kept. */
  onError?: (error: unknown) => void;
}

/** The unsent edits of this browser, by map. */
export interface UnsentStore {
  /** A journal for one map and client, for {@link Session}'s `journal` option. */
  journal(map: string, client: string): EditJournal;
  /** The edits left on a map, by client, oldest group first. */
  load(map: string): Promise<UnsentGroup[]>;
  /** How many edits are kept for a map (for tests and the console). */
  count(map: string): Promise<number>;
}

const STORE = "edits";

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * Opens (creating on first use) the IndexedDB database of unsent edits. Each edit is one record
 * keyed by map and edit id, written as it is queued and deleted when the relay has it; writes go
 * in the order they are made (IndexedDB runs read-write transactions on one store in order).
 * Without IndexedDB the store keeps nothing and loads nothing.
 *
 * @example
 * ```ts ignore
 * const store = openUnsentStore();
 * const session = new Session({ ...options, journal: store.journal(mapId, clientId) });
 * const left = await store.load(mapId);
 * ```
 */
export function openUnsentStore(options: UnsentStoreOptions = {}): UnsentStore {
  const factory = options.indexedDB ?? globalThis.indexedDB;
  const now = options.now ?? (() => performance.timeOrigin + performance.now());
  const onError = options.onError ?? ((e) => console.warn("duplex: unsent edits not kept", e));
  const db: Promise<IDBDatabase | null> = factory
    ? new Promise((resolve) => {
      const open = factory.open(options.name ?? "duplexmap-unsent", 1);
      open.onupgradeneeded = () => {
        const store = open.result.createObjectStore(STORE, { keyPath: ["map", "id"] });
        store.createIndex("map", "map");
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => {
        onError(open.error);
        resolve(null);
      };
    })
    : Promise.resolve(null);
  // Writes chain on one promise so they are issued in the order they were made.
  let writes: Promise<unknown> = db;
  const write = (run: (store: IDBObjectStore) => void) => {
    writes = writes.then(() => db).then((d) => {
      if (!d) return;
      const tx = d.transaction(STORE, "readwrite");
      run(tx.objectStore(STORE));
      return new Promise<void>((resolve) => {
        tx.oncomplete = () => resolve();
        tx.onerror = tx.onabort = () => {
          onError(tx.error);
          resolve();
        };
      });
    }).catch(onError);
  };
  const records = async (map: string): Promise<StoredEdit[]> => {
    await writes;
    const d = await db;
    if (!d) return [];
    const index = d.transaction(STORE, "readonly").objectStore(STORE).index("map");
    const all: StoredEdit[] = await request(index.getAll(map));
    return all.sort((a, b) => a.order - b.order);
  };
  return {
    journal: (map, client) => ({
      add(edit) {
        const record = recordOfEdit(map, client, now(), edit);
        write((store) => store.put(record));
      },
      remove(id) {
        write((store) => store.delete([map, id]));
      },
    }),
    async load(map) {
      const groups = new Map<string, PendingEdit[]>();
      for (const r of await records(map)) {
        const edit = editOfRecord(r);
        if (edit === null) continue;
        const list = groups.get(r.client) ?? [];
        list.push(edit);
        groups.set(r.client, list);
      }
      return [...groups].map(([client, edits]) => ({ client, edits }));
    },
    async count(map) {
      return (await records(map)).length;
    },
  };
}
