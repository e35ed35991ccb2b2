/** The map's scale bar: metric always, imperial too where the browser's locale measures in miles. */
import type L from "leaflet";

/** Regions whose everyday distances are in miles and feet (United States, Liberia, Myanmar). */
const IMPERIAL_REGIONS = new Set(["US", "LR", "MM"]);

/**
 * Whether a BCP 47 language tag (`navigator.language`) belongs to a region that uses imperial
 * units. A tag without a region takes its likely one (`en` → US, `my` → MM), as the browser would.
 */
export function usesImperial(language: string): boolean {
  try {
    const region = new Intl.Locale(language).maximize().region;
    return region !== undefined && IMPERIAL_REGIONS.has(region);
  } catch {
    // Not a valid tag: metric, like most of the world.
    return false;
  }
}

/** The options of Leaflet's scale control for a browser whose language is `language`. */
export function scaleBarOptions(language: string): L.Control.ScaleOptions {
  return { metric: true, imperial: usesImperial(language), maxWidth: 120 };
}
