/** Reading the entries of a zip (KMZ, zipped Shapefile) with fflate, bounded so a zip bomb cannot fill memory. */
import { unzipSync } from "fflate";

/** The default bound on what a zip's wanted entries hold unpacked. */
export const DEFAULT_MAX_UNZIPPED_BYTES = 256 << 20;

/** The names of a zip's entries (read from its directory; nothing is unpacked). */
export function zipNames(bytes: Uint8Array): string[] {
  const names: string[] = [];
  unzipSync(bytes, {
    filter: (file) => {
      names.push(file.name);
      return false;
    },
  });
  return names;
}

/**
 * Unpacks the entries whose names `want` accepts, refusing (with a message for a person) a zip
 * that is not one, or whose wanted entries would unpack to more than `maxBytes`.
 */
export function unzipEntries(
  bytes: Uint8Array,
  want: (name: string) => boolean,
  maxBytes: number = DEFAULT_MAX_UNZIPPED_BYTES,
): { ok: true; files: Record<string, Uint8Array> } | { ok: false; message: string } {
  let total = 0;
  try {
    const files = unzipSync(bytes, {
      filter: (file) => {
        if (file.name.includes("__MACOSX/") || !want(file.name)) return false;
        // fflate unpacks into a buffer of the declared size, so the declared sizes bound memory.
        total += file.originalSize;
        if (total > maxBytes) throw new RangeError("too big");
        return true;
      },
    });
    return { ok: true, files };
  } catch (e) {
    if (e instanceof RangeError && e.message === "too big") {
      return { ok: false, message: `the zip unpacks to more than ${maxBytes >> 20} MB` };
    }
    return {
      ok: false,
      message: `not a readable zip file (${e instanceof Error ? e.message : e})`,
    };
  }
}
