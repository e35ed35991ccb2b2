/** The client's files, embedded with import attributes so `deno run` and the binary serve the same bytes. */

/** One embedded file. */
export interface Asset {
  body: Uint8Array | string;
  contentType: string;
}

/** HTML of the start page (`/`) and the map page (`/m/<id>`). */
export const pages: { start: string; map: string } = {
  start: "<!doctype html><title>Duplex Map</title><p>Client not built yet.</p>",
  map: "<!doctype html><title>Duplex Map</title><p>Client not built yet.</p>",
};

/** Files served under `/assets/<name>`. */
export const assets: Record<string, Asset> = {};
