import type { Citation } from '../../client/types'

/**
 * Where a cited passage is, as the server names it: "p. 12", "slide 3", "sheet 2", or the section
 * heading of a format without pages (a web page, a Word or Markdown file). Older servers sent only
 * the page.
 */
export function citationPlace(c: Pick<Citation, 'page' | 'location'>): string | null {
  if (c.location) return c.location
  return c.page !== null && c.page !== undefined ? `p. ${c.page}` : null
}
