import { useRef, useState, type DragEvent } from 'react'
import { Link } from 'react-router'
import { CheckCircle2, Copy, UploadCloud, X, XCircle } from 'lucide-react'
import { Button } from '../../components/ui/button'
import { Progress } from '../../components/ui/feedback'
import { cn } from '../../lib/cn'
import { formatBytes } from '../../lib/format'
import type { UploadItem } from './uploadState'

export const ACCEPT =
  '.pdf,.docx,.doc,.pptx,.ppt,.xlsx,.xls,.csv,.txt,.md,.markdown,.rst,.html,.htm,.epub,.eml,.msg,.rtf,.odt,.ods,.json,.xml'

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
        PDF, Word, PowerPoint, Excel, HTML, Markdown, text, e-mail, EPUB
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

export function UploadList({ items, onDismiss, onClear }: {
  items: UploadItem[]
  onDismiss: (key: string) => void
  onClear: () => void
}) {
  if (items.length === 0) return null
  const finished = items.some((i) => i.phase !== 'uploading')
  return (
    <section aria-label="Uploads" className="rounded-xl border border-zinc-200 dark:border-zinc-800">
      <div className="flex items-center justify-between border-b border-zinc-200 px-4 py-2 dark:border-zinc-800">
        <h2 className="text-sm font-medium">Uploads</h2>
        {finished && (
          <Button variant="ghost" size="sm" onClick={onClear}>
            Clear finished
          </Button>
        )}
      </div>
      <ul className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {items.map((it) => (
          <li key={it.key} className="flex items-center gap-3 px-4 py-2.5" data-testid="upload-item">
            <UploadIcon phase={it.phase} />
            <div className="min-w-0 flex-1">
              <div className="flex items-baseline justify-between gap-3">
                <span className="truncate text-sm font-medium">{it.name}</span>
                <span className="shrink-0 text-xs text-zinc-500 dark:text-zinc-400">{formatBytes(it.size)}</span>
              </div>
              {it.phase === 'uploading' && (
                <Progress value={it.progress * 100} label={`Uploading ${it.name}`} className="mt-1.5" />
              )}
              {it.phase === 'done' && (
                <p className="text-xs text-zinc-500 dark:text-zinc-400">Uploaded — processing starts shortly</p>
              )}
              {it.phase === 'duplicate' && (
                <p className="text-xs text-amber-700 dark:text-amber-400">
                  Already uploaded{' '}
                  {it.documentId && (
                    <Link to={`/documents/${it.documentId}`} className="underline">view it</Link>
                  )}
                </p>
              )}
              {it.phase === 'error' && <p className="text-xs text-red-600 dark:text-red-400" role="alert">{it.error}</p>}
            </div>
            {it.phase !== 'uploading' && (
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

function UploadIcon({ phase }: { phase: UploadItem['phase'] }) {
  if (phase === 'done') return <CheckCircle2 className="h-4 w-4 shrink-0 text-emerald-500" aria-label="Uploaded" />
  if (phase === 'duplicate') return <Copy className="h-4 w-4 shrink-0 text-amber-500" aria-label="Duplicate" />
  if (phase === 'error') return <XCircle className="h-4 w-4 shrink-0 text-red-500" aria-label="Failed" />
  return <UploadCloud className="h-4 w-4 shrink-0 animate-pulse text-accent-500" aria-label="Uploading" />
}
