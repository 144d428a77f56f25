/**
 * Ending sessions and API tokens, and with them the WebSockets opened with them.
 *
 * A live WebSocket authenticates once, at the upgrade, so deleting a token from the store
 * alone leaves its streams running. `LiveRegistry` knows every open stream by the token it
 * was opened with and by its user; every route that ends a token (logout, revocation,
 * password change or reset, role change, user deletion) goes through the functions below,
 * which delete from the store first and then close the streams at once (code 4401), so
 * nothing waits for the live route's periodic recheck.
 *
 * What ends what:
 * - logout, `DELETE /tokens/:id`: that token.
 * - own password change: the user's other sessions (API tokens stay: scripts keep working).
 * - admin password reset: every session and API token of the user (the acting admin's own
 *   session survives when they reset themselves).
 * - role change: the user's other sessions; streams opened with an API token stay open, act
 *   with the user's new memberships at once (what they may see is decided per event) and are
 *   told the new role (a token acts with its user's current role).
 * - user deleted: everything of theirs.
 */
import type { Scope, TokenKind } from '@openbms/storage';
import type { ServerContext } from './context.js';
import type { Standing } from './auth.js';

/** WebSocket close code for a stream whose session or token has ended. */
export const CLOSE_SESSION_ENDED = 4401;

/** One open live stream, as the registry sees it. */
export interface LiveConnection {
  /** The user's id: names are unique only within an organisation. */
  readonly userId: string;
  readonly tokenId: string;
  /** Closes the stream (the reason is shown to the client). */
  close(code: number, reason: string): void;
  /**
   * The user's organisations or roles changed: the stream acts with these from now on (what
   * it may see is decided again for every event).
   */
  setMemberships(standing: Standing): void;
  /**
   * Reads the stream's principal again from the store now (its token, user and memberships)
   * and acts with it; closes the stream when the token or user is gone.
   */
  refresh(): Promise<void>;
}

/** The open live streams by token id; by user through their tokens. */
export class LiveRegistry {
  private readonly byToken = new Map<string, Set<LiveConnection>>();

  /** Registers a stream; call the returned function when it closes. */
  add(c: LiveConnection): () => void {
    let set = this.byToken.get(c.tokenId);
    if (!set) this.byToken.set(c.tokenId, (set = new Set()));
    set.add(c);
    return () => {
      const s = this.byToken.get(c.tokenId);
      if (!s) return;
      s.delete(c);
      if (s.size === 0) this.byToken.delete(c.tokenId);
    };
  }

  /** Closes the streams opened with these tokens; returns how many were closed. */
  closeTokens(tokenIds: Iterable<string>, reason: string): number {
    let n = 0;
    for (const id of tokenIds) {
      const set = this.byToken.get(id);
      if (!set) continue;
      this.byToken.delete(id);
      for (const c of set) {
        c.close(CLOSE_SESSION_ENDED, reason);
        n++;
      }
    }
    return n;
  }

  /** Closes every stream of a user, whatever token opened it. */
  closeUser(userId: string, reason: string): number {
    return this.closeTokens(this.tokensOf(userId), reason);
  }

  /** Tells the user's remaining streams their new organisations and roles. */
  setMemberships(userId: string, standing: Standing): void {
    for (const set of this.byToken.values()) {
      for (const c of set) if (c.userId === userId) c.setMemberships(standing);
    }
  }

  /**
   * Every stream of a user reads its principal again (after a change of their memberships in
   * an organisation other than their own, whose account the route does not hold); resolves
   * when all have.
   */
  async refreshUser(userId: string): Promise<void> {
    const all: Promise<void>[] = [];
    for (const set of this.byToken.values()) {
      for (const c of set) if (c.userId === userId) all.push(c.refresh());
    }
    await Promise.all(all);
  }

  private tokensOf(userId: string): string[] {
    const ids: string[] = [];
    for (const [id, set] of this.byToken) {
      for (const c of set) {
        if (c.userId === userId) {
          ids.push(id);
          break;
        }
      }
    }
    return ids;
  }
}

type Ctx = Pick<ServerContext, 'users' | 'live'>;

/** Ends one session or API token (logout, revocation) and its streams. */
export async function endToken(ctx: Ctx, tokenId: string, reason: string): Promise<void> {
  await ctx.users.deleteToken(tokenId);
  ctx.live.closeTokens([tokenId], reason);
}

/**
 * Ends a user's tokens (all, or of one kind) except `keep` (the caller's own, when the user
 * changes themselves), and closes the streams opened with them. `scope` is the user's
 * organisation. Returns how many tokens ended.
 */
export async function endUserTokens(
  ctx: Ctx,
  scope: Scope,
  username: string,
  opts: { kind?: TokenKind; keep?: string; reason: string },
): Promise<number> {
  const gone = await ctx.users.deleteUserTokens(scope, username, {
    ...(opts.kind !== undefined ? { kind: opts.kind } : {}),
    ...(opts.keep !== undefined ? { except: opts.keep } : {}),
  });
  ctx.live.closeTokens(gone, opts.reason);
  return gone.length;
}

/** A deleted user: whatever was still open of theirs closes (the store dropped the tokens). */
export function endUser(ctx: Ctx, userId: string): void {
  ctx.live.closeUser(userId, 'user deleted');
}
