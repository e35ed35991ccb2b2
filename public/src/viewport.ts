/** This page's presence going out: its viewport when a move ends, its pointer as it moves. */
import type L from "./leaflet.ts";
import type { Session } from "./session.ts";

/** The parts of Leaflet's `LatLngBounds` that {@link clampBBox} reads. */
export interface BoundsLike {
  getWest(): number;
  getSouth(): number;
  getEast(): number;
  getNorth(): number;
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/**
 * `[west, south, east, north]` within the protocol's ranges, whatever Leaflet's bounds are: a
 * view wider than the world is the whole world, longitudes wrap into [-180, 180), latitudes clamp.
 *
 * @example
 * ```ts ignore
 * session.setView(clampBBox(map.getBounds()), map.getZoom());
 * ```
 */
export function clampBBox(b: BoundsLike): [number, number, number, number] {
  const south = Math.max(-90, b.getSouth());
  const north = Math.min(90, b.getNorth());
  if (b.getEast() - b.getWest() >= 360) return [-180, south, 180, north];
  const wrap = (lng: number) => ((((lng + 180) % 360) + 360) % 360) - 180;
  return [round6(wrap(b.getWest())), round6(south), round6(wrap(b.getEast())), round6(north)];
}

/** A pointer position as `[lng, lat]` rounded to 6 decimals, the latitude clamped to the poles. */
export function cursorAt(at: { lng: number; lat: number }): [number, number] {
  return [round6(at.lng), round6(Math.max(-90, Math.min(90, at.lat)))];
}

/**
 * Sends the map's viewport and pointer to the session: the cursor throttled by the session, the
 * view only when a move ends. Listeners are added by `onAdd` and removed by `onRemove`, in pairs.
 */
export class ViewportSync {
  #map: L.Map;
  #session: Session;
  #move = (e: L.LeafletMouseEvent) => this.#session.setCursor(cursorAt(e.latlng.wrap()));
  #leave = () => this.#session.setCursor(null);
  #moveEnd = () => this.send();

  constructor(map: L.Map, session: Session) {
    this.#map = map;
    this.#session = session;
  }

  /** Sends the current view now (e.g. once welcomed). */
  send(): void {
    this.#session.setView(clampBBox(this.#map.getBounds()), this.#map.getZoom());
  }

  /** Starts listening to the map. */
  onAdd(): this {
    this.#map.on("mousemove", this.#move);
    this.#map.getContainer().addEventListener("mouseleave", this.#leave);
    this.#map.on("moveend", this.#moveEnd);
    return this;
  }

  /** Stops listening to the map. */
  onRemove(): void {
    this.#map.off("mousemove", this.#move);
    this.#map.getContainer().removeEventListener("mouseleave", this.#leave);
    this.#map.off("moveend", this.#moveEnd);
  }
}
