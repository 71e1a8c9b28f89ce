import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, apiFetch, errorMessage, onAuthLost, request } from './http'

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(body === null ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

let calls: { url: string; init: RequestInit }[]
function mockFetch(handler: Handler) {
  calls = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init })
      return handler(url, init)
    }),
  )
}

beforeEach(() => {
  document.cookie = 'cw_csrf=tok123; path=/'
})
afterEach(() => {
  vi.unstubAllGlobals()
  onAuthLost(() => {})
})

describe('request', () => {
  it('sends the CSRF header on unsafe methods only, with same-origin credentials', async () => {
    mockFetch(() => json(200, { ok: true }))
    await request('/documents')
    await request('/documents/batch-delete', { method: 'POST', json: { ids: ['a'] } })
    const get = calls[0]!.init
    const post = calls[1]!.init
    expect(get.credentials).toBe('same-origin')
    expect((get.headers as Record<string, string>)['X-CSRF-Token']).toBeUndefined()
    expect((post.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok123')
    expect(post.body).toBe('{"ids":["a"]}')
  })

  it('turns {error, detail} into an ApiError and reads Retry-After', async () => {
    mockFetch(() => json(429, { error: 'too_many_attempts', detail: 'Slow down.' }, { 'Retry-After': '30' }))
    const err = await request('/auth/login', { method: 'POST', json: {} }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('too_many_attempts')
    expect((err as ApiError).retryAfter).toBe(30)
    expect(errorMessage(err)).toBe('Slow down. Try again in 30 s.')
  })

  it('returns undefined for 204', async () => {
    mockFetch(() => new Response(null, { status: 204 }))
    await expect(request('/auth/logout', { method: 'POST' })).resolves.toBeUndefined()
  })
})

describe('refresh on 401', () => {
  it('refreshes once and retries the original call', async () => {
    let authed = false
    mockFetch((url) => {
      if (url.endsWith('/auth/refresh')) {
        authed = true
        return json(200, { id: 'u' })
      }
      return authed ? json(200, { items: [] }) : json(401, { error: 'unauthenticated', detail: 'Sign in' })
    })
    await expect(request('/conversations')).resolves.toEqual({ items: [] })
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/conversations', '/api/v1/auth/refresh', '/api/v1/conversations'])
    // Refresh is a POST: it must carry the CSRF token.
    expect((calls[1]!.init.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok123')
  })

  it('shares one refresh between concurrent 401s', async () => {
    let authed = false
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    mockFetch(async (url) => {
      if (url.endsWith('/auth/refresh')) {
        await gate
        authed = true
        return json(200, {})
      }
      return authed ? json(200, { url }) : json(401, { error: 'unauthenticated', detail: 'x' })
    })
    const all = Promise.all([request('/a'), request('/b'), request('/c')])
    await new Promise((r) => setTimeout(r, 10))
    release()
    await all
    expect(calls.filter((c) => c.url.endsWith('/auth/refresh'))).toHaveLength(1)
  })

  it('signals auth loss and throws when refresh fails, without retrying', async () => {
    const lost = vi.fn()
    onAuthLost(lost)
    mockFetch(() => json(401, { error: 'unauthenticated', detail: 'Session expired' }))
    const err = await request('/documents').catch((e: unknown) => e)
    expect((err as ApiError).status).toBe(401)
    expect(lost).toHaveBeenCalledOnce()
    expect(calls).toHaveLength(2)
  })

  it('never refreshes for login itself', async () => {
    mockFetch(() => json(401, { error: 'invalid_credentials', detail: 'Wrong email or password' }))
    await expect(apiFetch('/auth/login', { method: 'POST', json: {} })).rejects.toThrow('Wrong email or password')
    expect(calls).toHaveLength(1)
  })
})
