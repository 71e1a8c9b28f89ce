import { describe, expect, it } from 'vitest'
import { HOME, loginPathFor, safeNext } from './next'

describe('safeNext', () => {
  it('keeps paths inside the app, with their query and fragment', () => {
    expect(safeNext('/chat')).toBe('/chat')
    expect(safeNext('/chat/abc123')).toBe('/chat/abc123')
    expect(safeNext('/documents?q=report&status=ready')).toBe('/documents?q=report&status=ready')
    expect(safeNext('/account#keys')).toBe('/account#keys')
    expect(safeNext('/a/../admin')).toBe('/admin')
  })

  it.each([
    null,
    '',
    'chat',
    '//evil.example/',
    '//evil.example/chat',
    '/\\evil.example',
    '\\\\evil.example',
    '/chat\\..\\',
    'https://evil.example/chat',
    'http:/evil.example',
    'javascript:alert(1)',
    '/\tevil',
    '/\n/evil.example',
    '/login',
    '/login?next=/chat',
    '/register',
    `/${'a'.repeat(3000)}`,
  ])('sends %j home', (next) => {
    expect(safeNext(next)).toBe(HOME)
  })
})

describe('loginPathFor', () => {
  it('carries the current place as next, except for the home page', () => {
    expect(loginPathFor({ pathname: '/chat', search: '', hash: '' })).toBe('/login?next=%2Fchat')
    expect(loginPathFor({ pathname: '/documents', search: '?q=a b', hash: '' })).toBe('/login?next=%2Fdocuments%3Fq%3Da%20b')
    expect(loginPathFor({ pathname: '/', search: '', hash: '' })).toBe('/login')
  })
})
