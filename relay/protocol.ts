/** The v1 wire protocol: one valibot schema per message, the TypeScript types inferred from them. */
import * as v from "valibot";
import { geometryProblem } from "./geometry.ts";
import type { Geometry } from "./geometry.ts";

export type { Geometry } from "./geometry.ts";

/** The subprotocol names accepted on `GET /ws/<id>`; `connect` is what older clients ask for. */
export const SUBPROTOCOLS = ["duplexmap.v1", "connect"] as const;

/** The header that names a fallback-transport session (docs/PROTOCOL.md section 7). */
export const SESSION_HEADER = "X-Duplex-Session";

/** WebSocket close codes used by the relay (see docs/PROTOCOL.md). */
export const CloseCode = {
  /** The server is shutting down. */
  GoingAway: 1001,
  /** The frame was binary or not JSON. */
  Unsupported: 1003,
  /** Bad key or unknown map, no hello in time, rate limit, fatal protocol error. */
  Policy: 1008,
  /** The frame was larger than the relay's limit. */
  TooLarge: 1009,
  /** An internal error (the store failed). */
  InternalError: 1011,
  /**
   * The map moved to another relay (or this relay stopped sequencing it): reconnect at once, with
   * `since`, and re-send pending edits (extension, issue 13; reason {@link MOVED_REASON}).
   */
  Moved: 1012,
  /** The peer's send buffer overflowed (it read too slowly), or the server is at capacity. */
  TryAgainLater: 1013,
} as const;

/** The reason of a {@link CloseCode.Moved} close. */
export const MOVED_REASON = "moved";

/**
 * The reason of the close (1008) and of the 404 for a wrong key or an unknown map, the same for
 * both so neither can be told from the other. A client takes only these exact words, from the
 * relay, as "this link is not valid"; a gateway's own policy close is retried like a dropped link.
 */
export const UNKNOWN_MAP_OR_KEY = "unknown map or key";

/** Limits the schema enforces; the room checks vertex counts and property sizes itself. */
export interface SchemaLimits {
  /** Longest feature id, in characters. @default 256 */
  maxFeatureIdLength: number;
  /** Most ops in one edit. @default 10_000 */
  maxOpsPerEdit: number;
}

/** The default {@link SchemaLimits}. */
export const DEFAULT_SCHEMA_LIMITS: SchemaLimits = {
  maxFeatureIdLength: 256,
  maxOpsPerEdit: 10_000,
};

const Lng = v.pipe(v.number(), v.finite(), v.minValue(-180), v.maxValue(180));
const Lat = v.pipe(v.number(), v.finite(), v.minValue(-90), v.maxValue(90));

/** `[lng, lat]`. */
export const LngLatSchema = v.tuple([Lng, Lat]);

/** `[west, south, east, north]`; west may exceed east across the antimeridian. */
export const BBoxSchema = v.pipe(
  v.tuple([Lng, Lat, Lng, Lat]),
  v.check((b) => b[1] <= b[3], "bbox south must not be greater than north"),
);

/** A GeoJSON geometry (RFC 7946), checked by hand for speed and precise messages. */
export const GeometrySchema = v.custom<Geometry>(
  (input) => geometryIssue(input) === null,
  (issue) => geometryIssue(issue.input) ?? "invalid geometry",
);

/**
 * What is wrong with a geometry a client sends, or `null`: its shape ({@link geometryProblem}) and
 * the nesting of its foreign members. The client checks imported files with it too.
 */
export function geometryIssue(input: unknown): string | null {
  return geometryProblem(input) ??
    foreignMembersProblem(input as Record<string, unknown>);
}

const Color = v.pipe(
  v.string(),
  v.hexColor("color must be #rrggbb"),
  v.length(7, "color must be #rrggbb"),
);
const PeerName = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(64));
const EditIdSchema = v.union([
  v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  v.pipe(v.number(), v.safeInteger()),
], "edit id must be a string of 1-128 characters or an integer");

/**
 * How deeply objects and arrays may nest in a feature's properties, the properties object itself
 * counting as level 1. Real attribute tables are flat; the cap keeps every later walk of the
 * value (JSON.stringify, structured clone, the client's renderer) far from the stack limit.
 */
export const MAX_PROPERTY_DEPTH = 32;

/**
 * Says what is wrong with a would-be properties object, or `null` when it is a JSON object whose
 * values nest at most {@link MAX_PROPERTY_DEPTH} levels. Walks iteratively, so no input can
 * overflow the stack here; it runs on every edit, so it allocates only its own stack.
 *
 * @example
 * ```ts
 * import { propertiesProblem } from "./protocol.ts";
 * propertiesProblem({ name: "Paris" }); // null
 * propertiesProblem([1]); // "properties must be a JSON object"
 * ```
 */
export function propertiesProblem(input: unknown): string | null {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return "properties must be a JSON object";
  }
  return nestedTooDeep(input, 1)
    ? `properties are nested more than ${MAX_PROPERTY_DEPTH} levels deep`
    : null;
}

/** Do objects and arrays in `root` (itself at level `level`) nest past MAX_PROPERTY_DEPTH? */
function nestedTooDeep(root: object, level: number): boolean {
  const values: object[] = [root];
  const depths: number[] = [level];
  while (values.length > 0) {
    const value = values.pop()!;
    const depth = depths.pop()! + 1;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const child = value[i];
        if (typeof child !== "object" || child === null) continue;
        if (depth > MAX_PROPERTY_DEPTH) return true;
        values.push(child);
        depths.push(depth);
      }
      continue;
    }
    // `for...in` over JSON.parse output visits exactly the own keys, `__proto__` included.
    const record = value as Record<string, unknown>;
    for (const key in record) {
      const child = record[key];
      if (typeof child !== "object" || child === null) continue;
      if (depth > MAX_PROPERTY_DEPTH) return true;
      values.push(child);
      depths.push(depth);
    }
  }
  return false;
}

/**
 * Checks the foreign members of a valid geometry (RFC 7946 allows e.g. `bbox`), which pass through
 * to every peer: they may nest no deeper than properties. Coordinates are already checked.
 */
function foreignMembersProblem(geometry: Record<string, unknown>): string | null {
  for (const key in geometry) {
    if (key === "type" || key === "coordinates") continue;
    const value = geometry[key];
    if (key === "geometries" && geometry.type === "GeometryCollection") {
      // Valid, so an array of geometries nested at most 4 deep: this recursion is bounded.
      for (const child of value as Record<string, unknown>[]) {
        const problem = foreignMembersProblem(child);
        if (problem) return problem;
      }
    } else if (typeof value === "object" && value !== null && nestedTooDeep(value, 1)) {
      return `geometry member ${
        JSON.stringify(key.slice(0, 40))
      } is nested more than ${MAX_PROPERTY_DEPTH} levels deep`;
    }
  }
  return null;
}

// Checked by hand rather than with `v.record`: that would accept an array (turning it into an
// object with index keys), and it silently drops the keys `__proto__`, `constructor` and
// `prototype`, which are ordinary attribute names in a data file. The value passes through as
// parsed, so such keys stay own data properties and nothing is copied.
const Properties = v.custom<Record<string, unknown>>(
  (x) => propertiesProblem(x) === null,
  (issue) => propertiesProblem(issue.input) ?? "properties must be a JSON object",
);
const PropertyKey = v.pipe(v.string(), v.maxLength(1024));

// What the relay sends is checked for shape only: the depth caps limit what it accepts, and a map
// stored before them (or by an older relay) must still open in every client.
const StoredProperties = v.custom<Record<string, unknown>>(
  (x) => typeof x === "object" && x !== null && !Array.isArray(x),
  "properties must be a JSON object",
);
const StoredGeometry = v.custom<Geometry>(
  (input) => geometryProblem(input) === null,
  (issue) => geometryProblem(issue.input) ?? "invalid geometry",
);

const COMMENT_OPS_MESSAGE = "comment op must be one of add, reply, resolve, edit, delete";

/** Longest comment text, in characters after trimming (extension: comments). */
export const MAX_COMMENT_CHARS = 2000;

/** A client's id for one comment request, echoed in the `comment` or `comment_refused` answer. */
export const CommentRefSchema = v.pipe(
  v.string("comment ref must be a string"),
  v.minLength(1, "comment ref must not be empty"),
  v.maxLength(128, "comment ref is longer than 128"),
);
const CommentId = v.pipe(
  v.string("thread must be a comment id"),
  v.minLength(1, "thread must not be empty"),
  v.maxLength(64, "thread is longer than 64"),
);
const CommentOwnId = v.pipe(
  v.string("id must be a comment id"),
  v.minLength(1, "id must not be empty"),
  v.maxLength(64, "id is longer than 64"),
);
const CommentText = v.pipe(
  v.string("text must be a string"),
  v.trim(),
  v.minLength(1, "text must not be empty"),
  v.maxLength(MAX_COMMENT_CHARS, `text is longer than ${MAX_COMMENT_CHARS} characters`),
);
const AnchorMessage = 'anchor must be {"at": [lng, lat]} or {"fid": "<feature id>"}';
const CommentAnchor = v.union([
  v.strictObject({ at: LngLatSchema }),
  v.strictObject({
    fid: v.pipe(v.string(), v.minLength(1), v.maxLength(DEFAULT_SCHEMA_LIMITS.maxFeatureIdLength)),
  }),
], AnchorMessage);

/**
 * Extension: a `comment` request. `add` starts a thread pinned to a place or a feature, `reply`
 * answers one, `resolve` resolves (`true`) or reopens (`false`) one, `edit` changes the text of a
 * comment this browser wrote, `delete` removes one (a root with its thread). `ref` is the client's
 * id for the request, echoed in the answer.
 */
export const CommentRequestSchema = v.variant("op", [
  v.object({
    type: v.literal("comment"),
    ref: CommentRefSchema,
    op: v.literal("add"),
    text: CommentText,
    anchor: CommentAnchor,
  }),
  v.object({
    type: v.literal("comment"),
    ref: CommentRefSchema,
    op: v.literal("reply"),
    thread: CommentId,
    text: CommentText,
  }),
  v.object({
    type: v.literal("comment"),
    ref: CommentRefSchema,
    op: v.literal("resolve"),
    thread: CommentId,
    resolved: v.boolean("resolved must be true or false"),
  }),
  v.object({
    type: v.literal("comment"),
    ref: CommentRefSchema,
    op: v.literal("edit"),
    id: CommentOwnId,
    text: CommentText,
  }),
  v.object({
    type: v.literal("comment"),
    ref: CommentRefSchema,
    op: v.literal("delete"),
    id: CommentOwnId,
  }),
], COMMENT_OPS_MESSAGE);

/**
 * Builds the schema of one edit op (and of a feature in it), for the given limits: as a client may
 * send it (`inbound`, depth-capped), or as the relay sends and stores it.
 */
function createOpSchema(limits: SchemaLimits, inbound = true) {
  const Props = inbound ? Properties : StoredProperties;
  const Geom = inbound ? GeometrySchema : StoredGeometry;
  const FeatureId = v.pipe(
    v.string("feature id must be a string"),
    v.minLength(1, "feature id must not be empty"),
    v.maxLength(
      limits.maxFeatureIdLength,
      `feature id is longer than ${limits.maxFeatureIdLength}`,
    ),
  );
  const Feature = v.object({
    type: v.literal("Feature"),
    id: FeatureId,
    // Extension: `null` for a feature without geometry (RFC 7946 3.2), e.g. an attribute-only row.
    geometry: v.nullable(Geom),
    // Normalised to an object so the echo, the snapshot and every client agree byte for byte.
    properties: v.optional(v.nullable(Props, () => ({})), () => ({})),
  });
  const Op = v.variant("op", [
    v.object({ op: v.literal("put"), feature: Feature }),
    v.object({ op: v.literal("geom"), fid: FeatureId, geometry: GeometrySchema }),
    v.object({
      op: v.literal("props"),
      fid: FeatureId,
      set: Props,
      unset: v.optional(v.array(PropertyKey)),
    }),
    v.object({ op: v.literal("del"), fid: FeatureId }),
  ], "op must be one of put, geom, props, del");
  return Op;
}

/** Longest `label` an edit may carry, in characters. */
export const MAX_EDIT_LABEL = 200;
const EditLabelSchema = v.pipe(
  v.string("label must be a string"),
  v.maxLength(MAX_EDIT_LABEL, `label may be at most ${MAX_EDIT_LABEL} characters`),
);

/**
 * Extension: a browser's author key in `hello`: a secret it makes once and keeps, 16-128 letters,
 * digits, `-` or `_`. The relay never sends it: comments carry a public id derived from it.
 */
export const AuthorKeySchema = v.pipe(
  v.string("author must be a string"),
  v.regex(/^[A-Za-z0-9_-]{16,128}$/, "author must be 16-128 letters, digits, - or _"),
);

/** Builds the schema for everything a client may send, for the given limits. */
export function createClientMessageSchema(limits: SchemaLimits = DEFAULT_SCHEMA_LIMITS) {
  const Op = createOpSchema(limits);
  return v.variant("type", [
    v.object({
      type: v.literal("hello"),
      key: v.pipe(v.string(), v.maxLength(256)),
      name: PeerName,
      color: Color,
      since: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0))),
      // Extension: the epoch `since` was seen under (from `welcome`); see docs/PROTOCOL.md.
      epoch: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
      client: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
      // Extension: this client understands comments (`comment` frames, `welcome.comments`).
      comments: v.optional(v.boolean()),
      // Extension: this browser's secret author key, which makes its comments its own.
      author: v.optional(AuthorKeySchema),
      // Extension: the last `commentsAt` this client saw: its welcome then carries only changes.
      commentsAt: v.optional(v.pipe(v.string(), v.maxLength(64))),
    }),
    v.object({
      type: v.literal("view"),
      bbox: BBoxSchema,
      zoom: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(30)),
    }),
    v.object({ type: v.literal("cursor"), at: v.nullable(LngLatSchema) }),
    v.object({
      type: v.literal("edit"),
      id: EditIdSchema,
      ops: v.pipe(
        v.array(Op),
        v.minLength(1, "an edit needs at least one op"),
        v.maxLength(limits.maxOpsPerEdit, `an edit may hold at most ${limits.maxOpsPerEdit} ops`),
      ),
      // Extension: words for the history ("Restored version 'X'"), kept and echoed as sent.
      label: v.optional(EditLabelSchema),
    }),
    // `1e999` parses as Infinity, which the pong could only echo as `null`.
    v.object({
      type: v.literal("ping"),
      t: v.optional(v.union([v.pipe(v.number(), v.finite()), v.string()])),
    }),
    // Extension: a new name or colour for this peer, without reconnecting.
    v.object({ type: v.literal("profile"), name: PeerName, color: Color }),
    // Extension: add, reply to or resolve a comment (relay/comments.ts).
    CommentRequestSchema,
  ], "type must be one of hello, view, cursor, edit, ping, profile, comment");
}

/** The schema for a client message with the default limits. */
export const ClientMessageSchema = createClientMessageSchema();
/** Anything a client may send. */
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;
/** The first message on a connection. */
export type HelloMessage = Extract<ClientMessage, { type: "hello" }>;
/** A peer's viewport. */
export type ViewMessage = Extract<ClientMessage, { type: "view" }>;
/** A peer's pointer. */
export type CursorMessage = Extract<ClientMessage, { type: "cursor" }>;
/** A change to the map. */
export type EditMessage = Extract<ClientMessage, { type: "edit" }>;
/** One operation of an edit. */
export type EditOp = EditMessage["ops"][number];
/** A GeoJSON feature as edits carry it. */
export type Feature = Extract<EditOp, { op: "put" }>["feature"];
/** A client's id for its edit. */
export type EditId = EditMessage["id"];

/** A feature as the relay stores and sends it (see {@link StoredFeatureSchema}). */
export type StoredFeature = v.InferOutput<typeof StoredFeatureSchema>;

/** The result of reading one inbound frame: messages in order, or why the frame is unusable. */
export type FrameResult =
  | { ok: true; items: FrameItem[] }
  | { ok: false; error: string };

/** One message of a frame; an invalid edit keeps its id so it can be answered with `rejected`. */
export type FrameItem =
  | { ok: true; message: ClientMessage }
  | { ok: false; error: string; edit?: { id: EditId; code: RejectCode }; comment?: string };

/** The default frame limit (`--max-frame-bytes`); clients learn the actual one from `/api/config`. */
export const DEFAULT_MAX_FRAME_BYTES = 4 << 20;

/** Would `text` take more than `max` bytes as UTF-8? Encodes only when the length cannot tell. */
export function utf8Exceeds(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return new TextEncoder().encode(text).length > max;
}

/** Parses one text frame: a message object or an array of them, each validated on its own. */
export function parseFrame(
  text: string,
  schema: ReturnType<typeof createClientMessageSchema>,
): FrameResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "frame is not valid JSON" };
  }
  const list = Array.isArray(json) ? json : [json];
  return {
    ok: true,
    items: list.map((item) => {
      // The variant would first try the `type` of every option before this one, and build an
      // issue for each that does not match; the option itself gives the same output. A message it
      // refuses goes through the variant, so every error reads as before.
      const option = optionFor(schema, item);
      const direct = option && v.safeParse(option, item);
      if (direct?.success) return { ok: true, message: direct.output };
      const result = v.safeParse(schema, item);
      if (result.success) return { ok: true, message: result.output };
      const error = describeIssue(result.issues[0]);
      const ref = commentRefOf(item);
      if (ref !== undefined) {
        // The nested variant reports an unknown op with the outer message; say what is meant.
        const badOp = result.issues[0].path?.length === 1 && result.issues[0].path[0].key === "op";
        return { ok: false, error: badOp ? `op: ${COMMENT_OPS_MESSAGE}` : error, comment: ref };
      }
      const id = editIdOf(item);
      if (id === undefined) return { ok: false, error };
      const geometry = result.issues[0].path?.some((p) => p.key === "geometry") ?? false;
      return {
        ok: false,
        error,
        edit: { id, code: geometry ? "invalid_geometry" : "invalid_edit" },
      };
    }),
  };
}

/** The plain object option of `schema` whose `type` is `item`'s, if any (not a nested variant). */
function optionFor(schema: ReturnType<typeof createClientMessageSchema>, item: unknown) {
  if (typeof item !== "object" || item === null || !("type" in item)) return undefined;
  const type = item.type;
  if (typeof type !== "string") return undefined;
  for (const option of schema.options) {
    if (option.type === "object" && option.entries.type.literal === type) return option;
  }
  return undefined;
}

function editIdOf(item: unknown): EditId | undefined {
  if (typeof item !== "object" || item === null || !("type" in item) || item.type !== "edit") {
    return undefined;
  }
  const id = "id" in item ? item.id : undefined;
  return v.is(EditIdSchema, id) ? id : undefined;
}

function commentRefOf(item: unknown): string | undefined {
  if (typeof item !== "object" || item === null || !("type" in item) || item.type !== "comment") {
    return undefined;
  }
  const ref = "ref" in item ? item.ref : undefined;
  return v.is(CommentRefSchema, ref) ? ref : undefined;
}

function describeIssue(issue: v.BaseIssue<unknown>): string {
  // Path keys are property names and indexes; anything else is named by its type, never
  // converted (an object with an own `toString` that is not a function would throw).
  const path = issue.path?.map((p) =>
    typeof p.key === "string" || typeof p.key === "number" ? String(p.key) : typeof p.key
  ).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

const RoleSchema = v.picklist(["editor", "viewer"]);
/** A peer's role: what its key allows. */
export type Role = v.InferOutput<typeof RoleSchema>;

/** Why an edit was not applied. */
export const RejectCodeSchema = v.picklist([
  "forbidden",
  "unknown_feature",
  "invalid_geometry",
  "invalid_edit",
  "too_large",
  "too_many_features",
  "rate_limited",
  "duplicate",
]);
/** Why an edit was rejected. */
export type RejectCode = v.InferOutput<typeof RejectCodeSchema>;

/** Why a frame was refused. */
export const ErrorCodeSchema = v.picklist([
  "bad_json",
  "bad_message",
  "hello_required",
  "already_joined",
  "rate_limited",
  "internal",
]);
/** What an `error` message reports. */
export type ErrorCode = v.InferOutput<typeof ErrorCodeSchema>;

const ViewState = v.object({ bbox: BBoxSchema, zoom: v.number() });

/** Everything the relay tells peers about one another. */
export const PeerInfoSchema = v.object({
  peer: v.string(),
  name: v.string(),
  color: v.string(),
  role: RoleSchema,
  view: v.optional(ViewState),
  cursor: v.optional(v.nullable(LngLatSchema)),
});
/** A peer as others see it. */
export type PeerInfo = v.InferOutput<typeof PeerInfoSchema>;

/**
 * Extension: who last changed a feature and when (a foreign member, never a property). `by` is the
 * author's name, `color` their colour, `at` the relay's clock in ms since 1970.
 */
export const FeatureMetaSchema = v.object({ by: v.string(), color: v.string(), at: v.number() });
/** Who last changed a feature and when (see {@link FeatureMetaSchema}). */
export type FeatureMeta = v.InferOutput<typeof FeatureMetaSchema>;

/** A feature as the relay stores and sends it: `properties` always an object. */
export const StoredFeatureSchema = v.object({
  type: v.literal("Feature"),
  id: v.string(),
  geometry: v.nullable(StoredGeometry),
  properties: StoredProperties,
  meta: v.optional(FeatureMetaSchema),
});

/** An accepted edit as it travels to clients and sits in the journal. */
export const EditFrameSchema = v.object({
  type: v.literal("edit"),
  seq: v.number(),
  by: v.string(),
  id: EditIdSchema,
  ops: v.array(createOpSchema(DEFAULT_SCHEMA_LIMITS, false)),
  /** Extension: the author's name and colour, and when the relay accepted it (ms). */
  name: v.optional(v.string()),
  color: v.optional(v.string()),
  at: v.optional(v.number()),
  /** Extension: the edit's label, as its author sent it. */
  label: v.optional(v.string()),
});
/** An accepted edit as broadcast and journaled. */
export type EditFrame = v.InferOutput<typeof EditFrameSchema>;

/** Extension: where a comment thread is pinned: a place, or a feature (roots only). */
export const CommentAnchorSchema = v.union([
  v.object({ at: LngLatSchema }),
  v.object({ fid: v.string() }),
]);
/** Where a comment thread is pinned. */
export type CommentAnchor = v.InferOutput<typeof CommentAnchorSchema>;

/**
 * Extension: one comment as the relay stores and sends it. `thread` is the root's id (its own for a
 * root); `resolved` and `anchor` are on roots only; `created` is the relay's clock (ms).
 */
export const CommentSchema = v.object({
  id: v.string(),
  thread: v.string(),
  text: v.string(),
  name: v.string(),
  color: v.string(),
  created: v.number(),
  resolved: v.optional(v.boolean()),
  anchor: v.optional(CommentAnchorSchema),
  /** The public id of the browser that wrote it (see `welcome.you.author`), when it sent a key. */
  author: v.optional(v.string()),
  /** When its text was last edited (the relay's clock, ms). */
  edited: v.optional(v.number()),
  /** Deleted: its text is gone, and a deleted root takes its thread with it. */
  deleted: v.optional(v.literal(true)),
});
/** One comment (see {@link CommentSchema}). */
export type Comment = v.InferOutput<typeof CommentSchema>;

/** Extension: a map's settings, changed with the edit key (`PATCH .../settings`). */
export const MapSettingsSchema = v.object({ viewersMayComment: v.boolean() });
/** A map's settings. */
export type MapSettings = v.InferOutput<typeof MapSettingsSchema>;

/** Why a comment request was refused (`comment_refused.code`). */
export const CommentRefusalSchema = v.picklist([
  "forbidden",
  "invalid_comment",
  "unknown_thread",
  "unknown_comment",
  "unknown_feature",
  "too_many_comments",
  "rate_limited",
]);
/** Why a comment request was refused. */
export type CommentRefusal = v.InferOutput<typeof CommentRefusalSchema>;

/**
 * Everything the server sends. Objects are not strict, so a client validating with this schema
 * keeps working when a later relay adds fields.
 */
export const ServerMessageSchema = v.variant("type", [
  v.object({
    type: v.literal("welcome"),
    you: v.object({
      peer: v.string(),
      name: v.string(),
      color: v.string(),
      role: RoleSchema,
      /** Extension: this browser's public author id, when its `hello` carried an author key. */
      author: v.optional(v.string()),
    }),
    peers: v.array(PeerInfoSchema),
    seq: v.number(),
    /** The epoch of the map's history that `seq` counts in: send it back with `since`. */
    epoch: v.optional(v.string()),
    map: v.optional(v.object({ id: v.string(), title: v.string() })),
    features: v.optional(
      v.object({ type: v.literal("FeatureCollection"), features: v.array(StoredFeatureSchema) }),
    ),
    ops: v.optional(v.array(EditFrameSchema)),
    /** Extension, to clients that said `comments` in hello: the map's comments, oldest first. */
    comments: v.optional(v.array(CommentSchema)),
    /**
     * Extension: instead of `comments`, to a client whose `hello.commentsAt` the relay could catch
     * up: what changed since, in order (apply as `comment` frames).
     */
    commentsChanged: v.optional(v.array(CommentSchema)),
    /** Extension: where the comments stand now; send it back in `hello.commentsAt`. */
    commentsAt: v.optional(v.string()),
    settings: v.optional(MapSettingsSchema),
  }),
  v.object({
    type: v.literal("joined"),
    peer: v.string(),
    name: v.string(),
    color: v.string(),
    role: RoleSchema,
  }),
  v.object({ type: v.literal("left"), peer: v.string() }),
  v.object({ type: v.literal("view"), peer: v.string(), bbox: BBoxSchema, zoom: v.number() }),
  v.object({ type: v.literal("cursor"), peer: v.string(), at: v.nullable(LngLatSchema) }),
  EditFrameSchema,
  v.object({
    type: v.literal("rejected"),
    id: EditIdSchema,
    code: RejectCodeSchema,
    message: v.string(),
  }),
  v.object({ type: v.literal("error"), code: ErrorCodeSchema, message: v.string() }),
  v.object({ type: v.literal("pong"), t: v.optional(v.union([v.number(), v.string()])) }),
  // Extension: a comment added, replied, resolved, edited or deleted (its record as it now is),
  // where the comments stand after it, and a refusal.
  v.object({
    type: v.literal("comment"),
    by: v.string(),
    ref: v.optional(v.string()),
    comment: CommentSchema,
    commentsAt: v.optional(v.string()),
  }),
  v.object({
    type: v.literal("comment_refused"),
    ref: v.string(),
    code: CommentRefusalSchema,
    message: v.string(),
  }),
  v.object({ type: v.literal("settings"), viewersMayComment: v.boolean() }),
]);
/** Any message the relay sends. */
export type ServerMessage = v.InferOutput<typeof ServerMessageSchema>;
