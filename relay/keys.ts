/** Map ids and access keys: random, base64url, and only their SHA-256 hashes are stored. */
import { createHash, timingSafeEqual } from "node:crypto";

/** A source of random bytes, injectable so tests can be exact. */
export type RandomBytes = (length: number) => Uint8Array;

/** The default {@link RandomBytes}: the platform's CSPRNG. */
export const cryptoRandomBytes: RandomBytes = (length: number): Uint8Array =>
  crypto.getRandomValues(new Uint8Array(length));

/** Encodes bytes as unpadded base64url. */
export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A new public map id (96 random bits: unguessable enough to not be enumerable). */
export function newMapId(random: RandomBytes = cryptoRandomBytes): string {
  return base64url(random(12));
}

/** A new secret key (192 random bits). */
export function newKey(random: RandomBytes = cryptoRandomBytes): string {
  return base64url(random(24));
}

/** The SHA-256 of a key, as stored. */
export function hashKey(key: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(key, "utf8").digest());
}

/** Compares the hash of a presented key with a stored hash in constant time. */
export function hashMatches(presented: Uint8Array, hash: Uint8Array): boolean {
  return presented.length === hash.length && timingSafeEqual(presented, hash);
}

/** Is this a syntactically plausible map id (so junk never reaches the store)? */
export function isMapId(id: string): boolean {
  return /^[A-Za-z0-9_-]{8,64}$/.test(id);
}
