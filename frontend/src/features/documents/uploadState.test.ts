import { describe, expect, it } from 'vitest'
import type { Document, UploadResponse } from '../../client/types'
import { activeUploads, isSettled, trackedDocumentIds, uploadReducer, uploadStatus, type UploadItem } from './uploadState'

const doc = (over: Partial<Document & { duplicate: boolean }> = {}): Document & { duplicate: boolean } => ({
  id: 'd1', filename: 'a.pdf', mime_type: 'application/pdf', size_bytes: 10, status: 'queued', stage: null,
  progress: 0, error: null, retryable: false, page_count: null, chunk_count: 0, attempts: 0, created_at: '', updated_at: '',
  started_at: null, finished_at: null, duplicate: false, ...over,
})

function start(): UploadItem[] {
  return uploadReducer([], {
    type: 'add',
    items: [
      { key: 'a', name: 'a.pdf', size: 10 },
      { key: 'b', name: 'b.docx', size: 20 },
    ],
  })
}

describe('uploadReducer', () => {
  it('tracks per-file progress independently and clamps it', () => {
    let s = start()
    s = uploadReducer(s, { type: 'progress', key: 'a', fraction: 0.5 })
    s = uploadReducer(s, { type: 'progress', key: 'b', fraction: 7 })
    expect(s.map((i) => i.progress)).toEqual([0.5, 1])
    expect(activeUploads(s)).toBe(2)
  })

  it('marks done, duplicate and server-side file errors', () => {
    let s = start()
    s = uploadReducer(s, { type: 'response', key: 'a', response: { documents: [doc({ duplicate: true })], errors: [] } })
    const rejected: UploadResponse = { documents: [], errors: [{ filename: 'b.docx', error: 'unsupported', detail: 'Unsupported file type' }] }
    s = uploadReducer(s, { type: 'response', key: 'b', response: rejected })
    expect(s[0]).toMatchObject({ phase: 'duplicate', documentId: 'd1', progress: 1 })
    expect(s[1]).toMatchObject({ phase: 'error', error: 'Unsupported file type' })
    expect(activeUploads(s)).toBe(0)
  })

  it('records HTTP failures (413/415) and ignores late progress for finished items', () => {
    let s = start()
    s = uploadReducer(s, { type: 'fail', key: 'a', message: 'File is too large' })
    s = uploadReducer(s, { type: 'progress', key: 'a', fraction: 0.3 })
    expect(s[0]).toMatchObject({ phase: 'error', error: 'File is too large', progress: 0 })
  })

  it('clears the items it is told to, never a running upload', () => {
    let s = start()
    s = uploadReducer(s, { type: 'response', key: 'a', response: { documents: [doc()], errors: [] } })
    s = uploadReducer(s, { type: 'clear', keys: ['a', 'b'] })
    expect(s.map((i) => i.key)).toEqual(['b'])
    s = uploadReducer(s, { type: 'dismiss', key: 'b' })
    expect(s).toEqual([])
  })
})

describe('uploadStatus', () => {
  const accepted = (): UploadItem => uploadReducer(start(), { type: 'response', key: 'a', response: { documents: [doc()], errors: [] } })[0]!

  it('follows an accepted file by its document, not by the upload', () => {
    const item = accepted()
    expect(uploadStatus(item, undefined)).toBe('waiting')
    expect(uploadStatus(item, doc({ status: 'queued' }))).toBe('queued')
    expect(uploadStatus(item, doc({ status: 'processing', progress: 40, stage: 'embedding' }))).toBe('processing')
    expect(uploadStatus(item, doc({ status: 'ready' }))).toBe('ready')
    expect(uploadStatus(item, doc({ status: 'failed', error: 'No text' }))).toBe('failed')
    expect(uploadStatus(item, null)).toBe('deleted')
  })

  it('keeps upload-time outcomes whatever the documents say', () => {
    let s = start()
    s = uploadReducer(s, { type: 'response', key: 'a', response: { documents: [doc({ duplicate: true })], errors: [] } })
    s = uploadReducer(s, { type: 'fail', key: 'b', message: 'File is too large' })
    expect(uploadStatus(s[0]!, doc({ status: 'ready' }))).toBe('duplicate')
    expect(uploadStatus(s[1]!, undefined)).toBe('rejected')
    expect(uploadStatus(start()[0]!, undefined)).toBe('uploading')
  })

  it('knows which items are settled and which documents to follow', () => {
    expect(['ready', 'failed', 'rejected', 'duplicate', 'deleted'].every((x) => isSettled(x as never))).toBe(true)
    expect(['uploading', 'waiting', 'queued', 'processing'].some((x) => isSettled(x as never))).toBe(false)
    let s = start()
    s = uploadReducer(s, { type: 'response', key: 'a', response: { documents: [doc({ id: 'd7' })], errors: [] } })
    expect(trackedDocumentIds(s)).toEqual(['d7'])
  })
})
