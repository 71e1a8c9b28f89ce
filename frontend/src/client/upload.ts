/**
 * One XMLHttpRequest per file, because fetch has no upload progress events.
 * Shares the CSRF and refresh-once rules of http.ts.
 */
import { ApiError, csrfHeaders, refreshSession } from './http'
import { OPERATIONS } from './operations'
import type { UploadResponse } from './types'

const [UPLOAD_METHOD, UPLOAD_PATH] = OPERATIONS.uploadDocuments

export interface UploadHandle {
  promise: Promise<UploadResponse>
  abort: () => void
}

function parseError(xhr: XMLHttpRequest): ApiError {
  let code = `http_${xhr.status}`
  let detail = xhr.statusText || `Upload failed (${xhr.status})`
  try {
    const body = JSON.parse(xhr.responseText) as { error?: string; detail?: unknown }
    if (typeof body.error === 'string') code = body.error
    if (typeof body.detail === 'string') detail = body.detail
  } catch {
    if (xhr.status === 413) detail = 'File is too large'
    if (xhr.status === 0) detail = 'Network error: the upload did not reach the server'
  }
  return new ApiError(xhr.status, code, detail)
}

function send(file: File, onProgress: (fraction: number) => void, signal: AbortSignal,
  collectionId: string | null): Promise<XMLHttpRequest> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open(UPLOAD_METHOD.toUpperCase(), UPLOAD_PATH)
    xhr.withCredentials = true
    xhr.setRequestHeader('Accept', 'application/json')
    for (const [k, v] of Object.entries(csrfHeaders(UPLOAD_METHOD))) xhr.setRequestHeader(k, v)
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total)
    }
    xhr.onload = () => resolve(xhr)
    xhr.onerror = () => reject(new ApiError(0, 'network', 'Network error: the upload did not reach the server'))
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'))
    signal.addEventListener('abort', () => xhr.abort(), { once: true })
    const form = new FormData()
    form.append('files', file, file.name)
    if (collectionId) form.append('collection_id', collectionId)
    xhr.send(form)
  })
}

/** Uploads one file into the caller's private space, or into `collectionId` (editor or owner there). */
export function uploadFile(file: File, onProgress: (fraction: number) => void, collectionId: string | null = null): UploadHandle {
  const ctrl = new AbortController()
  const promise = (async () => {
    let xhr = await send(file, onProgress, ctrl.signal, collectionId)
    if (xhr.status === 401 && (await refreshSession())) {
      onProgress(0)
      xhr = await send(file, onProgress, ctrl.signal, collectionId)
    }
    if (xhr.status < 200 || xhr.status >= 300) throw parseError(xhr)
    return JSON.parse(xhr.responseText) as UploadResponse
  })()
  return { promise, abort: () => ctrl.abort() }
}
