/** Brings shapes drawn on a world copy (longitude beyond ±180) back into the protocol's range. */
import type { Geometry } from "../../relay/protocol.ts";
import { storedGeometry } from "./antimeridian_edit.ts";

/**
 * Leaflet reports positions on the world copy where the user drew, e.g. longitude -200 or, for a
 * shape drawn across the antimeridian, 170 to 190. Each longitude is moved into -180..180 on its
 * own, so the relay accepts the shape and it stays whole ({@link storedGeometry}); before, the
 * part past 180 was clamped to 180 and lost.
 *
 * @example
 * ```ts
 * import { normalizeGeometry } from "./normalize.ts";
 * normalizeGeometry({ type: "Point", coordinates: [-200, 10] }); // { type: "Point", coordinates: [160, 10] }
 * ```
 */
export function normalizeGeometry(g: Geometry): Geometry {
  return storedGeometry(g);
}
