import { describe, expect, it } from 'vitest'
import { findPieces, splitOnSnippet } from './highlight'

describe('findPieces', () => {
  const items = ['The quick brown', 'fox jumps over', 'the lazy dog.', 'Unrelated line']
  it('finds a snippet spanning several text items', () => {
    expect(findPieces(items, 'brown fox jumps')).toEqual([0, 1])
  })
  it('tolerates case, extra whitespace, ellipses and hyphenated breaks', () => {
    expect(findPieces(items, '…fox   JUMPS over the lazy…')).toEqual([1, 2])
    expect(findPieces(['an exam-', 'ple of text that is long enough'], 'an example of text')).toEqual([0, 1])
  })
  it('falls back to a window of the snippet when the whole does not match', () => {
    const long = 'fox jumps over the lazy dog. ' + 'words that are not on this page at all '.repeat(3)
    expect(findPieces(items, long).length).toBeGreaterThan(0)
  })
  it('returns nothing when the text is absent', () => {
    expect(findPieces(items, 'completely different sentence here')).toEqual([])
  })
})

describe('splitOnSnippet', () => {
  it('splits around a whitespace-insensitive match', () => {
    expect(splitOnSnippet('Alpha beta\ngamma delta.', 'beta gamma')).toEqual(['Alpha ', 'beta\ngamma', ' delta.'])
    expect(splitOnSnippet('Alpha', 'nothing like it at all')).toBeNull()
  })
})
