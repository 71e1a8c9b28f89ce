import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, call, callRaw, errorMessage, hasSessionHint, onAuthLost, refreshSession, urlFor } from './http'
import { getMe, listDocuments, logout, revokeApiKey } from './api'
import { OPERATIONS } from './operations'

type Handler = (req: Request) => Response | Promise<Response>

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

let calls: Request[]
/** What reached the network: method, path and query, CSRF header, body. */
const seen = () =>
  calls.map((r) => {
    const u = new URL(r.url)
    return `${r.method} ${u.pathname}${u.search}`
  })

function mockFetch(handler: Handler) {
  calls = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: Request | string, init?: RequestInit) => {
      const req = input instanceof Request ? input : new Request(new URL(input, location.origin), init)
      calls.push(req.clone())
      return handler(req)
    }),
  )
}

const path = (r: Request) => new URL(r.url).pathname

function signIn(token = 'tok123') {
  document.cookie = `cw_csrf=${token}; path=/`
}
function signOut() {
  document.cookie = 'cw_csrf=; Max-Age=0; path=/'
}

beforeEach(() => signIn())
afterEach(() => {
  vi.unstubAllGlobals()
  onAuthLost(() => {})
  signOut()
})

describe('calls by operation id', () => {
  it('builds the path and query from the schema, leaving empty values out', async () => {
    mockFetch(() => json(200, { items: [], total: 0, page: 1, page_size: 20 }))
    await listDocuments({ q: 'annual report', status: 'ready', mime_type: '', page: 2 })
    await revokeApiKey('a/b')
    expect(seen()).toEqual([
      'GET /api/v1/documents?q=annual+report&status=ready&page=2',
      'DELETE /api/v1/auth/api-keys/a%2Fb',
    ])
  })

  it('sends the CSRF header on unsafe methods only, with same-origin credentials and a JSON body', async () => {
    mockFetch(() => json(200, { deleted: 1 }))
    await call('listConversations')
    await call('batchDeleteDocuments', { body: { ids: ['a'] } })
    const [get, post] = calls
    expect(get!.credentials).toBe('same-origin')
    expect(get!.headers.get('X-CSRF-Token')).toBeNull()
    expect(get!.headers.get('Accept')).toBe('application/json')
    expect(post!.headers.get('X-CSRF-Token')).toBe('tok123')
    expect(post!.headers.get('Content-Type')).toBe('application/json')
    expect(await post!.text()).toBe('{"ids":["a"]}')
  })

  it('turns {error, detail} into an ApiError and reads Retry-After', async () => {
    mockFetch(() => json(429, { error: 'too_many_attempts', detail: 'Slow down.' }, { 'Retry-After': '30' }))
    const err = await call('login', { body: { email: 'a@example.com', password: 'x' } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('too_many_attempts')
    expect((err as ApiError).retryAfter).toBe(30)
    expect(errorMessage(err)).toBe('Slow down. Try again in 30 s.')
  })

  it('reads FastAPI validation errors and non-JSON errors', async () => {
    mockFetch(() => json(422, { detail: [{ loc: ['body', 'email'], msg: 'not an email' }] }))
    expect(errorMessage(await call('register', { body: { email: 'x', password: 'y' } }).catch((e: unknown) => e))).toBe(
      'email: not an email',
    )
    mockFetch(() => new Response('upstream down', { status: 502, statusText: 'Bad Gateway' }))
    const err = (await call('publicConfig').catch((e: unknown) => e)) as ApiError
    expect([err.status, err.code, err.detail]).toEqual([502, 'http_502', 'Bad Gateway'])
  })

  it('resolves to undefined for 204', async () => {
    mockFetch(() => new Response(null, { status: 204 }))
    await expect(logout()).resolves.toBeUndefined()
  })

  it('hands back the unread response for files and streams', async () => {
    mockFetch(() => new Response(new Uint8Array([37, 80, 68, 70]), { status: 200, headers: { 'Content-Type': 'application/pdf' } }))
    const res = await callRaw('getDocumentFile', { params: { path: { document_id: 'd1' }, query: { inline: true } } })
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([37, 80, 68, 70]))
    expect(seen()).toEqual(['GET /api/v1/documents/d1/file?inline=true'])
  })

  it('makes links from the same operation map', () => {
    expect(urlFor('getDocumentFile', { path: { document_id: 'x y' }, query: {} })).toBe('/api/v1/documents/x%20y/file')
    expect(urlFor('getDocumentFile', { path: { document_id: 'd' }, query: { inline: true } })).toBe(
      '/api/v1/documents/d/file?inline=true',
    )
  })

  it('has an operation for every call the app makes, with the path the backend serves', () => {
    expect(OPERATIONS.me).toEqual(['get', '/api/v1/auth/me'])
    expect(OPERATIONS.askQuestion).toEqual(['post', '/api/v1/conversations/{conversation_id}/messages'])
  })
})

describe('refresh on 401', () => {
  it('refreshes once and retries the original call with the new CSRF token', async () => {
    let authed = false
    mockFetch((req) => {
      if (path(req) === '/api/v1/auth/refresh') {
        authed = true
        signIn('rotated')
        return json(200, { id: 'u' })
      }
      return authed ? json(200, { items: [] }) : json(401, { error: 'unauthenticated', detail: 'Sign in' })
    })
    await expect(call('renameConversation', { params: { path: { conversation_id: 'c' } }, body: { title: 't' } })).resolves.toEqual({
      items: [],
    })
    expect(seen()).toEqual(['PATCH /api/v1/conversations/c', 'POST /api/v1/auth/refresh', 'PATCH /api/v1/conversations/c'])
    // Refresh is a POST: it carries the CSRF token; the retry carries the rotated one and the same body.
    expect(calls[1]!.headers.get('X-CSRF-Token')).toBe('tok123')
    expect(calls[2]!.headers.get('X-CSRF-Token')).toBe('rotated')
    expect(await calls[2]!.text()).toBe('{"title":"t"}')
  })

  it('shares one refresh between concurrent 401s', async () => {
    let authed = false
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    mockFetch(async (req) => {
      if (path(req) === '/api/v1/auth/refresh') {
        await gate
        authed = true
        return json(200, {})
      }
      return authed ? json(200, { items: [] }) : json(401, { error: 'unauthenticated', detail: 'x' })
    })
    const all = Promise.all([call('listConversations'), call('listApiKeys'), call('adminStats')])
    await new Promise((r) => setTimeout(r, 10))
    release()
    await all
    expect(calls.filter((c) => path(c) === '/api/v1/auth/refresh')).toHaveLength(1)
  })

  it('signals auth loss, forgets the session hint and throws when refresh fails, without retrying', async () => {
    const lost = vi.fn()
    onAuthLost(lost)
    mockFetch(() => json(401, { error: 'unauthenticated', detail: 'Session expired' }))
    const err = await call('listConversations').catch((e: unknown) => e)
    expect((err as ApiError).status).toBe(401)
    expect(lost).toHaveBeenCalledOnce()
    expect(calls).toHaveLength(2)
    expect(hasSessionHint()).toBe(false)
  })

  it('keeps the hint when the refresh could not be made (network or server trouble)', async () => {
    mockFetch((req) => (path(req) === '/api/v1/auth/refresh' ? json(503, {}) : json(401, {})))
    await expect(call('listConversations')).rejects.toBeInstanceOf(ApiError)
    expect(hasSessionHint()).toBe(true)
  })

  it('never refreshes for sign-in itself', async () => {
    mockFetch(() => json(401, { error: 'invalid_credentials', detail: 'Wrong email or password' }))
    await expect(call('login', { body: { email: 'a@example.com', password: 'x' } })).rejects.toThrow('Wrong email or password')
    expect(calls).toHaveLength(1)
  })

  it('without a session hint, neither refreshes nor reports a lost session', async () => {
    signOut()
    const lost = vi.fn()
    onAuthLost(lost)
    mockFetch(() => json(401, { error: 'unauthenticated', detail: 'Sign in' }))
    await expect(getMe()).rejects.toMatchObject({ status: 401 })
    await expect(refreshSession()).resolves.toBe(false)
    expect(seen()).toEqual(['GET /api/v1/auth/me'])
    expect(lost).not.toHaveBeenCalled()
  })
})
