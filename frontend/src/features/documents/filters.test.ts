import { describe, expect, it } from 'vitest'
import { DEFAULT_FILTERS, filtersToParams, isFiltered, parseFilters, toQuery } from './filters'

describe('document filters in the URL', () => {
  it('reads what the URL says', () => {
    const f = parseFilters(new URLSearchParams('q=annual+report&status=failed&type=application%2Fpdf&in=private&sort=filename&order=asc&page=3'))
    expect(f).toEqual({ q: 'annual report', status: 'failed', type: 'application/pdf', place: 'private', sort: 'filename', order: 'asc', page: 3 })
  })

  it('falls back to the defaults for missing or unknown values', () => {
    expect(parseFilters(new URLSearchParams())).toEqual(DEFAULT_FILTERS)
    const f = parseFilters(new URLSearchParams('status=deleted&sort=owner&order=up&page=-2&type=<script>&in=../x'))
    expect(f).toEqual(DEFAULT_FILTERS)
    expect(parseFilters(new URLSearchParams('page=1.5')).page).toBe(1)
  })

  it('writes only what differs from the defaults and keeps unrelated parameters', () => {
    const p = filtersToParams({ ...DEFAULT_FILTERS, q: ' notes ', status: 'ready' }, new URLSearchParams('doc=abc&page=4'))
    expect(p.toString()).toBe('doc=abc&q=notes&status=ready')
    expect(filtersToParams(DEFAULT_FILTERS).toString()).toBe('')
  })

  it('round-trips', () => {
    const f = { q: 'x', status: 'processing' as const, type: 'text/markdown', place: 'c-1', sort: 'size_bytes' as const, order: 'asc' as const, page: 2 }
    expect(parseFilters(filtersToParams(f))).toEqual(f)
  })

  it('becomes an API query without empty values', () => {
    expect(toQuery(DEFAULT_FILTERS, 20)).toEqual({ sort: 'created_at', order: 'desc', page: 1, page_size: 20 })
    expect(toQuery({ ...DEFAULT_FILTERS, q: 'a', type: 'text/plain', status: 'ready' }, 20)).toMatchObject({
      q: 'a',
      mime_type: 'text/plain',
      status: 'ready',
    })
    expect(toQuery({ ...DEFAULT_FILTERS, place: 'private' }, 20)).toMatchObject({ collection_id: 'private' })
    expect(isFiltered(DEFAULT_FILTERS)).toBe(false)
    expect(isFiltered({ ...DEFAULT_FILTERS, type: 'text/plain' })).toBe(true)
  })
})
