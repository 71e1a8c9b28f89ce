import { describe, expect, it } from 'vitest'

import { EVERYTHING } from './scope'
import { suggestions } from './suggestions'

describe('suggestions', () => {
  it('offers a summary of everything, and of the newest ready document by name', () => {
    expect(suggestions(EVERYTHING, 'R-intro.pdf')).toEqual([
      'Summarise the main points of my documents',
      'What is “R-intro.pdf” about?',
    ])
  })

  it('offers only the summary while no document is ready', () => {
    expect(suggestions(EVERYTHING, null)).toEqual(['Summarise the main points of my documents'])
    expect(suggestions(EVERYTHING, undefined)).toHaveLength(1)
  })

  it('offers a summary of the scope, never of a document outside it', () => {
    expect(suggestions({ collections: [], documents: ['d1'] }, 'other.pdf')).toEqual(['Summarise this document'])
    expect(suggestions({ collections: ['c1'], documents: [] }, 'other.pdf')).toEqual([
      'Summarise the selected documents',
    ])
  })
})
