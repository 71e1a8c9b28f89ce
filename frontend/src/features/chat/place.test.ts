import { describe, expect, it } from 'vitest'

import { citationPlace } from './place'

describe('citationPlace', () => {
  it('shows the section of a format without pages instead of "p. 1"', () => {
    expect(citationPlace({ page: 1, location: 'Basic Usage' })).toBe('Basic Usage')
  })
  it('shows what the server counts: pages, slides, sheets', () => {
    expect(citationPlace({ page: 12, location: 'p. 12' })).toBe('p. 12')
    expect(citationPlace({ page: 3, location: 'slide 3' })).toBe('slide 3')
  })
  it('falls back to the page when the server names no place', () => {
    expect(citationPlace({ page: 4, location: null })).toBe('p. 4')
    expect(citationPlace({ page: 4, location: undefined })).toBe('p. 4')
  })
})
