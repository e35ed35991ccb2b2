/** Entry of `/assets/map.js` as a relay run with `--test-hooks` serves it: the page plus `window.duplex`. */
import type { DebugHandle } from "./debug.ts";
import { type MapPageParts, runMapPage } from "./map_page.ts";
import { clampBBox } from "./viewport.ts";

/** The handle over a started page's parts. */
function debugHandle(parts: MapPageParts): DebugHandle {
  const { map, session, unsentStore, mapId, people, features } = parts;
  return {
    status: () => session.status,
    you: () => session.you,
    features: () => [...session.doc.features.values()],
    feature: (fid) => session.doc.features.get(fid) ?? null,
    featureCount: () => session.doc.features.size,
    pendingCount: () => session.doc.pending.length,
    storedUnsent: () => unsentStore.count(mapId),
    seq: () => session.doc.seq,
    editLog: () => [...session.editLog],
    peers: () => [...session.peers.values()],
    following: () => people.following,
    selected: () => features.selected,
    view: () => {
      const c = map.getCenter();
      return { center: [c.lng, c.lat], zoom: map.getZoom(), bbox: clampBBox(map.getBounds()) };
    },
    setView: ([lng, lat], zoom) => void map.setView([lat, lng], zoom, { animate: false }),
    sendEdit: (ops) => session.edit(ops),
    select: (fid) => features.select(fid),
    layerKind: (fid) => features.kind(fid),
    labels: () => features.labels,
    pagePoint: ([lng, lat]) => {
      const p = map.latLngToContainerPoint([lat, lng]);
      const rect = map.getContainer().getBoundingClientRect();
      return { x: rect.left + p.x, y: rect.top + p.y };
    },
  };
}

runMapPage({ onStarted: (parts) => globalThis.duplex = debugHandle(parts) });
