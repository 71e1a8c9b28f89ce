import { useCallback, useEffect, useReducer, useRef } from 'react'
import { keepPreviousData, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query'
import { getDocument, listDocuments } from '../../client/api'
import { uploadFile } from '../../client/upload'
import { ApiError, errorMessage } from '../../client/http'
import type { Document } from '../../client/types'
import { uploadReducer } from './uploadState'

/** By id: the document, or null when it no longer exists. */
export type DocumentsById = Record<string, Document | null>

/**
 * The current state of the given documents. Just-uploaded files are the newest documents, so one
 * list request usually finds them all; any it does not (another tab uploaded more) are fetched one by one.
 */
export async function fetchDocumentsById(ids: string[]): Promise<DocumentsById> {
  const wanted = new Set(ids)
  const out: DocumentsById = {}
  const newest = await listDocuments({ sort: 'created_at', order: 'desc', page_size: Math.min(200, Math.max(20, ids.length)) })
  for (const d of newest.items) if (wanted.has(d.id)) out[d.id] = d
  await Promise.all(
    ids
      .filter((id) => !(id in out))
      .map(async (id) => {
        try {
          out[id] = await getDocument(id)
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) out[id] = null
          else throw err
        }
      }),
  )
  return out
}

const busy = (d: Document | null | undefined) => d?.status === 'queued' || d?.status === 'processing'

/** Follows the uploaded documents through processing: polled while any is queued or processing. */
export function useUploadedDocuments(ids: string[]) {
  return useQuery({
    queryKey: ['documents', 'uploaded', ids],
    queryFn: () => fetchDocumentsById(ids),
    enabled: ids.length > 0,
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (Object.values(q.state.data ?? {}).some(busy) ? 1500 : false),
  })
}

/**
 * The document lists (and the target collection's counts) after an accepted upload. A list request
 * still in flight was sent before the upload was committed and cannot hold it, yet invalidating a
 * query that has no data yet joins that request instead of sending a new one (TanStack Query only
 * cancels a running fetch for queries that already have data): the page's first list would stay
 * empty and, with nothing busy in it, never be polled again. So running fetches are cancelled first.
 */
export async function refreshAfterUpload(qc: QueryClient, collectionId: string | null): Promise<void> {
  const keys = collectionId ? [['documents'], ['collections']] : [['documents']]
  await Promise.all(keys.map((queryKey) => qc.cancelQueries({ queryKey })))
  for (const queryKey of keys) void qc.invalidateQueries({ queryKey })
}

let seq = 0

/** Uploads files one request each (per-file progress), a few at a time. */
export function useUploads(concurrency = 3) {
  const [items, dispatch] = useReducer(uploadReducer, [])
  const qc = useQueryClient()
  const queue = useRef<{ key: string; file: File; collectionId: string | null }[]>([])
  const running = useRef(0)
  // A finished upload starts the next queued one; the ref breaks the self-reference.
  const pumpRef = useRef<() => void>(() => {})

  const pump = useCallback(() => {
    while (running.current < concurrency && queue.current.length > 0) {
      const { key, file, collectionId } = queue.current.shift()!
      running.current++
      const handle = uploadFile(file, (fraction) => dispatch({ type: 'progress', key, fraction }), collectionId)
      handle.promise
        .then((response) => {
          dispatch({ type: 'response', key, response })
          void refreshAfterUpload(qc, collectionId)
        })
        .catch((err: unknown) => dispatch({ type: 'fail', key, message: errorMessage(err) }))
        .finally(() => {
          running.current--
          pumpRef.current()
        })
    }
  }, [concurrency, qc])
  useEffect(() => {
    pumpRef.current = pump
  }, [pump])

  /** Queues files for the caller's private space, or for a collection they edit. */
  const add = useCallback(
    (files: File[], collectionId: string | null = null) => {
      const entries = files.map((file) => ({ key: `u${++seq}`, file, collectionId }))
      dispatch({ type: 'add', items: entries.map(({ key, file }) => ({ key, name: file.name, size: file.size })) })
      queue.current.push(...entries)
      pump()
    },
    [pump],
  )

  return {
    items,
    add,
    dismiss: (key: string) => dispatch({ type: 'dismiss', key }),
    clear: (keys: string[]) => dispatch({ type: 'clear', keys }),
  }
}
