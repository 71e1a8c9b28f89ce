import { useRef, useState, type DragEvent } from 'react'
import { Link } from 'react-router'
import { CheckCircle2, Copy, Loader2, Trash2, UploadCloud, X, XCircle } from 'lucide-react'
import { Button } from '../../components/ui/button'
import { Progress } from '../../components/ui/feedback'
import { cn } from '../../lib/cn'
import { formatBytes } from '../../lib/format'
import type { Document } from '../../client/types'
import { isSettled, uploadStatus, type UploadItem, type UploadStatus } from './uploadState'
import type { DocumentsById } from './useUploads'

export const ACCEPT =
  '.pdf,.docx,.doc,.pptx,.ppt,.xlsx,.xls,.csv,.txt,.md,.markdown,.rst,.html,.htm,.epub,.eml,.msg,.rtf,.odt,.ods,.json,.xml,' +
  '.png,.jpg,.jpeg,.tif,.tiff,.gif,.bmp,.webp'

export function UploadZone({ onFiles, compact = false, maxUploadMb }: {
  onFiles: (files: File[]) => void
  compact?: boolean
  maxUploadMb?: number
}) {
  const input = useRef<HTMLInputElement>(null)
  const [over, setOver] = useState(false)
  const depth = useRef(0)

  const onDrop = (e: DragEvent) => {
    e.preventDefault()
    depth.current = 0
    setOver(false)
    const files = Array.from(e.dataTransfer.files)
    if (files.length) onFiles(files)
  }

  return (
    <div
      onDragEnter={(e) => {
        e.preventDefault()
        depth.current++
        setOver(true)
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1)
        if (depth.current === 0) setOver(false)
      }}
      onDragOver={(e) => e.preventDefault()}
      onDrop={onDrop}
      data-testid="dropzone"
      className={cn(
        'relative flex flex-col items-center justify-center rounded-xl border-2 border-dashed text-center transition-colors',
        compact ? 'gap-1 px-4 py-5' : 'gap-2 px-6 py-12',
        over
          ? 'border-accent-500 bg-accent-50 dark:bg-accent-700/10'
          : 'border-zinc-300 bg-zinc-50/60 hover:border-zinc-400 dark:border-zinc-700 dark:bg-zinc-900/40 dark:hover:border-zinc-600',
      )}
    >
      <UploadCloud className={cn('text-zinc-400', compact ? 'h-6 w-6' : 'h-9 w-9')} aria-hidden="true" />
      <p className="text-sm text-zinc-700 dark:text-zinc-300">
        <span className="font-medium">Drop files here</span> or{' '}
        <button
          type="button"
          onClick={() => input.current?.click()}
          className="font-medium text-accent-600 underline-offset-2 hover:underline dark:text-accent-300"
        >
          browse
        </button>
      </p>
      <p className="text-xs text-zinc-500 dark:text-zinc-400">
        PDF (scanned too), Word, PowerPoint, Excel, HTML, Markdown, text, e-mail, EPUB, images
        {maxUploadMb ? ` · up to ${maxUploadMb} MB each` : ''}
      </p>
      <input
        ref={input}
        type="file"
        multiple
        accept={ACCEPT}
        className="sr-only"
        // The "browse" button is the keyboard's way in: no second, invisible tab stop.
        tabIndex={-1}
        aria-label="Choose files to upload"
        data-testid="file-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? [])
          if (files.length) onFiles(files)
          e.target.value = ''
        }}
      />
    </div>
  )
}

const STAGES: Record<string, string> = {
  extracting: 'extracting text',
  ocr: 'reading scanned pages',
  chunking: 'splitting into passages',
  embedding: 'embedding',
  indexing: 'indexing',
}

/** The uploads of this visit, each followed past the upload to its document's real state. */
export function UploadList({ items, docs, onDismiss, onClear }: {
  items: UploadItem[]
  /** The uploaded documents as last fetched (see useUploadedDocuments). */
  docs: DocumentsById | undefined
  onDismiss: (key: string) => void
  onClear: (keys: string[]) => void
}) {
  if (items.length === 0) return null
  const rows = items.map((it) => {
    const doc = it.documentId && docs ? docs[it.documentId] : undefined
    return { it, doc, status: uploadStatus(it, doc) }
  })
  const settled = rows.filter((r) => isSettled(r.status)).map((r) => r.it.key)
  const accepted = rows.filter((r) => r.it.phase === 'done')
  const ready = accepted.filter((r) => r.status === 'ready').length
  return (
    <section aria-labelledby="uploads-h" className="rounded-xl border border-zinc-200 dark:border-zinc-800">
      <div className="flex items-center justify-between gap-3 border-b border-zinc-200 px-4 py-2 dark:border-zinc-800">
        <h2 id="uploads-h" className="text-sm font-medium">
          Uploads
          {accepted.length > 0 && (
            <span className="ml-2 font-normal text-zinc-500 dark:text-zinc-400" data-testid="uploads-summary">
              {ready} of {accepted.length} ready
            </span>
          )}
        </h2>
        {settled.length > 0 && (
          <Button variant="ghost" size="sm" onClick={() => onClear(settled)}>
            Clear finished
          </Button>
        )}
      </div>
      <ul className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {rows.map(({ it, doc, status }) => (
          <li key={it.key} className="flex items-center gap-3 px-4 py-2.5" data-testid="upload-item" data-status={status}>
            <UploadIcon status={status} />
            <div className="min-w-0 flex-1">
              <div className="flex min-w-0 items-baseline justify-between gap-3">
                <span className="min-w-0 truncate text-sm font-medium">{it.name}</span>
                <span className="shrink-0 text-xs text-zinc-500 dark:text-zinc-400">{formatBytes(it.size)}</span>
              </div>
              <UploadDetail item={it} doc={doc} status={status} />
            </div>
            {isSettled(status) && (
              <Button variant="ghost" size="icon" aria-label={`Dismiss ${it.name}`} onClick={() => onDismiss(it.key)}>
                <X className="h-4 w-4" aria-hidden="true" />
              </Button>
            )}
          </li>
        ))}
      </ul>
    </section>
  )
}

const muted = 'text-xs text-zinc-500 dark:text-zinc-400'

function UploadDetail({ item, doc, status }: { item: UploadItem; doc: Document | null | undefined; status: UploadStatus }) {
  switch (status) {
    case 'uploading':
      return <Progress value={item.progress * 100} label={`Uploading ${item.name}`} className="mt-1.5" />
    case 'rejected':
      return <p className="text-xs break-words text-red-600 dark:text-red-400" role="alert">{item.error}</p>
    case 'duplicate':
      return (
        <p className="text-xs text-amber-700 dark:text-amber-400">
          Already uploaded{' '}
          {item.documentId && <Link to={`/documents/${item.documentId}`} className="underline">view it</Link>}
        </p>
      )
    case 'waiting':
      return <p className={muted}>Uploaded</p>
    case 'queued':
      return <p className={muted}>Uploaded · waiting to be processed</p>
    case 'processing': {
      const pct = Math.round(doc?.progress ?? 0)
      const stage = doc?.stage ? STAGES[doc.stage] ?? doc.stage : 'starting'
      return (
        <>
          <p className={muted}>Processing · {stage} · {pct}%</p>
          <Progress value={pct} label={`Processing ${item.name}`} className="mt-1" />
        </>
      )
    }
    case 'ready':
      return (
        <p className="text-xs text-emerald-700 dark:text-emerald-400">
          Ready ·{' '}
          <Link to={`/chat?doc=${item.documentId}`} className="underline">Ask about it</Link>
        </p>
      )
    case 'failed':
      return (
        <p className="text-xs break-words text-red-600 dark:text-red-400">
          Processing failed{doc?.error ? `: ${doc.error}` : ''}
        </p>
      )
    case 'deleted':
      return <p className={muted}>Deleted</p>
  }
}

function UploadIcon({ status }: { status: UploadStatus }) {
  switch (status) {
    case 'ready':
      return <CheckCircle2 className="h-4 w-4 shrink-0 text-emerald-500" aria-label="Ready" />
    case 'duplicate':
      return <Copy className="h-4 w-4 shrink-0 text-amber-500" aria-label="Duplicate" />
    case 'rejected':
    case 'failed':
      return <XCircle className="h-4 w-4 shrink-0 text-red-500" aria-label="Failed" />
    case 'deleted':
      return <Trash2 className="h-4 w-4 shrink-0 text-zinc-400" aria-label="Deleted" />
    case 'uploading':
      return <UploadCloud className="h-4 w-4 shrink-0 animate-pulse text-accent-500" aria-label="Uploading" />
    default:
      return <Loader2 className="h-4 w-4 shrink-0 animate-spin text-accent-500" aria-label="Processing" />
  }
}
