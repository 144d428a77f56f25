/**
 * fetch() for the API: same-origin, the session cookie carries the login, JSON in and out.
 * Every failure becomes an ApiError with the server's code and message, so pages can show
 * the reason ("cell_ov_l1_mv: 4200 mV is above the LiFePO4 limit of 3750 mV") as it is.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** A refused login: the next attempt must solve a captcha. */
    readonly captchaRequired = false,
    /** The request's field at fault (snake_case, as the server names it). */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Called on any 401, so the app can go back to the login page. */
let onUnauthorised: () => void = () => undefined;
export function setUnauthorisedHandler(f: () => void): void {
  onUnauthorised = f;
}

export const apiPath = (path: string): string => `/api/v1${path}`;

/** Encodes a pack id ("demo/rack/2") for a path segment. */
export const packPath = (id: string): string => `/packs/${encodeURIComponent(id)}`;

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; raw?: BodyInit; contentType?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: BodyInit | undefined;
  if (init.raw !== undefined) {
    body = init.raw;
    if (init.contentType) headers['content-type'] = init.contentType;
  } else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(apiPath(path), {
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `the server cannot be reached (${(e as Error).message})`);
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const o = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    if (res.status === 401 && !path.startsWith('/auth/login')) onUnauthorised();
    throw new ApiError(
      res.status,
      typeof o.code === 'string' ? o.code : `HTTP_${res.status}`,
      typeof o.error === 'string' ? o.error : `${res.status} ${res.statusText}`,
      o.details ?? o.issues,
      o.captcha_required === true,
      typeof o.field === 'string' ? o.field : undefined,
    );
  }
  return data as T;
}

/** Starts a browser download of an API file (CSV, XLSX, YAML) through the session cookie. */
export function download(path: string): void {
  const a = document.createElement('a');
  a.href = apiPath(path);
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}
