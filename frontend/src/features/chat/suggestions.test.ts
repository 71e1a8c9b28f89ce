import { describe, expect, it } from 'vitest'

import { suggestions } from './suggestions'

describe('suggestions', () => {
  it('offers a summary of everything, and of the newest ready document by name', () => {
    expect(suggestions('R-intro.pdf')).toEqual([
      'Summarise the main points of my documents',
      'What is “R-intro.pdf” about?',
    ])
  })

  it('offers only the summary while no document is ready', () => {
    expect(suggestions(null)).toEqual(['Summarise the main points of my documents'])
    expect(suggestions(undefined)).toHaveLength(1)
  })
})
