/**
 * Thin fetch wrapper: cookie auth, CSRF header, `{error, detail}` errors and a
 * single-flight refresh-and-retry on 401. No token ever touches JS storage.
 */

export const API_BASE = '/api/v1'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string
  /** Seconds, from `Retry-After` on 429. */
  readonly retryAfter: number | null

  constructor(status: number, code: string, detail: string, retryAfter: number | null = null) {
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.detail = detail
    this.retryAfter = retryAfter
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** Calls that must never trigger a refresh: they are the way in. */
const NO_REFRESH = ['/auth/login', '/auth/register', '/auth/refresh']

export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return decodeURIComponent(v.join('='))
  }
  return null
}

/** Headers every state-changing request needs (the double-submit CSRF token). */
export function csrfHeaders(method: string): Record<string, string> {
  const token = readCookie('cw_csrf')
  return UNSAFE.has(method.toUpperCase()) && token ? { 'X-CSRF-Token': token } : {}
}

let authLost: () => void = () => {}
/** Registers what to do when the session is gone for good (refresh failed). */
export function onAuthLost(handler: () => void): void {
  authLost = handler
}

let refreshing: Promise<boolean> | null = null

/**
 * Rotates the session cookies. Concurrent callers share one request, because the
 * refresh token rotates: a second parallel refresh would look like token reuse.
 */
export function refreshSession(): Promise<boolean> {
  if (!refreshing) {
    refreshing = fetch(`${API_BASE}/auth/refresh`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: csrfHeaders('POST'),
    })
      .then((r) => r.ok)
      .catch(() => false)
      .finally(() => {
        refreshing = null
      })
  }
  return refreshing
}

export async function toApiError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`
  let detail = res.statusText || `Request failed (${res.status})`
  try {
    const body: unknown = await res.json()
    if (body && typeof body === 'object') {
      const b = body as { error?: unknown; detail?: unknown }
      if (typeof b.error === 'string') code = b.error
      if (typeof b.detail === 'string') detail = b.detail
      else if (Array.isArray(b.detail) && b.detail.length > 0) {
        // FastAPI validation shape, in case a route bypasses the error handler.
        const first = b.detail[0] as { msg?: string; loc?: unknown[] }
        detail = [first.loc?.slice(1).join('.'), first.msg].filter(Boolean).join(': ')
      }
    }
  } catch {
    /* not JSON: keep the status text */
  }
  const ra = res.headers.get('Retry-After')
  const retryAfter = ra !== null && /^\d+$/.test(ra) ? Number(ra) : null
  return new ApiError(res.status, code, detail, retryAfter)
}

export interface RequestOptions extends Omit<RequestInit, 'body'> {
  /** Serialised as JSON with the right content type. */
  json?: unknown
  body?: BodyInit | null
  query?: Record<string, string | number | boolean | undefined | null | string[]>
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue
    if (Array.isArray(v)) v.forEach((x) => params.append(k, x))
    else params.set(k, String(v))
  }
  const qs = params.toString()
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`
}

/** Performs a request and returns the raw Response (ok only); throws ApiError otherwise. */
export async function apiFetch(path: string, opts: RequestOptions = {}): Promise<Response> {
  const { json, query, headers, ...init } = opts
  const method = (init.method ?? 'GET').toUpperCase()
  const send = () =>
    fetch(buildUrl(path, query), {
      ...init,
      method,
      credentials: 'same-origin',
      headers: {
        Accept: 'application/json',
        ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...csrfHeaders(method),
        ...(headers as Record<string, string> | undefined),
      },
      body: json !== undefined ? JSON.stringify(json) : init.body,
    })

  let res = await send()
  if (res.status === 401 && !NO_REFRESH.some((p) => path.startsWith(p))) {
    if (await refreshSession()) {
      res = await send()
    } else {
      authLost()
    }
  }
  if (!res.ok) throw await toApiError(res)
  return res
}

/** JSON request; resolves to undefined for 204. */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await apiFetch(path, opts)
  if (res.status === 204 || res.headers.get('Content-Length') === '0') return undefined as T
  return (await res.json()) as T
}

/** Human text for any thrown value: the server's `detail` when there is one. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429 && err.retryAfter !== null) {
      return `${err.detail} Try again in ${formatWait(err.retryAfter)}.`
    }
    return err.detail
  }
  if (err instanceof Error) return err.message
  return 'Something went wrong'
}

function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} s`
  const m = Math.ceil(seconds / 60)
  return `${m} min`
}
