/**
 * Delivery failures and the one HTTP call the ntfy, Pushover, Telegram and webhook channels make
 * (Node's global fetch with a per-attempt timeout). What is worth retrying: network errors,
 * timeouts, HTTP 5xx and 429 (with its Retry-After). Any other 4xx is permanent: the same
 * request would get the same answer, so it fails at once with the server's reason.
 */

export class DeliveryError extends Error {
  constructor(
    message: string,
    /** true: retrying cannot help (bad token, unknown user, 4xx, SMTP 5xx). */
    readonly permanent: boolean,
    /** The server asked to wait this long (HTTP 429/503 Retry-After), ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export function isDeliveryError(e: unknown): e is DeliveryError {
  return e instanceof DeliveryError;
}

/** Retry-After: seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = Number(header.trim());
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(header);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

/**
 * Telegram's Bot API says how long to wait in the JSON body of a 429
 * (`{"parameters": {"retry_after": 5}}`), not always in a Retry-After header.
 */
export function bodyRetryAfterMs(body: string): number | undefined {
  try {
    const j = JSON.parse(body) as { parameters?: { retry_after?: unknown } };
    const s = j.parameters?.retry_after;
    return typeof s === 'number' && Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The first line or so of a response body, as a reason (HTML is reduced to its text). */
export function reasonOf(body: string, max = 200): string {
  let text = body;
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    // Pushover: {"errors": [...]}; ntfy: {"error": "...", "code": ...}; Telegram:
    // {"ok": false, "description": "..."}; others: message.
    if (Array.isArray(j.errors)) text = j.errors.map(String).join('; ');
    else if (typeof j.error === 'string') text = j.error;
    else if (typeof j.description === 'string') text = j.description;
    else if (typeof j.message === 'string') text = j.message;
  } catch {
    text = body.replace(/<[^>]*>/g, ' ');
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function causeOf(e: unknown): string {
  const c = (e as { cause?: { code?: string; message?: string } }).cause;
  if (c?.code) return c.code;
  if (c?.message) return c.message;
  return e instanceof Error ? e.message : String(e);
}

export interface HttpRequest {
  url: string;
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborts the attempt (the gateway is stopping). */
  signal?: AbortSignal;
}

/** Sends one request; resolves on 2xx, throws DeliveryError otherwise. */
export async function httpDeliver(req: HttpRequest): Promise<void> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      redirect: 'follow',
    });
  } catch (e) {
    if (req.signal?.aborted) throw new DeliveryError('cancelled: the gateway is stopping', true);
    if (timeout.aborted) {
      throw new DeliveryError(`no answer within ${req.timeoutMs / 1000} s`, false);
    }
    throw new DeliveryError(`cannot reach ${hostOf(req.url)}: ${causeOf(e)}`, false);
  }
  let text = '';
  try {
    text = await res.text();
  } catch {
    // the status is what matters; an unreadable body leaves the reason empty
  }
  if (res.ok) return;
  const reason = reasonOf(text);
  const what = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${reason ? `: ${reason}` : ''}`;
  if (res.status === 429 || res.status >= 500) {
    const wait = retryAfterMs(res.headers.get('retry-after')) ?? bodyRetryAfterMs(text);
    throw new DeliveryError(what, false, wait);
  }
  throw new DeliveryError(what, true);
}

/** `https://host:port` of a URL: what a log may show of it (paths can hold secrets). */
export function hostOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the server';
  }
}
