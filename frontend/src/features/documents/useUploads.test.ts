import { QueryClient, QueryObserver } from '@tanstack/react-query'
import { describe, expect, it, vi } from 'vitest'
import { refreshAfterUpload } from './useUploads'

/**
 * A page's first list request leaves before an upload is committed and answers after it: the list
 * must be fetched again, or the page shows "No documents here yet" for good (seen in the sharing
 * end-to-end spec on a loaded machine).
 */
describe('refreshAfterUpload', () => {
  it('fetches a list again whose first request was sent before the upload was committed', async () => {
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } })
    let committed: string[] = []
    let answer!: () => void
    const slow = new Promise<void>((resolve) => (answer = resolve))
    let requests = 0
    const list = new QueryObserver(qc, {
      queryKey: ['documents', { collection_id: 'c1', page: 1 }],
      queryFn: async () => {
        requests++
        const seen = [...committed] // what the server had committed when the request arrived
        if (requests === 1) await slow
        return seen
      },
    })
    const unsubscribe = list.subscribe(() => {})
    expect(list.getCurrentResult().fetchStatus).toBe('fetching')

    committed = ['doc-1'] // the upload is accepted while the first request is still out
    await refreshAfterUpload(qc, 'c1')
    answer()

    await vi.waitFor(() => expect(list.getCurrentResult().data).toEqual(['doc-1']))
    expect(requests).toBe(2)
    unsubscribe()
    qc.clear()
  })

  it('also refetches a list that already has data, and the collections when the upload went into one', async () => {
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } })
    qc.setQueryData(['documents', { page: 1 }], [])
    qc.setQueryData(['collections', 'c1'], { document_count: 0 })
    await refreshAfterUpload(qc, 'c1')
    expect(qc.getQueryState(['documents', { page: 1 }])?.isInvalidated).toBe(true)
    expect(qc.getQueryState(['collections', 'c1'])?.isInvalidated).toBe(true)
    await refreshAfterUpload(qc, null)
    qc.setQueryData(['collections', 'c2'], { document_count: 0 })
    await refreshAfterUpload(qc, null)
    expect(qc.getQueryState(['collections', 'c2'])?.isInvalidated).toBe(false)
    qc.clear()
  })
})
