/** Who this browser is: the remembered name and colour, and a stable id per tab. */
import * as v from "valibot";
import { AuthorKeySchema } from "../../relay/protocol.ts";

/** A name and colour, as people see them. */
export interface Identity {
  name: string;
  color: string;
}

/** Colours offered in the picker, readable on the light basemap. */
export const PALETTE = [
  "#e11d48",
  "#ea580c",
  "#ca8a04",
  "#16a34a",
  "#0891b2",
  "#2563eb",
  "#7c3aed",
  "#c026d3",
];

const IDENTITY_KEY = "duplexmap.identity";
const CLIENT_KEY = "duplexmap.client";
const AUTHOR_KEY = "duplexmap.author";

/** The remembered identity, if any. */
export function loadIdentity(storage: Storage): Identity | null {
  try {
    const value: unknown = JSON.parse(storage.getItem(IDENTITY_KEY) ?? "null");
    if (typeof value !== "object" || value === null) return null;
    const name = "name" in value && typeof value.name === "string" ? value.name.trim() : "";
    const color = "color" in value && typeof value.color === "string" ? value.color : "";
    if (!name || !/^#[0-9a-f]{6}$/i.test(color)) return null;
    return { name: name.slice(0, 64), color: color.toLowerCase() };
  } catch {
    return null;
  }
}

/** Remembers an identity for the next visit. */
export function saveIdentity(storage: Storage, identity: Identity): void {
  storage.setItem(IDENTITY_KEY, JSON.stringify(identity));
}

/** A random id, in base 36. */
export function randomId(length = 12): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => (b % 36).toString(36)).join("");
}

/** Makes this tab speak for another client id from now on (it took over that client's unsent edits). */
export function adoptTabClientId(storage: Storage, id: string): void {
  storage.setItem(CLIENT_KEY, id);
}

/** This tab's client id: kept in sessionStorage, so a reload keeps it and another tab gets its own. */
export function tabClientId(storage: Storage): string {
  const existing = storage.getItem(CLIENT_KEY);
  if (existing && /^[a-z0-9]{8,32}$/.test(existing)) return existing;
  const id = randomId();
  storage.setItem(CLIENT_KEY, id);
  return id;
}

/**
 * This browser's author key: a secret made once and kept in localStorage (every tab and map of
 * this browser shares it), sent in `hello` as `author`. The relay marks the comments it writes
 * with a public id derived from it, and lets only this browser edit them.
 */
export function browserAuthorKey(storage: Storage): string {
  const existing = storage.getItem(AUTHOR_KEY);
  if (existing && v.is(AuthorKeySchema, existing)) return existing;
  const key = randomId(32);
  storage.setItem(AUTHOR_KEY, key);
  return key;
}
