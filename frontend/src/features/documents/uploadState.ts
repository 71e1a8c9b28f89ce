/**
 * State of the per-file upload list: a pure reducer for the upload itself, and `uploadStatus`, which
 * follows an accepted file through processing by the document's real state. Pure, so easy to test.
 */
import type { Document, UploadResponse } from '../../client/types'

export type UploadPhase = 'uploading' | 'done' | 'duplicate' | 'error'

export interface UploadItem {
  key: string
  name: string
  size: number
  phase: UploadPhase
  /** 0–1, bytes sent. */
  progress: number
  error?: string
  documentId?: string
}

export type UploadAction =
  | { type: 'add'; items: { key: string; name: string; size: number }[] }
  | { type: 'progress'; key: string; fraction: number }
  | { type: 'response'; key: string; response: UploadResponse }
  | { type: 'fail'; key: string; message: string }
  | { type: 'dismiss'; key: string }
  | { type: 'clear'; keys: string[] }

export function uploadReducer(state: UploadItem[], action: UploadAction): UploadItem[] {
  switch (action.type) {
    case 'add':
      return [...action.items.map((i) => ({ ...i, phase: 'uploading' as const, progress: 0 })), ...state]
    case 'progress':
      return state.map((it) =>
        it.key === action.key && it.phase === 'uploading'
          ? { ...it, progress: Math.max(0, Math.min(1, action.fraction)) }
          : it,
      )
    case 'response':
      return state.map((it) => (it.key === action.key ? applyResponse(it, action.response) : it))
    case 'fail':
      return state.map((it) => (it.key === action.key ? { ...it, phase: 'error', error: action.message } : it))
    case 'dismiss':
      return state.filter((it) => it.key !== action.key)
    case 'clear':
      return state.filter((it) => it.phase === 'uploading' || !action.keys.includes(it.key))
  }
}

/** One file was sent per request, so the response speaks of that file only. */
function applyResponse(item: UploadItem, res: UploadResponse): UploadItem {
  const err = res.errors[0]
  if (err) return { ...item, phase: 'error', progress: 1, error: err.detail || err.error }
  const doc = res.documents[0]
  if (!doc) return { ...item, phase: 'error', progress: 1, error: 'The server did not accept the file' }
  return { ...item, phase: doc.duplicate ? 'duplicate' : 'done', progress: 1, documentId: doc.id }
}

export function activeUploads(state: UploadItem[]): number {
  return state.filter((i) => i.phase === 'uploading').length
}

/**
 * Where a file stands: still uploading, refused, a duplicate, or, once accepted, the state of its
 * document (`waiting` until that is known, `deleted` once it is gone).
 */
export type UploadStatus =
  | 'uploading'
  | 'rejected'
  | 'duplicate'
  | 'waiting'
  | 'queued'
  | 'processing'
  | 'ready'
  | 'failed'
  | 'deleted'

/** `doc`: the document as last fetched; undefined while unknown, null when it no longer exists. */
export function uploadStatus(item: UploadItem, doc: Document | null | undefined): UploadStatus {
  switch (item.phase) {
    case 'uploading':
      return 'uploading'
    case 'error':
      return 'rejected'
    case 'duplicate':
      return 'duplicate'
    case 'done':
      if (doc === undefined) return 'waiting'
      if (doc === null) return 'deleted'
      return doc.status
  }
}

/** Nothing more will happen to it: it can be cleared from the list. */
export function isSettled(status: UploadStatus): boolean {
  return status !== 'uploading' && status !== 'waiting' && status !== 'queued' && status !== 'processing'
}

/** Documents whose state the upload list still has to follow. */
export function trackedDocumentIds(state: UploadItem[]): string[] {
  return state.flatMap((it) => (it.phase === 'done' && it.documentId ? [it.documentId] : []))
}
