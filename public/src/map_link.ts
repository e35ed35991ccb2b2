/** What the map page's address says: the map id, its key, and the one-shot `view=`/`share=1` parts. */

/** The parts of a map link (`/m/<id>#key=...[&view=...][&share=1]`). */
export interface MapLink {
  mapId: string;
  /** The key this page connects with; empty when the link has none. */
  key: string;
  /** The view-only key, when the start page handed it over (only the creator's browser has it). */
  view: string | null;
  /** Open the share dialog once welcomed (the start page's "just created" hand-over). */
  share: boolean;
}

/**
 * Reads a map link from its path and fragment.
 *
 * @example
 * ```ts
 * parseMapLink("/m/abc", "#key=k1&share=1"); // { mapId: "abc", key: "k1", view: null, share: true }
 * ```
 */
export function parseMapLink(pathname: string, hash: string): MapLink {
  const params = new URLSearchParams(hash.slice(1));
  return {
    mapId: decodeURIComponent(pathname.split("/").filter(Boolean)[1] ?? ""),
    key: params.get("key") ?? "",
    view: params.get("view"),
    share: params.get("share") === "1",
  };
}

/** Where this browser keeps a map's view-only key. */
export function viewKeyName(mapId: string): string {
  return `duplexmap.viewKey.${mapId}`;
}

/**
 * Reads the page's link, keeps a handed-over view key in `storage`, and takes the one-shot parts
 * out of the address bar so a copied or reloaded address holds the key alone.
 */
export function takeMapLink(
  location: Location,
  history: History,
  storage: Storage,
): MapLink {
  const link = parseMapLink(location.pathname, location.hash);
  if (link.view) storage.setItem(viewKeyName(link.mapId), link.view);
  if (link.view || link.share) {
    history.replaceState(null, "", `${location.pathname}#key=${encodeURIComponent(link.key)}`);
  }
  return link;
}
