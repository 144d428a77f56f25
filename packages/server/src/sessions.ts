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
 * - role change: the user's other sessions; streams opened with an API token stay open and
 *   are told the new role (a token acts with its user's current role).
 * - user deleted: everything of theirs.
 */
import type { Role, TokenKind } from '@openbms/storage';
import type { ServerContext } from './context.js';

/** WebSocket close code for a stream whose session or token has ended. */
export const CLOSE_SESSION_ENDED = 4401;

/** One open live stream, as the registry sees it. */
export interface LiveConnection {
  readonly username: string;
  readonly tokenId: string;
  /** Closes the stream (the reason is shown to the client). */
  close(code: number, reason: string): void;
  /** The user's role changed; the stream acts with the new one from now on. */
  setRole(role: Role): void;
}

/** The open live streams by token id; by user name through their tokens. */
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
  closeUser(username: string, reason: string): number {
    return this.closeTokens(this.tokensOf(username), reason);
  }

  /** Tells the user's remaining streams their new role. */
  setRole(username: string, role: Role): void {
    for (const set of this.byToken.values()) {
      for (const c of set) if (c.username === username) c.setRole(role);
    }
  }

  private tokensOf(username: string): string[] {
    const ids: string[] = [];
    for (const [id, set] of this.byToken) {
      for (const c of set) {
        if (c.username === username) {
          ids.push(id);
          break;
        }
      }
    }
    return ids;
  }
}

type Ctx = Pick<ServerContext, 'users' | 'live' | 'scope'>;

/** Ends one session or API token (logout, revocation) and its streams. */
export async function endToken(ctx: Ctx, tokenId: string, reason: string): Promise<void> {
  await ctx.users.deleteToken(tokenId);
  ctx.live.closeTokens([tokenId], reason);
}

/**
 * Ends a user's tokens (all, or of one kind) except `keep` (the caller's own, when the user
 * changes themselves), and closes the streams opened with them. Returns how many tokens ended.
 */
export async function endUserTokens(
  ctx: Ctx,
  username: string,
  opts: { kind?: TokenKind; keep?: string; reason: string },
): Promise<number> {
  const gone = await ctx.users.deleteUserTokens(ctx.scope, username, {
    ...(opts.kind !== undefined ? { kind: opts.kind } : {}),
    ...(opts.keep !== undefined ? { except: opts.keep } : {}),
  });
  ctx.live.closeTokens(gone, opts.reason);
  return gone.length;
}

/** A deleted user: whatever was still open of theirs closes (the store dropped the tokens). */
export function endUser(ctx: Ctx, username: string): void {
  ctx.live.closeUser(username, 'user deleted');
}
