/** One connection's comment requests: who may comment, its rate, the answer or the refusal. */
import type { CommentResult } from "./comments.ts";
import type { ConnectionHost } from "./connection_host.ts";
import type { Peer } from "./peer.ts";
import type { ClientMessage, CommentRefusal } from "./protocol.ts";
import type { Room } from "./room.ts";
import { TokenBucket } from "./token_bucket.ts";

/** A `comment` request as the schema let it through. */
export type CommentRequest = Extract<ClientMessage, { type: "comment" }>;

/** How many comment requests a connection may send at once before `--comment-rate` applies. */
const COMMENT_BURST = 10;

/** The `comment_refused` frame: not an edit's `rejected`, so no client can take one for the other. */
export function commentRefused(ref: string, code: CommentRefusal, message: string): string {
  return JSON.stringify({ type: "comment_refused", ref, code, message });
}

/**
 * Handles the comment requests of one connection. An accepted request changes the map's comments
 * and queues the `comment` frame on every peer that understands comments, after this turn's
 * commit; a refused one is answered to its sender alone.
 */
export class CommentRequests {
  #host: ConnectionHost;
  #bucket: TokenBucket;

  /** The requests of one connection on `host`. */
  constructor(host: ConnectionHost) {
    this.#host = host;
    const { commentRate } = host.limits;
    this.#bucket = new TokenBucket({
      rate: commentRate / 60,
      burst: Math.min(COMMENT_BURST, commentRate),
      now: host.now,
    });
  }

  /** Answers `msg` from `peer` on `room`; `reply` sends to this connection alone. */
  handle(room: Room, peer: Peer, msg: CommentRequest, reply: (text: string) => void): void {
    const refuse = (code: CommentRefusal, message: string) => {
      this.#host.metrics.rejections.inc(`comment_${code}`);
      reply(commentRefused(msg.ref, code, message));
    };
    const comments = room.comments;
    if (!peer.comments) {
      // It would never see the answer (nor anyone's comments): say what it must do instead.
      refuse("invalid_comment", 'say "comments": true in hello to use comments');
      return;
    }
    if (peer.role !== "editor" && !comments.settings.viewersMayComment) {
      refuse(
        "forbidden",
        "this link is view-only and the map's owner has not allowed viewers to comment",
      );
      return;
    }
    if (!this.#bucket.take()) {
      refuse("rate_limited", "too many comments; wait a little and send it again");
      return;
    }
    const at = this.#host.now();
    const author = {
      name: peer.name,
      color: peer.color,
      at,
      ...(peer.author === undefined ? {} : { author: peer.author }),
    };
    let result: CommentResult;
    if (msg.op === "add") {
      if ("fid" in msg.anchor && !room.feature(msg.anchor.fid)) {
        refuse(
          "unknown_feature",
          `there is no feature ${JSON.stringify(msg.anchor.fid.slice(0, 64))} on this map`,
        );
        return;
      }
      result = comments.add(msg.text, msg.anchor, author);
    } else if (msg.op === "reply") {
      result = comments.reply(msg.thread, msg.text, author);
    } else if (msg.op === "resolve") {
      result = comments.resolve(msg.thread, msg.resolved);
    } else {
      const actor = { author: peer.author, editor: peer.role === "editor", at };
      result = msg.op === "edit"
        ? comments.edit(msg.id, msg.text, actor)
        : comments.delete(msg.id, actor);
    }
    if (!result.ok) {
      refuse(result.code, result.message);
      return;
    }
    const frame = JSON.stringify({
      type: "comment",
      by: peer.id,
      ref: msg.ref,
      comment: result.comment,
      commentsAt: comments.at,
    });
    // Nothing to store or tell the others: answered like a refusal, in order and at once (a frame
    // waiting for a commit that nothing asks for would hold this peer's frames on a quiet map).
    if (result.unchanged) {
      reply(frame);
      return;
    }
    room.broadcastComment(frame, this.#host.durability.next);
    this.#host.touch(room);
  }
}
