/** The map page (`/m/<id>#key=...`): wires the session to Leaflet, Geoman and the page's controls. */
import type { Geometry, PeerInfo } from "../../relay/protocol.ts";
import { addBasemap } from "./basemap.ts";
import "./debug.ts";
import { byId, copyText, h, toast } from "./dom.ts";
import { createFallbackTransport } from "./fallback.ts";
import { FeatureLayers } from "./feature_layers.ts";
import { exportText, importOps } from "./geojson_io.ts";
import {
  adoptTabClientId,
  type Identity,
  loadIdentity,
  PALETTE,
  randomId,
  saveIdentity,
  tabClientId,
} from "./identity.ts";
import L from "./leaflet.ts";
import { showInvalidLink, welcomeTimeoutFrom } from "./link_state.ts";
import { bboxBounds, PresenceLayers } from "./presence_layers.ts";
import { normalizeGeometry } from "./normalize.ts";
import { PropsPanel } from "./props_panel.ts";
import { Session, type SessionStatus } from "./session.ts";
import { claimUnsent, restoredNotice, warnBeforeUnload } from "./unsent.ts";
import { openUnsentStore } from "./unsent_store.ts";

interface Config {
  tiles: string | null;
  tilesAttribution: string | null;
  maxFrameBytes?: number;
}

function readFragment(): { key: string; view: string | null; share: boolean } {
  const params = new URLSearchParams(location.hash.slice(1));
  return {
    key: params.get("key") ?? "",
    view: params.get("view"),
    share: params.get("share") === "1",
  };
}

/** `[west, south, east, north]` within the protocol's ranges, whatever Leaflet's bounds are. */
function clampBBox(b: L.LatLngBounds): [number, number, number, number] {
  const south = Math.max(-90, b.getSouth());
  const north = Math.min(90, b.getNorth());
  if (b.getEast() - b.getWest() >= 360) return [-180, south, 180, north];
  const wrap = (lng: number) => ((((lng + 180) % 360) + 360) % 360) - 180;
  const round = (n: number) => Math.round(n * 1e6) / 1e6;
  return [
    round(wrap(b.getWest())),
    round(south),
    round(wrap(b.getEast())),
    round(north),
  ];
}

function askIdentity(
  dialog: HTMLDialogElement,
  current: Identity | null,
): Promise<Identity> {
  const form = dialog.querySelector("form");
  const name = dialog.querySelector<HTMLInputElement>("#identity-name");
  const color = dialog.querySelector<HTMLInputElement>("#identity-color");
  const swatches = dialog.querySelector<HTMLElement>("#identity-swatches");
  if (!form || !name || !color || !swatches) {
    throw new Error("identity dialog is incomplete");
  }
  name.value = current?.name ?? "";
  color.value = current?.color ??
    PALETTE[Math.floor(Math.random() * PALETTE.length)];
  swatches.replaceChildren(...PALETTE.map((c) => {
    const b = h("button", {
      type: "button",
      class: "swatch",
      style: `background:${c}`,
      "aria-label": `Colour ${c}`,
      onclick: () => color.value = c,
    });
    return b;
  }));
  dialog.showModal();
  name.focus();
  return new Promise((resolve) => {
    const submit = (e: Event) => {
      e.preventDefault();
      const value = name.value.trim();
      if (!value) {
        name.focus();
        return;
      }
      form.removeEventListener("submit", submit);
      dialog.close();
      resolve({ name: value.slice(0, 64), color: color.value.toLowerCase() });
    };
    form.addEventListener("submit", submit);
    // A first visit needs a name: Esc must not leave the dialog without one.
    dialog.addEventListener("cancel", (e) => {
      if (!current) e.preventDefault();
    });
  });
}

async function main(): Promise<void> {
  const mapId = decodeURIComponent(
    location.pathname.split("/").filter(Boolean)[1] ?? "",
  );
  const fragment = readFragment();
  const viewKeyStore = `duplexmap.viewKey.${mapId}`;
  if (fragment.view) localStorage.setItem(viewKeyStore, fragment.view);
  if (fragment.view || fragment.share) {
    history.replaceState(
      null,
      "",
      `${location.pathname}#key=${encodeURIComponent(fragment.key)}`,
    );
  }
  const statusEl = byId("status", HTMLElement);
  if (!fragment.key) {
    statusEl.dataset.state = "failed";
    statusEl.textContent = "This link has no key. Ask for the full link (it ends in #key=...).";
    return;
  }

  const map = L.map(byId("map", HTMLElement), {
    preferCanvas: true,
    worldCopyJump: true,
    minZoom: 1,
    maxZoom: 19,
    zoomControl: true,
  }).setView([20, 0], 2);
  map.attributionControl.setPrefix(false);

  const noConfig: Config = { tiles: null, tilesAttribution: null };
  const config: Config = await fetch("/api/config")
    .then((r) => r.ok ? r.json() : noConfig)
    .catch(() => noConfig);
  addBasemap({
    map,
    tiles: config.tiles,
    tilesAttribution: config.tilesAttribution,
  }).catch(
    (e) => toast(`The basemap could not be loaded (${e}).`, "error"),
  );

  let identity = loadIdentity(localStorage);
  const identityDialog = byId("identity", HTMLDialogElement);
  if (!identity) {
    identity = await askIdentity(identityDialog, null);
    saveIdentity(localStorage, identity);
  }
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
  const loadNonce = randomId(4);
  let editCounter = 0;

  let features: FeatureLayers | null = null;
  let selected: string | null = null;
  let following: string | null = null;
  let fitted = false;
  const presence = new PresenceLayers(map);
  const propsPanel = new PropsPanel({
    root: byId("props-body", HTMLElement),
    edit: (ops) => void session.edit(ops),
    notice: (m) => toast(m, "error"),
    zoomTo: (fid) => zoomTo(fid),
  });
  const peersEl = byId("peers", HTMLUListElement);
  const followEl = byId("follow-banner", HTMLElement);
  const meButton = byId("me", HTMLButtonElement);
  const undoButton = byId("undo", HTMLButtonElement);
  const redoButton = byId("redo", HTMLButtonElement);

  const session: Session = new Session({
    origin: location.origin,
    mapId,
    key: fragment.key,
    name: identity.name,
    color: identity.color,
    clientId,
    journal: unsentStore.journal(mapId, clientId),
    maxFrameBytes: config.maxFrameBytes,
    welcomeTimeoutMs: welcomeTimeoutFrom(location.search),
    nextEditId: () => `${clientId}-${loadNonce}-${++editCounter}`,
    // WebSocket first; behind a proxy that strips upgrades, HTTP for the rest of this page.
    transport: createFallbackTransport({
      onFallback: () => console.info("WebSockets are blocked on this network; using HTTP instead"),
    }),
    onFeatures: (fids) => {
      features?.update(fids, session.doc.features);
      if (selected !== null && fids.has(selected)) {
        const f = session.doc.features.get(selected);
        if (!f) select(null);
        else propsPanel.show(f, session.canEdit);
      }
    },
    onPeers: renderPeers,
    onPresence: (peer, what) => {
      presence.update(peer);
      if (what === "view" && following === peer.peer) applyFollow(peer);
      if (what === "view") renderPeers();
      // The follow banner names the peer: a new name or colour redraws it.
      if (what === "profile" && following === peer.peer) follow(peer.peer);
    },
    onStatus: renderStatus,
    onNotice: (m, level) => toast(m, level),
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
        byId("import", HTMLButtonElement).disabled = you.role !== "editor";
        byId("share", HTMLButtonElement).disabled = false;
        setupTools(you.role === "editor");
        if (fragment.share && you.role === "editor") openShare();
      }
      if (!fitted) {
        fitted = true;
        const b = features?.bounds();
        if (b) {
          map.fitBounds(b, { maxZoom: 14, padding: [24, 24], animate: false });
        }
      }
      sendView();
    },
  });

  function setupTools(editable: boolean): void {
    features = new FeatureLayers({
      map,
      editable,
      onSelect: (fid) => select(fid),
      onGeometry: (fid, geometry: Geometry) =>
        void session.edit([{
          op: "geom",
          fid,
          geometry: normalizeGeometry(geometry),
        }]),
      onRemove: (fid) => {
        if (selected === fid) select(null);
        void session.edit([{ op: "del", fid }]);
      },
    });
    features.update(session.doc.features.keys(), session.doc.features);
    if (!editable) return;
    L.PM.setOptIn(true);
    map.pm.setLang("en", {
      buttonTitles: {
        drawCircleMarkerButton: "Draw point",
        drawLineButton: "Draw line",
      },
    }, "en");
    map.pm.setGlobalOptions({
      pathOptions: { color: "#2563eb", weight: 2, fillOpacity: 0.18 },
      templineStyle: { color: "#db2777" },
      hintlineStyle: { color: "#db2777", dashArray: "5 5" },
      limitMarkersToViewport: true,
      // One shape per click on a tool; Geoman would otherwise keep placing points.
      continueDrawing: false,
    });
    map.pm.addControls({
      position: "topleft",
      drawMarker: false,
      drawCircleMarker: true,
      drawPolyline: true,
      drawRectangle: true,
      drawPolygon: true,
      drawCircle: false,
      drawText: false,
      editMode: true,
      dragMode: true,
      cutPolygon: false,
      removalMode: true,
      rotateMode: false,
    });
    map.on("pm:create", (e) => {
      const layer = e.layer;
      map.removeLayer(layer);
      const geojson = layer instanceof L.Polyline || layer instanceof L.CircleMarker ||
          layer instanceof L.Marker
        ? layer.toGeoJSON()
        : null;
      if (!geojson?.geometry) return;
      const fid = `f-${randomId(16)}`;
      // Leaflet's GeoJSON types and the relay's describe the same RFC 7946 shapes.
      const geometry = normalizeGeometry(geojson.geometry as Geometry);
      void session.edit([{
        op: "put",
        feature: { type: "Feature", id: fid, geometry, properties: {} },
      }]);
      select(fid);
    });
    // Geoman's buttons are links without href: make them reachable and usable with the keyboard.
    for (
      const a of document.querySelectorAll<HTMLAnchorElement>(
        ".leaflet-pm-toolbar a",
      )
    ) {
      a.setAttribute("role", "button");
      a.setAttribute("tabindex", "0");
      const title = a.closest("[title]")?.getAttribute("title");
      if (title) a.setAttribute("aria-label", title);
      a.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          a.click();
        }
      });
    }
  }

  function select(fid: string | null): void {
    selected = fid;
    features?.select(fid);
    propsPanel.show(
      fid === null ? null : session.doc.features.get(fid) ?? null,
      session.canEdit,
    );
    document.body.classList.toggle("has-selection", fid !== null);
  }

  function zoomTo(fid: string): void {
    const layer = features?.layer(fid);
    if (layer instanceof L.CircleMarker) {
      map.setView(layer.getLatLng(), Math.max(map.getZoom(), 12));
    } else if (layer instanceof L.Polyline || layer instanceof L.FeatureGroup) {
      // Empty geometries draw as empty layers, whose bounds Leaflet refuses to fit.
      const bounds = layer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 16, padding: [24, 24] });
      else toast("This feature has no location to zoom to.");
    }
  }

  function sendView(): void {
    session.setView(clampBBox(map.getBounds()), map.getZoom());
  }

  function applyFollow(peer: PeerInfo): void {
    if (!peer.view) return;
    // Of the world copies of the peer's box, go to the one nearest to where this map is now.
    const bounds = bboxBounds(peer.view.bbox);
    const shift = Math.round((map.getCenter().lng - bounds.getCenter().lng) / 360) * 360;
    map.fitBounds(
      L.latLngBounds(
        [bounds.getSouth(), bounds.getWest() + shift],
        [bounds.getNorth(), bounds.getEast() + shift],
      ),
      { animate: false },
    );
  }

  function follow(peer: string | null): void {
    following = peer;
    const p = peer === null ? undefined : session.peers.get(peer);
    followEl.hidden = !p;
    if (p) {
      followEl.replaceChildren(
        h("span", { class: "dot", style: `background:${p.color}` }),
        `Following ${p.name}. Pan the map or press Esc to stop.`,
        h("button", { type: "button", onclick: () => follow(null) }, "Stop"),
      );
      applyFollow(p);
    }
    renderPeers();
  }

  function renderPeers(): void {
    const you = session.you;
    presence.retain(new Set(session.peers.keys()));
    if (following !== null && !session.peers.has(following)) follow(null);
    const items: HTMLElement[] = [];
    if (you) {
      items.push(h(
        "li",
        { class: "peer me", "data-peer": you.peer },
        h("span", { class: "dot", style: `background:${you.color}` }),
        h("span", { class: "peer-name" }, you.name),
        h(
          "span",
          { class: "role" },
          you.role === "editor" ? "editor" : "viewer",
        ),
        h("span", { class: "you" }, "you"),
      ));
    }
    for (
      const p of [...session.peers.values()].sort((a, b) => a.name.localeCompare(b.name))
    ) {
      const isFollowed = following === p.peer;
      items.push(h(
        "li",
        { class: `peer${isFollowed ? " followed" : ""}`, "data-peer": p.peer },
        h("span", { class: "dot", style: `background:${p.color}` }),
        h("span", { class: "peer-name" }, p.name),
        h("span", { class: "role" }, p.role),
        h(
          "span",
          { class: "peer-actions" },
          h("button", {
            type: "button",
            class: "follow",
            "aria-pressed": isFollowed ? "true" : "false",
            disabled: !p.view,
            "aria-label": `${isFollowed ? "Stop following" : "Follow"} ${p.name}`,
            onclick: () => follow(isFollowed ? null : p.peer),
          }, isFollowed ? "Following" : "Follow"),
          h("button", {
            type: "button",
            class: "jump",
            disabled: !p.view,
            "aria-label": `Jump to ${p.name}`,
            onclick: () => {
              follow(null);
              applyFollow(p);
            },
          }, "Jump"),
        ),
      ));
    }
    peersEl.replaceChildren(...items);
    byId("peer-count", HTMLElement).textContent = String(items.length);
  }

  function renderStatus(s: SessionStatus): void {
    statusEl.dataset.state = s.state;
    const unsent = s.unsent === 1 ? "1 unsent edit" : `${s.unsent} unsent edits`;
    let text: string;
    switch (s.state) {
      case "connecting":
        text = `Connecting…${s.unsent ? ` · ${unsent}` : ""}`;
        break;
      case "live":
        text = `Live · ${s.transport}${s.unsent ? ` · saving ${s.unsent}` : ""}`;
        break;
      case "offline":
        text = `Offline · ${unsent} · retrying in ${Math.ceil((s.retryInMs ?? 0) / 1000)} s`;
        break;
      case "failed":
        text = "Link not valid";
        showInvalidLink(document, s.reason ?? "This link is not valid.");
        break;
    }
    statusEl.textContent = text;
    statusEl.title = `Connection: ${s.state} via ${s.transport}`;
    undoButton.disabled = !session.canUndo;
    redoButton.disabled = !session.canRedo;
  }

  function openShare(): void {
    // Before welcome the key is unproven: never hand it out as a link.
    if (!session.you) return;
    const dialog = byId("share-dialog", HTMLDialogElement);
    const base = `${location.origin}/m/${encodeURIComponent(mapId)}`;
    const editLink = byId("share-edit", HTMLInputElement);
    const viewLink = byId("share-view", HTMLInputElement);
    const viewKey = localStorage.getItem(viewKeyStore);
    const editor = session.canEdit;
    editLink.value = editor ? `${base}#key=${fragment.key}` : "";
    viewLink.value = viewKey
      ? `${base}#key=${viewKey}`
      : editor
      ? ""
      : `${base}#key=${fragment.key}`;
    byId("share-edit-row", HTMLElement).hidden = !editor;
    byId("share-view-missing", HTMLElement).hidden = viewLink.value !== "";
    byId("share-view-row", HTMLElement).hidden = viewLink.value === "";
    dialog.showModal();
  }

  for (
    const button of document.querySelectorAll<HTMLButtonElement>(
      "button[data-copy]",
    )
  ) {
    button.addEventListener("click", async () => {
      const input = byId(button.dataset.copy ?? "", HTMLInputElement);
      const ok = await copyText(input.value, input);
      button.textContent = ok ? "Copied" : "Copy failed";
      setTimeout(() => button.textContent = "Copy", 1500);
    });
  }
  byId("share", HTMLButtonElement).addEventListener("click", openShare);
  byId("share-close", HTMLButtonElement).addEventListener(
    "click",
    () => byId("share-dialog", HTMLDialogElement).close(),
  );
  undoButton.addEventListener("click", () => session.undo());
  redoButton.addEventListener("click", () => session.redo());

  const renderMe = (i: Identity) => {
    meButton.replaceChildren(
      h("span", { class: "dot", style: `background:${i.color}` }),
      i.name,
    );
    meButton.setAttribute(
      "aria-label",
      `You are ${i.name}; change name or colour`,
    );
  };
  renderMe(identity);
  meButton.addEventListener("click", async () => {
    const next = await askIdentity(identityDialog, identity);
    identity = next;
    saveIdentity(localStorage, next);
    renderMe(next);
    session.setIdentity(next.name, next.color);
  });

  // Import: a picked or dropped file becomes one edit; a bad file changes nothing.
  const fileInput = byId("import-file", HTMLInputElement);
  byId("import", HTMLButtonElement).addEventListener(
    "click",
    () => fileInput.click(),
  );
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    if (file) void importFile(file);
    fileInput.value = "";
  });
  const dropHint = byId("drop-hint", HTMLElement);
  document.addEventListener("dragover", (e) => {
    if (!session.canEdit || !e.dataTransfer?.types.includes("Files")) return;
    e.preventDefault();
    dropHint.hidden = false;
  });
  document.addEventListener("dragleave", (e) => {
    if (e.relatedTarget === null) dropHint.hidden = true;
  });
  document.addEventListener("drop", (e) => {
    dropHint.hidden = true;
    const file = e.dataTransfer?.files[0];
    if (!file || !session.canEdit) return;
    e.preventDefault();
    void importFile(file);
  });
  async function importFile(file: File): Promise<void> {
    // Before welcome (or on a refused link) an import would only reach this page's copy.
    if (!session.canEdit) {
      toast("Nothing was imported: the map is not open for editing.", "error");
      return;
    }
    const result = importOps(await file.text(), {
      existing: session.doc.features,
      newId: () => `f-${randomId(16)}`,
    });
    if (!result.ok) {
      toast(
        `Nothing was imported from ${file.name}: ${result.message}`,
        "error",
      );
      return;
    }
    const pending = session.edit(result.ops);
    const fids = result.ops.flatMap((op) => op.op === "put" ? [op.feature.id] : []);
    const bounds = L.latLngBounds([]);
    for (const fid of fids) {
      const layer = features?.layer(fid);
      if (layer instanceof L.CircleMarker) bounds.extend(layer.getLatLng());
      else if (layer instanceof L.Polyline || layer instanceof L.FeatureGroup) {
        bounds.extend(layer.getBounds());
      }
    }
    if (bounds.isValid()) {
      map.fitBounds(bounds, { maxZoom: 14, padding: [24, 24] });
    }
    const outcome = await pending;
    if (outcome.ok) {
      toast(
        `Imported ${fids.length} feature${fids.length === 1 ? "" : "s"} from ${file.name}.`,
      );
    }
  }

  byId("export", HTMLButtonElement).addEventListener("click", () => {
    let text: string;
    try {
      text = exportText(session.doc.features.values());
    } catch (e) {
      toast(`The map could not be exported: ${e instanceof Error ? e.message : e}`, "error");
      return;
    }
    const blob = new Blob([text], { type: "application/geo+json" });
    const url = URL.createObjectURL(blob);
    const slug = (session.title || "map").toLowerCase().replace(
      /[^a-z0-9]+/g,
      "-",
    ).replace(
      /^-|-$/g,
      "",
    );
    const a = h("a", { href: url, download: `${slug || "map"}.geojson` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });

  // Presence out: cursor throttled by the session, view only when a move ends.
  map.on("mousemove", (e) => {
    const at = e.latlng.wrap();
    session.setCursor([
      Math.round(at.lng * 1e6) / 1e6,
      Math.round(Math.max(-90, Math.min(90, at.lat)) * 1e6) / 1e6,
    ]);
  });
  map.getContainer().addEventListener(
    "mouseleave",
    () => session.setCursor(null),
  );
  map.on("moveend", sendView);
  map.on("click", () => {
    if (!map.pm.globalDrawModeEnabled()) select(null);
  });

  // Following stops when the user moves the map themselves.
  const stopFollowing = () => {
    if (following !== null) follow(null);
  };
  map.on("dragstart", stopFollowing);
  map.getContainer().addEventListener("wheel", stopFollowing, {
    passive: true,
  });
  map.getContainer().addEventListener("keydown", (e) => {
    if (
      ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "+", "-", "="]
        .includes(e.key)
    ) {
      stopFollowing();
    }
  });
  for (const b of document.querySelectorAll(".leaflet-control-zoom a")) {
    b.addEventListener("click", stopFollowing);
  }

  document.addEventListener("keydown", (e) => {
    const target = e.target;
    const typing = target instanceof HTMLInputElement ||
      target instanceof HTMLTextAreaElement ||
      (target instanceof HTMLElement && target.isContentEditable);
    if (e.key === "Escape") {
      if (following !== null) follow(null);
      else if (!typing && selected !== null) select(null);
      return;
    }
    if (typing || !(e.ctrlKey || e.metaKey)) return;
    const key = e.key.toLowerCase();
    if (key === "z" && !e.shiftKey) {
      e.preventDefault();
      session.undo();
    } else if ((key === "z" && e.shiftKey) || key === "y") {
      e.preventDefault();
      session.redo();
    }
  });

  warnBeforeUnload(globalThis, () => session.doc.pending.length);
  addEventListener("offline", () => session.wentOffline());
  addEventListener("online", () => session.cameOnline());

  globalThis.duplex = {
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
    following: () => following,
    selected: () => selected,
    view: () => {
      const c = map.getCenter();
      return {
        center: [c.lng, c.lat],
        zoom: map.getZoom(),
        bbox: clampBBox(map.getBounds()),
      };
    },
    sendEdit: (ops) => session.edit(ops),
    select: (fid) => select(fid),
    layerKind: (fid) => features?.kind(fid) ?? null,
    pagePoint: ([lng, lat]) => {
      const p = map.latLngToContainerPoint([lat, lng]);
      const rect = map.getContainer().getBoundingClientRect();
      return { x: rect.left + p.x, y: rect.top + p.y };
    },
  };

  session.start();
}

main().catch((e) => {
  console.error(e);
  toast(
    `The page failed to start: ${e instanceof Error ? e.message : e}`,
    "error",
  );
});
