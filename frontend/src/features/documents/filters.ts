/**
 * The documents list's search, filters, sort and page live in the URL (`?q=&status=&type=&in=&sort=&order=&page=`),
 * so they survive a reload and can be shared as a link. Defaults are left out of the URL; values that
 * are not understood are ignored rather than sent to the API.
 */
import { useCallback, useMemo } from 'react'
import { useSearchParams } from 'react-router'
import type { DocumentQuery, DocumentSort, DocumentStatus, SortOrder } from '../../client/types'

export interface DocumentFilters {
  q: string
  status: DocumentStatus | ''
  /** A MIME type, or '' for all. */
  type: string
  /** Where the documents live: '' everywhere readable, 'private' the caller's own space, or a collection id. */
  place: string
  sort: DocumentSort
  order: SortOrder
  page: number
}

export const DEFAULT_FILTERS: DocumentFilters = { q: '', status: '', type: '', place: '', sort: 'created_at', order: 'desc', page: 1 }

const STATUSES: readonly DocumentStatus[] = ['queued', 'processing', 'ready', 'failed']
const SORTS: readonly DocumentSort[] = ['created_at', 'filename', 'size_bytes', 'status']
const ORDERS: readonly SortOrder[] = ['asc', 'desc']

const oneOf = <T extends string>(allowed: readonly T[], v: string | null): T | null =>
  v !== null && (allowed as readonly string[]).includes(v) ? (v as T) : null

export function parseFilters(params: URLSearchParams): DocumentFilters {
  const page = Number(params.get('page'))
  const type = params.get('type') ?? ''
  return {
    q: (params.get('q') ?? '').slice(0, 200),
    status: oneOf(STATUSES, params.get('status')) ?? '',
    type: /^[\w.+-]+\/[\w.+-]+$/.test(type) && type.length <= 127 ? type : '',
    place: /^[\w-]{1,36}$/.test(params.get('in') ?? '') ? params.get('in')! : '',
    sort: oneOf(SORTS, params.get('sort')) ?? DEFAULT_FILTERS.sort,
    order: oneOf(ORDERS, params.get('order')) ?? DEFAULT_FILTERS.order,
    page: Number.isInteger(page) && page >= 1 ? page : 1,
  }
}

/** The URL parameters for `f`, keeping any unrelated ones already in `base`. */
export function filtersToParams(f: DocumentFilters, base = new URLSearchParams()): URLSearchParams {
  const out = new URLSearchParams(base)
  const values: Record<string, string> = {
    q: f.q.trim(),
    status: f.status,
    type: f.type,
    in: f.place,
    sort: f.sort === DEFAULT_FILTERS.sort ? '' : f.sort,
    order: f.order === DEFAULT_FILTERS.order ? '' : f.order,
    page: f.page > 1 ? String(f.page) : '',
  }
  for (const [k, v] of Object.entries(values)) {
    if (v) out.set(k, v)
    else out.delete(k)
  }
  return out
}

/** The API query for a page of `pageSize` documents. */
export function toQuery(f: DocumentFilters, pageSize: number): DocumentQuery {
  return {
    ...(f.q.trim() ? { q: f.q.trim() } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.type ? { mime_type: f.type } : {}),
    ...(f.place ? { collection_id: f.place } : {}),
    sort: f.sort,
    order: f.order,
    page: f.page,
    page_size: pageSize,
  }
}

export function isFiltered(f: DocumentFilters): boolean {
  return Boolean(f.q.trim() || f.status || f.type || f.place)
}

/** The filters in the URL, and a setter that updates them in place (no extra history entries). */
export function useDocumentFilters(): [DocumentFilters, (patch: Partial<DocumentFilters>) => void] {
  const [params, setParams] = useSearchParams()
  const filters = useMemo(() => parseFilters(params), [params])
  const update = useCallback(
    (patch: Partial<DocumentFilters>) => {
      // From the address bar as it is now, not as of the last render: a search typed a moment ago
      // (applied after a pause) must not undo a filter picked since.
      const current = new URLSearchParams(window.location.search)
      setParams(filtersToParams({ ...parseFilters(current), ...patch }, current), { replace: true })
    },
    [setParams],
  )
  return [filters, update]
}
