import { describe, expect, it } from 'vitest'
import { initials } from './initials'

describe('initials', () => {
  it.each([
    ['Browser Tester', 'bt@example.com', 'BT'],
    ['  ada   lovelace ', 'x@example.com', 'AL'],
    ['Jean-Luc Picard', 'x@example.com', 'JP'],
    ['Mary Ann Evans', 'x@example.com', 'ME'],
    ['Ada', 'x@example.com', 'A'],
    ['Émile Zola', 'x@example.com', 'ÉZ'],
    ['(Ops) Team', 'x@example.com', 'OT'],
    ['', 'jane.doe@example.com', 'JD'],
    [null, 'admin-e2e@example.com', 'AE'],
    [undefined, 'root@example.com', 'R'],
    ['🙂', '🙂@example.com', '?'],
  ])('%j / %s → %s', (name, email, expected) => {
    expect(initials(name, email)).toBe(expected)
  })
})
