/**
 * The typed API client: openapi-fetch over the generated `schema.d.ts`, endpoints named by their
 * OpenAPI operationId (`operations.ts`, generated too), so no URL path is written by hand and a
 * renamed path, parameter or field is a type error. Around it: cookie auth, the CSRF header,
 * `{error, detail}` errors and a single-flight refresh-and-retry on 401. No token ever touches JS storage.
 */
import createClient, { createFinalURL, defaultPathSerializer, type FetchOptions, type FetchResponse, type QuerySerializer } from 'openapi-fetch'
import { OPERATIONS } from './operations'
import type { operations, paths } from './schema'

export type OperationId = keyof typeof OPERATIONS
type Route<Op extends OperationId> = (typeof OPERATIONS)[Op]
/** Compiles only while the generated operation map and the generated types agree. */
export type OperationMapIsConsistent = Assert<
  [{ [Op in OperationId]: paths[Route<Op>[1]][Route<Op>[0]] extends operations[Op] ? never : Op }[OperationId]] extends [never]
    ? true
    : false
>
type Assert<T extends true> = T

/** What a call takes: path/query parameters, a body, headers, a signal; optional when nothing is required. */
export type CallInit<Op extends OperationId> = FetchOptions<operations[Op]>
type InitArg<Op extends OperationId> = object extends CallInit<Op> ? [init?: CallInit<Op>] : [init: CallInit<Op>]
type Success<Op extends OperationId> = Exclude<FetchResponse<operations[Op], object, 'application/json'>['data'], undefined>
/** The JSON a successful call resolves to (`void` for 204). */
export type CallResult<Op extends OperationId> = [Success<Op>] extends [never] ? void : Success<Op>
/** A request body, by operation. */
export type Body<Op extends OperationId> = Exclude<CallInit<Op>['body'], undefined>
/** The query parameters, by operation. */
export type Query<Op extends OperationId> = NonNullable<operations[Op]['parameters']['query']>

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
/** The CSRF cookie: readable by JS, set with the session and cleared at sign-out. */
const CSRF_COOKIE = 'cw_csrf'
/** Calls that must never trigger a refresh: they are the way in. */
const NO_REFRESH = new Set<string>([OPERATIONS.login[1], OPERATIONS.register[1], OPERATIONS.refresh[1]])

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
  const token = readCookie(CSRF_COOKIE)
  return UNSAFE.has(method.toUpperCase()) && token ? { 'X-CSRF-Token': token } : {}
}

/**
 * Whether this browser may have a session. Every sign-in sets the CSRF cookie beside the HttpOnly
 * session cookies (for as long as the refresh token lives) and sign-out clears it, so without it
 * there is nothing to ask the server about: a signed-out visit makes no request that must fail.
 */
export function hasSessionHint(): boolean {
  return readCookie(CSRF_COOKIE) !== null
}

/** Forgets the hint once the server has said the session is gone (so later loads stay quiet). */
function dropSessionHint(): void {
  if (typeof document === 'undefined') return
  const secure = typeof location !== 'undefined' && location.protocol === 'https:' ? '; Secure' : ''
  document.cookie = `${CSRF_COOKIE}=; Max-Age=0; Path=/; SameSite=Strict${secure}`
}

let authLost: () => void = () => {}
/** Registers what to do when the session is gone for good (refresh failed). */
export function onAuthLost(handler: () => void): void {
  authLost = handler
}

let refreshing: Promise<boolean> | null = null

/**
 * Rotates the session cookies. Concurrent callers share one request, because the refresh token
 * rotates: a second parallel refresh would look like token reuse. Never called without a session hint.
 */
export function refreshSession(): Promise<boolean> {
  if (!hasSessionHint()) return Promise.resolve(false)
  if (!refreshing) {
    const [method, path] = OPERATIONS.refresh
    refreshing = client
      .request(method, path)
      .then(({ response }) => {
        if (response.status === 401 || response.status === 403) dropSessionHint()
        return response.ok
      })
      .catch(() => false)
      .finally(() => {
        refreshing = null
      })
  }
  return refreshing
}

function withCsrf(request: Request): Request {
  const headers = new Headers(request.headers)
  for (const [k, v] of Object.entries(csrfHeaders(request.method))) headers.set(k, v)
  return new Request(request, { headers })
}

/** The fetch under the client: adds the CSRF header and, on a 401, refreshes once and retries. */
async function fetchWithRefresh(request: Request): Promise<Response> {
  const retry = request.clone() // a body can be sent only once
  const res = await fetch(withCsrf(request))
  if (res.status !== 401 || NO_REFRESH.has(new URL(request.url).pathname) || !hasSessionHint()) return res
  if (await refreshSession()) return fetch(withCsrf(retry)) // the CSRF token rotated with the session
  authLost()
  return res
}

/** Query strings as the API reads them: empty values left out, arrays repeated (`?k=a&k=b`). */
const querySerializer: QuerySerializer<unknown> = (query) => {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    if (Array.isArray(v)) v.forEach((x) => params.append(k, String(x)))
    else params.set(k, String(v))
  }
  return params.toString()
}

const origin = () => (typeof location !== 'undefined' ? location.origin : 'http://localhost')

const client = createClient<paths>({
  baseUrl: origin(),
  credentials: 'same-origin',
  headers: { Accept: 'application/json' },
  querySerializer,
  fetch: fetchWithRefresh,
})

/** Turns an error response (its parsed body, if any) into an ApiError. */
export function toApiError(res: Response, body: unknown): ApiError {
  let code = `http_${res.status}`
  let detail = res.statusText || `Request failed (${res.status})`
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
  const ra = res.headers.get('Retry-After')
  const retryAfter = ra !== null && /^\d+$/.test(ra) ? Number(ra) : null
  return new ApiError(res.status, code, detail, retryAfter)
}

async function perform<Op extends OperationId>(op: Op, init: CallInit<Op> | undefined, parseAs: 'json' | 'stream') {
  const [method, path] = OPERATIONS[op]
  // One generic call site for every operation: TypeScript cannot relate `op` to its path here, but
  // callers are typed from `operations[op]` and OperationMapIsConsistent ties the two together.
  const { data, error, response } = await client.request(method, path as never, { ...init, parseAs } as never)
  if (!response.ok) throw toApiError(response, error)
  return { data: data as unknown, response }
}

/** Calls an endpoint by operation id; resolves to its JSON (undefined for 204), throws ApiError otherwise. */
export async function call<Op extends OperationId>(op: Op, ...[init]: InitArg<Op>): Promise<CallResult<Op>> {
  return (await perform(op, init, 'json')).data as CallResult<Op>
}

/** Calls an endpoint and returns the successful Response with its body unread (files, streams). */
export async function callRaw<Op extends OperationId>(op: Op, ...[init]: InitArg<Op>): Promise<Response> {
  return (await perform(op, init, 'stream')).response
}

/** The URL of an endpoint, for links the browser follows itself (downloads). */
export function urlFor<Op extends OperationId>(op: Op, params: operations[Op]['parameters']): string {
  const [, path] = OPERATIONS[op]
  const p = params as { path?: Record<string, unknown>; query?: Record<string, unknown> }
  return createFinalURL(path, {
    baseUrl: '',
    params: { path: p.path, query: p.query },
    querySerializer,
    pathSerializer: defaultPathSerializer,
  })
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
