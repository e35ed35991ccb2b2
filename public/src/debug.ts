/** The shape of `window.duplex`, the map page's test hook: only a relay run with `--test-hooks` serves it. */
import type { EditOp, PeerInfo, StoredFeature } from "../../relay/protocol.ts";
import type { LayerKind } from "./feature_layers.ts";
import type { EditOutcome, SessionStatus } from "./session.ts";

/** What tests can reach as `window.duplex` on a page from a relay run with `--test-hooks`. */
export interface DebugHandle {
  status(): SessionStatus;
  you(): { peer: string; name: string; color: string; role: string } | null;
  features(): StoredFeature[];
  feature(fid: string): StoredFeature | null;
  featureCount(): number;
  pendingCount(): number;
  /** How many unsent edits of this map are kept in IndexedDB for the next visit. */
  storedUnsent(): Promise<number>;
  seq(): number;
  editLog(): { seq: number; id: string | number; by: string }[];
  peers(): PeerInfo[];
  following(): string | null;
  selected(): string | null;
  view(): {
    center: [number, number];
    zoom: number;
    bbox: [number, number, number, number];
  };
  /** Moves the map to `[lng, lat]` at `zoom`, without animation. */
  setView(center: [number, number], zoom: number): void;
  sendEdit(ops: EditOp[]): Promise<EditOutcome>;
  select(fid: string | null): void;
  /** How a feature is drawn: the kind of Leaflet layer that shows it, or null if none does. */
  layerKind(fid: string): LayerKind | null;
  /** The fids whose name labels are on the map now (after decluttering). */
  labels?(): string[];
  /** Where `[lng, lat]` is on the page now, in CSS pixels from the viewport's top left. */
  pagePoint(at: [number, number]): { x: number; y: number };
}

declare global {
  /** The map page's handle for tests (set once the page has started, on a `--test-hooks` relay). */
  var duplex: DebugHandle | undefined;
}

export {};
