/** The map page (`/m/<id>#key=...`): the composition root that makes the session and wires the views. */
import { CommentsUi } from "./comments_ui.ts";
import { ConflictView } from "./conflict_view.ts";
import { byId, toast } from "./dom.ts";
import { createFallbackTransport } from "./fallback.ts";
import { FeatureTable } from "./feature_table.ts";
import { FindBox } from "./find.ts";
import { addHistory } from "./history.ts";
import { adoptTabClientId, browserAuthorKey, randomId, tabClientId } from "./identity.ts";
import { ensureIdentity, MeButton } from "./identity_view.ts";
import { ImportExport, importLimits } from "./import_export.ts";
import { ExportMenu } from "./export_menu.ts";
import type L from "./leaflet.ts";
import { welcomeTimeoutFrom } from "./link_state.ts";
import { MapFeatures } from "./map_features.ts";
import { MeasureTool } from "./measure_tool.ts";
import { takeMapLink, viewKeyName } from "./map_link.ts";
import { openPageMap } from "./page_map.ts";
import { PeopleList } from "./people_list.ts";
import { PresenceLayers } from "./presence_layers.ts";
import { Session } from "./session.ts";
import { ShareDialog } from "./share_dialog.ts";
import { Shortcuts } from "./shortcuts.ts";
import { showMissingKey, StatusView } from "./status_view.ts";
import { claimUnsent, restoredNotice, warnBeforeUnload } from "./unsent.ts";
import { openUnsentStore, type UnsentStore } from "./unsent_store.ts";
import { ViewportSync } from "./viewport.ts";

/** The running page's parts, for what is wired onto it (the tests' `window.duplex`). */
export interface MapPageParts {
  mapId: string;
  map: L.Map;
  session: Session;
  unsentStore: UnsentStore;
  people: PeopleList;
  features: MapFeatures;
}

/** Options for {@link startMapPage}. */
export interface MapPageOptions {
  /** Called with the page's parts just before the session connects. */
  onStarted?: (parts: MapPageParts) => void;
}

/** Edit ids unique across tabs and page loads: `<client>-<nonce>-<n>`. */
function editIds(clientId: string): () => string {
  const nonce = randomId(4);
  let n = 0;
  return () => `${clientId}-${nonce}-${++n}`;
}

/** Starts the page; a link without a key stops at a message saying so. */
export async function startMapPage(options: MapPageOptions = {}): Promise<void> {
  const link = takeMapLink(location, history, localStorage);
  const { mapId } = link;
  if (!link.key) return showMissingKey(byId("status", HTMLElement));

  const { map, config } = await openPageMap(byId("map", HTMLElement));
  const identity = await ensureIdentity(localStorage);
  // Edits a closed tab left unsent are sent from here, under that tab's client id.
  const unsentStore = openUnsentStore();
  const claimed = await claimUnsent({
    store: unsentStore,
    map: mapId,
    tabClient: tabClientId(sessionStorage),
    locks: navigator.locks,
  });
  const clientId = claimed.client;
  adoptTabClientId(sessionStorage, clientId);

  const session: Session = new Session({
    origin: location.origin,
    mapId,
    key: link.key,
    name: identity.name,
    color: identity.color,
    clientId,
    journal: unsentStore.journal(mapId, clientId),
    maxFrameBytes: config.maxFrameBytes,
    welcomeTimeoutMs: welcomeTimeoutFrom(location.search),
    nextEditId: editIds(clientId),
    // WebSocket first; behind a proxy that strips upgrades, HTTP for the rest of this page.
    transport: createFallbackTransport({
      onFallback: () => console.info("WebSockets are blocked on this network; using HTTP instead"),
    }),
    onFeatures: (fids) => {
      features.update(fids);
      table.update(fids);
      versionHistory.changed();
      comments.featuresChanged(fids);
    },
    comments: true,
    authorKey: browserAuthorKey(localStorage),
    commentsAt: () => comments.state.at,
    onMessage: (m) => {
      comments.receive(m);
      if (m.type === "comment") versionHistory.changed(true);
    },
    onPeers: () => people.render(),
    onPresence: (peer, what) => people.presence(peer, what),
    onStatus: (s) => status.render(s),
    onNotice: (m, level) => toast(m, level),
    onConflict: (c) => conflicts.choose(c),
    onOverwrote: (r) => conflicts.report(r),
    onWelcome: (you, title, first) => {
      document.body.dataset.role = you.role;
      byId("map-title", HTMLElement).textContent = title || "Untitled map";
      document.title = `${title || "Untitled map"} · Duplex Map`;
      if (first && claimed.edits.length > 0) {
        void Promise.all(session.restore(claimed.edits)).then((outcomes) => {
          const sent = outcomes.filter((o) => o.ok).length;
          if (sent > 0) toast(restoredNotice(sent));
        });
      }
      if (first) {
        importExport.enable(you.role === "editor");
        share.enable();
        features.setup(you.role === "editor");
        table.setup(you.role === "editor");
        if (link.share && you.role === "editor") share.open();
      }
      features.fitOnce();
      viewport.send();
    },
  });

  const conflicts = new ConflictView({ parent: document.body }).onAdd();
  const features = new MapFeatures({
    map,
    session,
    panel: byId("props-body", HTMLElement),
    onSelect: (fid) => table.selected(fid),
  });
  const table = new FeatureTable({
    session,
    select: (fid) => features.select(fid),
    zoomTo: (fid) => features.zoomTo(fid),
    onResize: () => map.invalidateSize(),
    limits: { maxOps: importLimits(config).maxOps, maxBytes: importLimits(config).maxFrameBytes },
  }).onAdd();
  const versionHistory = addHistory({ map, session, mapId, key: link.key, config });
  const people = new PeopleList({ map, session, presence: new PresenceLayers(map) });
  const status = new StatusView({
    status: byId("status", HTMLElement),
    undo: byId("undo", HTMLButtonElement),
    redo: byId("redo", HTMLButtonElement),
    session,
  }).onAdd();
  const share = new ShareDialog({
    session,
    base: `${location.origin}/m/${encodeURIComponent(mapId)}`,
    key: link.key,
    viewKey: () => localStorage.getItem(viewKeyName(mapId)),
  }).onAdd();
  const importExport = new ImportExport({ session, features, limits: importLimits(config) })
    .onAdd();
  const comments = new CommentsUi({ map, session, mapId, key: link.key }).onAdd();
  new ExportMenu({
    session,
    button: byId("export", HTMLButtonElement),
    more: [{
      label: "Comments (GeoJSON)",
      title: "The comments, a point per thread",
      run: () => comments.download(),
    }],
  }).onAdd();
  const viewport = new ViewportSync(map, session).onAdd();
  new MeButton({ identity, storage: localStorage, session }).onAdd();
  features.onAdd();
  people.onAdd();
  new FindBox({
    map,
    before: byId("status", HTMLElement),
    features: () => session.doc.features.values(),
    showFeature: (fid) => {
      features.select(fid);
      features.zoomTo(fid);
    },
    geocoder: config.geocoder === true,
  }).onAdd();
  const measure = new MeasureTool().addTo(map);
  new Shortcuts(document, {
    cancel: (typing) => {
      // Esc ends the innermost thing first: measuring, then a shape half drawn (none is kept).
      if (measure.stop()) return;
      if (map.pm?.globalDrawModeEnabled()) map.pm.disableDraw();
      else if (people.following !== null) people.follow(null);
      else if (!typing && features.selected !== null) features.select(null);
    },
    undo: () => session.undo(),
    redo: () => session.redo(),
  }).onAdd();

  warnBeforeUnload(globalThis, () => session.doc.pending.length);
  addEventListener("offline", () => session.wentOffline());
  addEventListener("online", () => session.cameOnline());

  options.onStarted?.({ mapId, map, session, unsentStore, people, features });
  session.start();
}

/** Starts the page, and says so on the page if it cannot. */
export function runMapPage(options: MapPageOptions = {}): void {
  startMapPage(options).catch((e) => {
    console.error(e);
    toast(`The page failed to start: ${e instanceof Error ? e.message : e}`, "error");
  });
}
