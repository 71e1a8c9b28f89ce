import { describe, expect, it } from 'vitest'
import { EVERYTHING, isEverything, scopeBody, scopeFromSearch, scopeLabel, toggle } from './scope'

describe('chat scope', () => {
  it('reads collections and documents from a link', () => {
    expect(scopeFromSearch(new URLSearchParams('collection=c1&doc=d1&doc=d2'))).toEqual({ collections: ['c1'], documents: ['d1', 'd2'] })
    expect(isEverything(scopeFromSearch(new URLSearchParams()))).toBe(true)
  })
  it('toggles ids of one kind without touching the other', () => {
    const s = toggle(toggle(EVERYTHING, 'collections', 'c1'), 'documents', 'd1')
    expect(s).toEqual({ collections: ['c1'], documents: ['d1'] })
    expect(toggle(s, 'collections', 'c1')).toEqual({ collections: [], documents: ['d1'] })
  })
  it('sends only what was picked', () => {
    expect(scopeBody(EVERYTHING)).toEqual({})
    expect(scopeBody({ collections: ['c1'], documents: [] })).toEqual({ collection_ids: ['c1'] })
  })
  it('labels the picker', () => {
    const names = new Map([['c1', 'Team manual'], ['d1', 'a.pdf']])
    expect(scopeLabel(EVERYTHING, names)).toBe('Everything I can read')
    expect(scopeLabel({ collections: ['c1'], documents: [] }, names)).toBe('Team manual')
    expect(scopeLabel({ collections: [], documents: ['dx'] }, names)).toBe('1 document')
    expect(scopeLabel({ collections: ['c1', 'c2'], documents: ['d1'] }, names)).toBe('2 collections, 1 document')
  })
})
