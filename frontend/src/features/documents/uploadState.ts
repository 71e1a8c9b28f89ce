/** State of the per-file upload list: a pure reducer, so it is easy to test. */
import type { UploadResponse } from '../../client/types'

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
  | { type: 'clearFinished' }

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
    case 'clearFinished':
      return state.filter((it) => it.phase === 'uploading')
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
