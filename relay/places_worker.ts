/** Entry point of the gazetteer's worker thread: the embedded places, loaded and indexed here. */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { parsePlaces, type PlaceIndex } from "./places.ts";
import {
  askPlaces,
  inProcessPlaces,
  type PlacesAnswer,
  type PlacesRequest,
} from "./places_thread.ts";

/**
 * The text scripts/build_places.ts wrote. The literal specifier keeps it in `deno compile`'s
 * module graph, so the binary carries the same bytes.
 */
async function loadEmbeddedPlaces(): Promise<PlaceIndex> {
  const { default: text } = await import("../public/dist/places.txt", {
    with: { type: "text" },
  });
  return parsePlaces(text);
}

/** Answers requests from the index, loaded on the first one (again after a failed load). */
function answerer(): (event: MessageEvent<PlacesRequest>) => Promise<void> {
  const places = inProcessPlaces(loadEmbeddedPlaces);
  return async ({ data: request }) => {
    let answer: PlacesAnswer;
    try {
      answer = { id: request.id, ok: true, places: await askPlaces(places, request) };
    } catch (err) {
      answer = { id: request.id, ok: false, error: String(err) };
    }
    self.postMessage(answer);
  };
}

self.onmessage = answerer();
