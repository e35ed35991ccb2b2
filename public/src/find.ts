/** The map page's search box: coordinates, this map's features, gazetteer places and online results in one combobox. */
import type { StoredFeature } from "../../relay/protocol.ts";
import { systemTimers } from "../../relay/timers.ts";
import { formatLatLon, parseCoordinates } from "./coordinates.ts";
import { h } from "./dom.ts";
import { FeatureMatcher } from "./feature_match.ts";
import { FindList, type FindResult, type Group } from "./find_list.ts";
import { FindPin } from "./find_pin.ts";
import { type Place, placeDetail, PlaceSource, zoomForPopulation } from "./find_sources.ts";
import type L from "./leaflet.ts";

/** What the box needs of the page. */
export interface FindBoxOptions {
  map: L.Map;
  /** The box is put in the page header, just before this element. */
  before: HTMLElement;
  /** The map's features now. */
  features(): Iterable<StoredFeature>;
  /** Selects a feature and brings it into view. */
  showFeature(fid: string): void;
  /** Whether the relay has an online geocoder (`/api/config`'s `geocoder`). */
  geocoder: boolean;
}

const ORDER_NAMES = {
  "lat-lon": "as latitude, longitude",
  "lon-lat": "as longitude, latitude",
  letters: "",
} as const;
const MAX_FEATURES = 8;
// Fewer than the gazetteer's 10, so the online group below them stays in sight.
const MAX_PLACES = 6;
// Shorter texts are too vague to be worth a request to a shared public service.
const MIN_ONLINE = 3;
const COORDS_ZOOM = 15;

/**
 * A combobox (ARIA 1.2 pattern) in the header: typing lists results in groups, Arrow Up/Down move
 * the active option, Enter chooses it (or the first one), Escape closes the list and then clears
 * the box; Ctrl+F or "/" focuses it unless the focus is in a field. Choosing flies the map there.
 */
export class FindBox {
  #o: FindBoxOptions;
  #input: HTMLInputElement;
  #list: FindList;
  #root: HTMLElement;
  #places: PlaceSource;
  #online: PlaceSource | null;
  #found: Record<Group, FindResult[]> = { coords: [], features: [], places: [], online: [] };
  /** Whether the list should show (typing, arrows, focus), so late answers do not reopen it. */
  #open = false;
  /** The text the remote sources were last asked about. */
  #asked = "";
  #pin: FindPin;
  #matcher = new FeatureMatcher();

  #keydown = (e: KeyboardEvent) => this.#onKey(e);
  #globalKey = (e: KeyboardEvent) => {
    const t = e.target;
    if (
      t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement ||
      t instanceof HTMLSelectElement || (t instanceof HTMLElement && t.isContentEditable) ||
      document.querySelector("dialog[open]")
    ) return;
    const ctrlF = (e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "f";
    const slash = e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey;
    if (!ctrlF && !slash) return;
    e.preventDefault();
    this.#input.focus();
    this.#input.select();
  };
  #focusout = (e: FocusEvent) => {
    if (!(e.relatedTarget instanceof Node && this.#root.contains(e.relatedTarget))) this.#close();
  };

  constructor(options: FindBoxOptions) {
    this.#o = options;
    this.#pin = new FindPin(options.map);
    this.#input = h("input", {
      id: "find",
      type: "search",
      role: "combobox",
      autocomplete: "off",
      spellcheck: "false",
      "aria-autocomplete": "list",
      "aria-expanded": "false",
      "aria-controls": "find-list",
      "aria-label": "Find a place, a feature of this map, or coordinates",
      placeholder: "Find place, feature, 47.37, 8.54 (/)",
      oninput: () => this.#search(),
      onfocus: () => this.#show(),
    });
    this.#list = new FindList(this.#input, (i) => this.#choose(i));
    this.#root = h("div", { class: "find", role: "search" }, this.#input, this.#list.element);
    const timers = systemTimers();
    this.#places = new PlaceSource({
      url: "/api/places",
      delayMs: 150,
      limit: MAX_PLACES,
      timers,
      onPlaces: (_q, places) => this.#set("places", places.map((p) => this.#place(p, "places"))),
    });
    // Nominatim's usage policy forbids searching as people type: the online geocoder is asked
    // only when a person chooses "Search online" (the relay also spaces and caches requests).
    this.#online = options.geocoder
      ? new PlaceSource({
        url: "/api/geocode",
        delayMs: 0,
        minLength: MIN_ONLINE,
        timers,
        onPlaces: (q, places, problem) => {
          if (q === "") return;
          const waiting = this.#list.results[this.#list.active]?.key === "online-wait";
          const none = { key: "online-none", group: "online" as const, detail: "", keepOpen: true };
          this.#set(
            "online",
            places.length > 0 ? places.map((p) => this.#place(p, "online")) : problem
              // Choosing it asks again (a busy geocoder is often free a second later).
              ? [{
                ...this.#askOnline(q),
                label: "The online search failed: try again",
                detail: problem,
              }]
              : [{ ...none, label: "Nothing found online", choose: () => {} }],
          );
          // The first answer becomes the active option, as the "Searching" row was.
          if (waiting) this.#list.activate(this.#list.results.indexOf(this.#found.online[0]));
        },
      })
      : null;
  }

  /** Puts the box in the header and listens for its shortcuts. */
  onAdd(): this {
    this.#o.before.before(this.#root);
    this.#input.addEventListener("keydown", this.#keydown);
    this.#root.addEventListener("focusout", this.#focusout);
    document.addEventListener("keydown", this.#globalKey);
    return this;
  }

  /** Takes the box away and stops everything it started. */
  onRemove(): void {
    this.#places.close();
    this.#online?.close();
    this.#input.removeEventListener("keydown", this.#keydown);
    this.#root.removeEventListener("focusout", this.#focusout);
    document.removeEventListener("keydown", this.#globalKey);
    this.#pin.clear();
    this.#root.remove();
  }

  #search(): void {
    const q = this.#input.value;
    const readings = parseCoordinates(q);
    this.#found.coords = readings.map((r) => ({
      key: `coords:${r.lat},${r.lon}`,
      group: "coords",
      label: formatLatLon(r.lat, r.lon),
      // With two readings, say which order each one assumed.
      detail: readings.length < 2 ? "" : ORDER_NAMES[r.order],
      choose: () => this.#flyTo(r.lat, r.lon, COORDS_ZOOM, formatLatLon(r.lat, r.lon)),
    }));
    this.#found.features = this.#matcher.match(this.#o.features(), q, MAX_FEATURES).map((m) => ({
      key: `feature:${m.fid}`,
      group: "features",
      label: m.label,
      detail: m.value === m.label ? m.key : `${m.key}: ${m.value}`,
      choose: () => this.#o.showFeature(m.fid),
    }));
    if (q.trim() === "") this.#pin.clear();
    // A position is not a name: it is neither looked up nor sent to anyone.
    const name = readings.length > 0 ? "" : q.trim();
    // Answers for an older text must not stay, or Enter could choose a place not asked for.
    if (name !== this.#asked) {
      this.#asked = name;
      this.#found.places = [];
      this.#found.online = this.#online && name.length >= MIN_ONLINE ? [this.#askOnline(name)] : [];
      this.#online?.query("");
    }
    this.#places.query(name);
    this.#show();
  }

  /** The row that sends `name` to the online geocoder, once, when chosen. */
  #askOnline(name: string): FindResult {
    return {
      key: "online-ask",
      group: "online",
      label: `Search online for “${name}”`,
      detail: "asks the geocoder this server is set up with",
      keepOpen: true,
      choose: () => {
        const wait = { key: "online-wait", label: "Searching online…", choose: () => {} };
        this.#found.online = [{ ...wait, group: "online", detail: "", keepOpen: true }];
        this.#render();
        this.#list.activate(this.#list.results.indexOf(this.#found.online[0]));
        // Forget the last query first, so asking the same text again really asks.
        this.#online?.query("");
        this.#online?.query(name);
      },
    };
  }

  #place(p: Place, group: "places" | "online"): FindResult {
    return {
      key: `${group}:${p.name}:${p.lat},${p.lon}`,
      group,
      label: p.name,
      detail: placeDetail(p, navigator.language),
      choose: () => {
        if (p.bbox) {
          const [w, s, e, n] = p.bbox;
          this.#o.map.flyToBounds([[s, w], [n, e]], { maxZoom: 16, duration: 0.8 });
          this.#pin.show(p.lat, p.lon, p.name);
        } else this.#flyTo(p.lat, p.lon, zoomForPopulation(p.population), p.name);
      },
    };
  }

  #set(group: Group, results: FindResult[]): void {
    this.#found[group] = results;
    this.#render();
  }

  #show(): void {
    this.#open = true;
    this.#render();
  }

  #render(): void {
    this.#list.render(this.#found, this.#open);
  }

  #onKey(e: KeyboardEvent): void {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!this.#list.open) this.#show();
      this.#list.move(e.key === "ArrowDown" ? 1 : -1);
    } else if (e.key === "Enter") {
      e.preventDefault();
      this.#choose(Math.max(this.#list.active, 0));
    } else if (e.key === "Escape") {
      // The page's own Escape (stop following, clear the selection) is not for this key press.
      e.stopPropagation();
      // A search field clears itself on Escape; with the list open, only the list closes.
      if (this.#list.open) {
        e.preventDefault();
        this.#close();
      } else {
        this.#input.value = "";
        this.#search();
      }
    }
  }

  #choose(i: number): void {
    const r = this.#list.results[i];
    if (!r) return;
    if (r.keepOpen) return r.choose();
    this.#pin.clear();
    r.choose();
    this.#close();
  }

  #close(): void {
    this.#open = false;
    this.#list.close();
  }

  #flyTo(lat: number, lon: number, zoom: number, label: string): void {
    this.#o.map.flyTo([lat, lon], zoom, { duration: 0.8 });
    this.#pin.show(lat, lon, label);
  }
}
