/** KML, KMZ and GPX read by @tmcw/togeojson; the XML parser is passed in (the browser's DOMParser, @xmldom/xmldom on the relay). */
import { gpx, kml } from "@tmcw/togeojson";
import type { FileRead, SourceRecord } from "./records.ts";
import { unzipEntries } from "./zip.ts";

/** The parts of a DOM document this module reads (the relay type-checks without the DOM lib). */
export interface XmlDocument {
  /** The root element. */
  documentElement: { localName?: string | null; nodeName: string } | null;
  /** Elements by name, for the browser's `<parsererror>`. */
  getElementsByTagName(name: string): ArrayLike<{ textContent: string | null }>;
}

/** Parses XML text into a DOM document, or throws. */
export type ParseXml = (text: string) => XmlDocument;

type TogeojsonDocument = Parameters<typeof kml>[0];

/** Reads a KML or GPX document's placemarks, waypoints, routes and tracks as records. */
export function readXml(text: string, format: "kml" | "gpx", parseXml: ParseXml): FileRead {
  let doc: XmlDocument;
  try {
    doc = parseXml(text);
  } catch (e) {
    return notXml(format, e instanceof Error ? e.message : String(e));
  }
  // The browser's DOMParser reports a malformed document inside it instead of throwing.
  const error = doc.getElementsByTagName("parsererror")[0];
  if (error) return notXml(format, (error.textContent ?? "").trim().split("\n")[0]);
  const root = doc.documentElement?.localName ?? doc.documentElement?.nodeName ?? "";
  if (root.replace(/^.*:/, "").toLowerCase() !== format) {
    return {
      ok: false,
      status: 400,
      message: `not a ${format.toUpperCase()} document (its root element is <${root}>)`,
    };
  }
  const collection = format === "kml"
    ? kml(doc as unknown as TogeojsonDocument)
    : gpx(doc as unknown as TogeojsonDocument);
  const records: SourceRecord[] = collection.features.map((feature) => ({ feature }));
  return { ok: true, format, records };
}

/** Reads a KMZ: the first `.kml` at the zip's root (as KMZ readers do), else the first anywhere. */
export function readKmz(
  bytes: Uint8Array,
  parseXml: ParseXml,
  maxUnzippedBytes?: number,
): FileRead {
  const unzipped = unzipEntries(bytes, (n) => n.toLowerCase().endsWith(".kml"), maxUnzippedBytes);
  if (!unzipped.ok) return { ok: false, status: 400, message: unzipped.message };
  const names = Object.keys(unzipped.files);
  const name = names.find((n) => !n.includes("/")) ?? names[0];
  if (name === undefined) {
    return { ok: false, status: 400, message: "the KMZ holds no .kml file" };
  }
  const read = readXml(new TextDecoder().decode(unzipped.files[name]), "kml", parseXml);
  return read.ok ? { ...read, format: "kmz" } : read;
}

function notXml(format: "kml" | "gpx", why: string): FileRead {
  return {
    ok: false,
    status: 400,
    message: `not a well-formed ${format.toUpperCase()} document${why ? `: ${why}` : ""}`,
  };
}
