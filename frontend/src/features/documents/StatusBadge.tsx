import { AlertCircle, CheckCircle2, Clock, Loader2 } from 'lucide-react'
import type { Document } from '../../client/types'
import { Badge, Progress } from '../../components/ui/feedback'
import { queueLine } from '../../lib/format'

const STAGES: Record<string, string> = {
  extracting: 'Extracting text',
  ocr: 'Reading scanned pages',
  chunking: 'Splitting into passages',
  embedding: 'Embedding',
  indexing: 'Indexing',
}

export function StatusBadge({ status }: { status: Document['status'] | string }) {
  switch (status) {
    case 'ready':
      return <Badge tone="green"><CheckCircle2 className="h-3 w-3" aria-hidden="true" />Ready</Badge>
    case 'failed':
      return <Badge tone="red"><AlertCircle className="h-3 w-3" aria-hidden="true" />Failed</Badge>
    case 'processing':
      return <Badge tone="accent"><Loader2 className="h-3 w-3 animate-spin" aria-hidden="true" />Processing</Badge>
    default:
      return <Badge tone="neutral"><Clock className="h-3 w-3" aria-hidden="true" />Queued</Badge>
  }
}

/** Status plus, while work is under way, the stage and a progress bar. */
export function DocumentStatus({ doc }: { doc: Document }) {
  const busy = doc.status === 'queued' || doc.status === 'processing'
  return (
    <div className="min-w-0 space-y-1">
      <div className="flex items-center gap-2">
        <StatusBadge status={doc.status} />
        {busy && (
          <span className="truncate text-xs text-zinc-500 dark:text-zinc-400">
            {doc.status === 'queued'
              ? queueLine(doc.queue_position, doc.queue_estimate_seconds) ?? 'Waiting'
              : `${doc.stage ? STAGES[doc.stage] ?? doc.stage : 'Starting'} · ${Math.round(doc.progress)}%`}
          </span>
        )}
      </div>
      {doc.status === 'processing' && <Progress value={doc.progress} label={`Processing ${doc.filename}`} className="max-w-40" />}
      {doc.status === 'failed' && doc.error && (
        <p className="line-clamp-2 max-w-xs text-xs text-red-600 dark:text-red-400" title={doc.error}>{doc.error}</p>
      )}
    </div>
  )
}
