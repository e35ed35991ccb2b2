/** Draws other people on the map: their cursor with their name, and their viewport as a rectangle. */
import type { PeerInfo } from "../../relay/protocol.ts";
import L from "./leaflet.ts";

interface Shapes {
  cursor: L.Marker | null;
  view: L.Rectangle | null;
  /** Colour and name the shapes were drawn with; a change redraws them. */
  style: string;
}

/** Bounds of a `[west, south, east, north]` box; a box across the antimeridian is drawn east of it. */
export function bboxBounds(
  bbox: [number, number, number, number],
): L.LatLngBounds {
  const [west, south, east0, north] = bbox;
  const east = east0 < west ? east0 + 360 : east0;
  return L.latLngBounds([south, west], [north, east]);
}

/** Peers' cursors and viewports; nothing here is editable or clickable. */
export class PresenceLayers {
  #map: L.Map;
  #shapes = new Map<string, Shapes>();
  #group: L.LayerGroup;
  // A handful of rectangles: SVG keeps them out of the feature canvas and visible in the DOM.
  #renderer = L.svg({ padding: 0.5 });

  constructor(map: L.Map) {
    this.#map = map;
    this.#group = L.layerGroup([], { pmIgnore: true }).addTo(map);
  }

  /** Redraws one peer's cursor or viewport. */
  update(peer: PeerInfo): void {
    const style = `${peer.color} ${peer.name}`;
    if (this.#shapes.get(peer.peer)?.style !== style) this.remove(peer.peer);
    const shapes = this.#shapes.get(peer.peer) ?? { cursor: null, view: null, style };
    this.#shapes.set(peer.peer, shapes);
    if (peer.view) {
      const bounds = bboxBounds(peer.view.bbox);
      if (shapes.view) shapes.view.setBounds(bounds);
      else {
        shapes.view = L.rectangle(bounds, {
          color: peer.color,
          weight: 2,
          dashArray: "6 4",
          fill: false,
          interactive: false,
          pmIgnore: true,
          className: "peer-view",
          renderer: this.#renderer,
        }).addTo(this.#group);
      }
    }
    if (peer.cursor) {
      const at = L.latLng(peer.cursor[1], peer.cursor[0]);
      if (shapes.cursor) shapes.cursor.setLatLng(at);
      else {
        shapes.cursor = L.marker(at, {
          icon: cursorIcon(peer),
          interactive: false,
          keyboard: false,
          pmIgnore: true,
          zIndexOffset: 1000,
        }).addTo(this.#group);
      }
    } else if (shapes.cursor) {
      this.#group.removeLayer(shapes.cursor);
      shapes.cursor = null;
    }
  }

  /** Removes a peer who left. */
  remove(peer: string): void {
    const shapes = this.#shapes.get(peer);
    if (!shapes) return;
    if (shapes.cursor) this.#group.removeLayer(shapes.cursor);
    if (shapes.view) this.#group.removeLayer(shapes.view);
    this.#shapes.delete(peer);
  }

  /** Keeps only these peers. */
  retain(peers: ReadonlySet<string>): void {
    for (const id of [...this.#shapes.keys()]) {
      if (!peers.has(id)) this.remove(id);
    }
  }
}

function cursorIcon(peer: PeerInfo): L.DivIcon {
  const el = document.createElement("div");
  el.className = "peer-cursor";
  el.innerHTML =
    `<svg width="18" height="22" viewBox="0 0 18 22" aria-hidden="true"><path d="M1 1 L1 17 L5.5 12.8 L9 20.5 L12 19.2 L8.6 11.6 L15 11.3 Z" stroke="white" stroke-width="1.5"/></svg><span></span>`;
  const path = el.querySelector("path");
  path?.setAttribute("fill", peer.color);
  const label = el.querySelector("span");
  if (label) {
    label.textContent = peer.name;
    label.style.background = peer.color;
  }
  return L.divIcon({
    html: el,
    className: "peer-cursor-icon",
    iconSize: [0, 0],
    iconAnchor: [1, 1],
  });
}
