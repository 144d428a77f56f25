/**
 * The login's graphic captcha (seed 002's EMS login; issue 14): challenges drawn by
 * `svg-captcha`, their answers kept here hashed, for two minutes, single use; and the counts
 * of failed logins that decide when the login asks for one (`accounts.captcha`).
 *
 * Memory stays bounded: at most `maxOutstanding` challenges are kept (expired ones are dropped
 * first, then the oldest), and the failure counts are FailureLimiters (bounded too).
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import svgCaptcha from 'svg-captcha';
import { FailureLimiter } from './rate-limit.js';

export type CaptchaMode = 'always' | 'after_failures' | 'off';

export interface CaptchaOptions {
  /** always: every login; after_failures (default): after `after` failures; off: never. */
  mode?: CaptchaMode;
  /** Failed logins (per login name, or per client address) before one is asked. Default 3. */
  after?: number;
  /** How long the failures are counted, ms (default 15 min). */
  windowMs?: number;
  /** Lifetime of a challenge, ms (default 2 min). */
  ttlMs?: number;
  /** Challenges kept at once (default 10,000). */
  maxOutstanding?: number;
  /** Challenges one client address may fetch per minute (default 30). */
  perAddressPerMinute?: number;
  /**
   * TEST ONLY: called with each new challenge's id and answer, so a browser test can type it.
   * It is an in-process option of buildServer that only a test harness passes: no config key,
   * environment variable or request can set it, and `openbms start` never does.
   */
  revealAnswerForTests?: (id: string, answer: string) => void;
}

/** Letters and digits that no one mistakes for one another (no 0/O, 1/I/l, 2/Z, 5/S, 8/B). */
const ALPHABET = 'ACDEFGHJKLMNPQRTUVWXY34679';
const LENGTH = 4;

// svg-captcha's default export draws a given text (its typings name only create()); the text
// comes from node:crypto here, not from the library's Math.random.
const draw = svgCaptcha as unknown as (
  text: string,
  opts: { width: number; height: number; noise: number; color: boolean; background: string },
) => string;

interface Pending {
  hash: Buffer;
  expiresAt: number;
}

export class Captchas {
  readonly mode: CaptchaMode;
  readonly after: number;
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly pending = new Map<string, Pending>();
  /** Key of the hashes: random per process, so a stored hash says nothing outside it. */
  private readonly key = randomBytes(32);
  private readonly failures: FailureLimiter;
  /** Challenges fetched per client address (a FailureLimiter counts any event). */
  readonly fetches: FailureLimiter;
  private readonly reveal: ((id: string, answer: string) => void) | undefined;

  constructor(
    opts: CaptchaOptions,
    private readonly clock: () => number,
  ) {
    this.mode = opts.mode ?? 'after_failures';
    this.after = opts.after ?? 3;
    this.ttlMs = opts.ttlMs ?? 120_000;
    this.max = opts.maxOutstanding ?? 10_000;
    this.failures = new FailureLimiter(
      { max: this.after, windowMs: opts.windowMs ?? 15 * 60_000, maxKeys: 20_000 },
      clock,
    );
    this.fetches = new FailureLimiter(
      { max: opts.perAddressPerMinute ?? 30, windowMs: 60_000 },
      clock,
    );
    this.reveal = opts.revealAnswerForTests;
  }

  private hash(id: string, answer: string): Buffer {
    return createHash('sha256')
      .update(this.key)
      .update(id)
      .update('\0')
      .update(answer.trim().toUpperCase())
      .digest();
  }

  /** A new challenge: its id and the SVG image; the answer is kept only as a hash. */
  issue(): { id: string; svg: string; expires_at: number } {
    const now = this.clock();
    this.makeRoom(now);
    let text = '';
    for (let i = 0; i < LENGTH; i++) text += ALPHABET[randomInt(ALPHABET.length)];
    const id = randomBytes(16).toString('base64url');
    const expiresAt = now + this.ttlMs;
    this.pending.set(id, { hash: this.hash(id, text), expiresAt });
    const svg = draw(text, {
      width: 150,
      height: 50,
      noise: 3,
      color: true,
      background: '#f4f6f8',
    });
    this.reveal?.(id, text);
    return { id, svg, expires_at: expiresAt };
  }

  /** Whether `answer` solves challenge `id` (case-insensitive); the challenge is used up either way. */
  check(id: string, answer: string): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    if (p.expiresAt <= this.clock()) return false;
    return timingSafeEqual(p.hash, this.hash(id, answer));
  }

  /** Challenges held now (tests check the bound). */
  get outstanding(): number {
    return this.pending.size;
  }

  private makeRoom(now: number): void {
    if (this.pending.size < this.max) return;
    for (const [id, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(id);
    // Still full (a flood of fetches): forget the oldest (a Map keeps insertion order).
    for (const id of this.pending.keys()) {
      if (this.pending.size < this.max) break;
      this.pending.delete(id);
    }
  }

  /** Whether a login as `login` from `ip` must solve a captcha now. */
  required(login: string, ip: string): boolean {
    if (this.mode === 'off') return false;
    if (this.mode === 'always') return true;
    return (
      this.failures.blockedFor(`u|${login.toLowerCase()}`) > 0 ||
      this.failures.blockedFor(`a|${ip}`) > 0
    );
  }

  /** A failed login (wrong name or password) as `login` from `ip`. */
  failed(login: string, ip: string): void {
    this.failures.fail(`u|${login.toLowerCase()}`);
    this.failures.fail(`a|${ip}`);
  }

  /**
   * A successful login: the name's and the address's counts start again. (Someone holding a
   * valid account can so clear their address's count, but not the per-name counts of the
   * accounts they try: those are kept whatever the address.)
   */
  succeeded(login: string, ip: string): void {
    this.failures.reset(`u|${login.toLowerCase()}`);
    this.failures.reset(`a|${ip}`);
  }
}
