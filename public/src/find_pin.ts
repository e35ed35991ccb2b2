/** The search box's temporary pin: shows where a chosen position is, on this page only. */
import L from "./leaflet.ts";

/**
 * One marker at a time, drawn by Leaflet above the map. It is no feature: nothing is sent, the
 * map's data and its export do not change, and nobody else sees it.
 */
export class FindPin {
  #map: L.Map;
  #marker: L.Marker | null = null;

  constructor(map: L.Map) {
    this.#map = map;
  }

  /** Moves the pin to `[lat, lon]`; `label` is its tooltip. */
  show(lat: number, lon: number, label: string): void {
    this.clear();
    const icon = L.divIcon({ className: "find-pin", iconSize: [18, 18], iconAnchor: [9, 9] });
    this.#marker = L.marker([lat, lon], { icon, interactive: false, keyboard: false, title: label })
      .addTo(this.#map);
  }

  /** Takes the pin away, if there is one. */
  clear(): void {
    this.#marker?.remove();
    this.#marker = null;
  }
}
