import { describe, expect, it } from 'vitest'
import { ssoErrorMessage, ssoHref } from './sso'

describe('ssoErrorMessage', () => {
  it('explains known codes and never echoes unknown text', () => {
    expect(ssoErrorMessage('sso_registration_domain')).toMatch(/email domains/)
    expect(ssoErrorMessage('<script>alert(1)</script>')).toBe('Single sign-on failed. Please try again.')
    expect(ssoErrorMessage(null)).toBeNull()
  })
})

describe('ssoHref', () => {
  it('starts the flow on the server with a safe next and the invite', () => {
    expect(ssoHref('/chat/1?x=2', 'cwi_abc')).toBe('/api/v1/auth/oidc/login?next=%2Fchat%2F1%3Fx%3D2&invite=cwi_abc')
  })
  it('never sends people to another site afterwards', () => {
    expect(ssoHref('//evil.example/x')).toBe('/api/v1/auth/oidc/login?next=%2Fdocuments')
    expect(ssoHref(null)).toBe('/api/v1/auth/oidc/login?next=%2Fdocuments')
  })
})
