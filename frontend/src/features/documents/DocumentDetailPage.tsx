import { useState } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { ArrowLeft, CircleStop, Download, FolderInput, MessageSquarePlus, RotateCw, Trash2 } from 'lucide-react'
import { toast } from 'sonner'
import { cancelDocument, deleteDocument, documentFileUrl, getDocument, listChunks, reprocessDocument } from '../../client/api'
import { errorMessage } from '../../client/http'
import { Button } from '../../components/ui/button'
import { ConfirmDialog } from '../../components/ui/dialog'
import { EmptyState, ErrorState, Skeleton, SkeletonRows } from '../../components/ui/feedback'
import { formatBytes, formatDateTime, typeLabel } from '../../lib/format'
import { qk } from '../../lib/queryClient'
import { DocumentStatus } from './StatusBadge'
import { isBusy } from './DocumentsPage'
import { MoveDialog } from '../collections/MoveDialog'
import { canChangeDocument, placeLabel } from '../collections/roles'

const CHUNKS_PER_PAGE = 10

export function DocumentDetailPage() {
  const { id = '' } = useParams()
  const navigate = useNavigate()
  const qc = useQueryClient()
  const [offset, setOffset] = useState(0)
  const [confirm, setConfirm] = useState(false)
  const [moving, setMoving] = useState(false)
  const doc = useQuery({
    queryKey: qk.document(id),
    queryFn: () => getDocument(id),
    refetchInterval: (q) => (q.state.data && isBusy(q.state.data) ? 1500 : false),
  })
  const ready = doc.data?.status === 'ready'
  const chunks = useQuery({
    queryKey: qk.chunks(id, { offset }),
    queryFn: () => listChunks(id, { limit: CHUNKS_PER_PAGE, offset }),
    enabled: ready,
    placeholderData: keepPreviousData,
  })
  const reprocess = useMutation({
    mutationFn: () => reprocessDocument(id),
    onSuccess: (d) => {
      qc.setQueryData(qk.document(id), d)
      void qc.invalidateQueries({ queryKey: ['documents'] })
      toast.success('Processing again')
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  const cancel = useMutation({
    mutationFn: () => cancelDocument(id),
    onSuccess: (d) => {
      qc.setQueryData(qk.document(id), d)
      void qc.invalidateQueries({ queryKey: ['documents'] })
      toast.success('Processing canceled')
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  const remove = useMutation({
    mutationFn: () => deleteDocument(id),
    onSuccess: () => {
      toast.success('Document deleted')
      void qc.invalidateQueries({ queryKey: ['documents'] })
      navigate('/documents', { replace: true })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })

  if (doc.isPending) {
    return (
      <div className="mx-auto max-w-4xl space-y-4 px-4 py-8" role="status" aria-label="Loading document">
        <Skeleton className="h-6 w-1/2" />
        <Skeleton className="h-24 w-full" />
      </div>
    )
  }
  if (doc.isError) return <ErrorState message={errorMessage(doc.error)} onRetry={() => void doc.refetch()} />
  const d = doc.data
  // Viewers of a shared document read it; only its uploader (private) or the collection's editors change it.
  const writable = canChangeDocument(d)
  const total = chunks.data?.total ?? d.chunk_count ?? 0

  return (
    <div className="mx-auto max-w-4xl space-y-6 px-3 py-6 sm:px-6">
      <Link to="/documents" className="inline-flex items-center gap-1 text-sm text-zinc-500 dark:text-zinc-400 hover:text-zinc-900 dark:hover:text-zinc-100">
        <ArrowLeft className="h-4 w-4" aria-hidden="true" /> Documents
      </Link>
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <h1 className="text-xl font-semibold tracking-tight break-words">{d.filename}</h1>
          <p className="mt-1 text-sm text-zinc-500 dark:text-zinc-400">
            {typeLabel(d.mime_type)} · {formatBytes(d.size_bytes)} ·{' '}
            {d.collection_id ? (
              <Link to={`/collections/${d.collection_id}`} className="hover:underline" data-testid="document-place">
                in {placeLabel(d)}{d.role === 'viewer' ? ' (read-only)' : ''}
              </Link>
            ) : <span data-testid="document-place">{placeLabel(d)}</span>}
          </p>
        </div>
        <div className="flex flex-wrap gap-2">
          <Button variant="primary" disabled={!ready} onClick={() => navigate(`/chat?doc=${d.id}`)}>
            <MessageSquarePlus className="h-4 w-4" aria-hidden="true" /> Ask about this document
          </Button>
          <a href={documentFileUrl(d.id)} download
            className="inline-flex h-9 items-center gap-2 rounded-md border border-zinc-300 bg-white px-3.5 text-sm font-medium shadow-xs hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:hover:bg-zinc-800">
            <Download className="h-4 w-4" aria-hidden="true" /> Download
          </a>
          {/* Retry only where it can succeed; the same file fails the same way otherwise. */}
          {writable && ((d.status === 'failed' && d.retryable) || d.status === 'ready') && (
            <Button variant="outline" loading={reprocess.isPending} onClick={() => reprocess.mutate()}>
              <RotateCw className="h-4 w-4" aria-hidden="true" /> {d.status === 'failed' ? 'Retry' : 'Reprocess'}
            </Button>
          )}
          {writable && isBusy(d) && (
            <Button variant="outline" loading={cancel.isPending} onClick={() => cancel.mutate()}>
              <CircleStop className="h-4 w-4" aria-hidden="true" /> Cancel
            </Button>
          )}
          {writable && (
            <>
              <Button variant="outline" onClick={() => setMoving(true)}>
                <FolderInput className="h-4 w-4" aria-hidden="true" /> Move
              </Button>
              <Button variant="ghost" onClick={() => setConfirm(true)} aria-label="Delete document">
                <Trash2 className="h-4 w-4 text-red-600" aria-hidden="true" />
              </Button>
            </>
          )}
        </div>
      </div>

      <dl className="grid grid-cols-2 gap-px overflow-hidden rounded-xl border border-zinc-200 bg-zinc-200 text-sm sm:grid-cols-4 dark:border-zinc-800 dark:bg-zinc-800">
        <Meta label="Status"><DocumentStatus doc={d} /></Meta>
        <Meta label="Pages">{d.page_count ?? '—'}</Meta>
        <Meta label="Passages">{d.chunk_count ?? '—'}</Meta>
        <Meta label="Attempts">{d.attempts}</Meta>
        <Meta label="Uploaded">{formatDateTime(d.created_at)}</Meta>
        <Meta label="Started">{formatDateTime(d.started_at)}</Meta>
        <Meta label="Finished">{formatDateTime(d.finished_at)}</Meta>
        <Meta label="Updated">{formatDateTime(d.updated_at)}</Meta>
      </dl>

      <section aria-labelledby="chunks-h">
        <h2 id="chunks-h" className="mb-3 text-base font-semibold">Passages</h2>
        {!ready ? (
          <p className="text-sm text-zinc-500 dark:text-zinc-400">Passages appear once processing has finished.</p>
        ) : chunks.isPending ? (
          <SkeletonRows rows={3} label="Loading passages" />
        ) : chunks.isError ? (
          <ErrorState message={errorMessage(chunks.error)} onRetry={() => void chunks.refetch()} />
        ) : chunks.data.items.length === 0 ? (
          <EmptyState title="No passages">No text could be extracted from this document.</EmptyState>
        ) : (
          <>
            <ol className="space-y-3">
              {chunks.data.items.map((c) => (
                <li key={c.id} className="rounded-lg border border-zinc-200 p-3 dark:border-zinc-800">
                  <div className="mb-1.5 flex flex-wrap gap-x-3 text-xs text-zinc-500 dark:text-zinc-400">
                    <span>#{c.n + 1}</span>
                    {c.page_start !== null && (
                      <span>p. {c.page_start}{c.page_end && c.page_end !== c.page_start ? `–${c.page_end}` : ''}</span>
                    )}
                    {c.heading_path.length > 0 && <span className="truncate">{c.heading_path.join(' › ')}</span>}
                  </div>
                  <p className="text-sm leading-6 whitespace-pre-wrap text-zinc-800 dark:text-zinc-200">{c.text}</p>
                </li>
              ))}
            </ol>
            <nav aria-label="Passage pages" className="mt-3 flex items-center justify-between text-sm">
              <span className="text-zinc-500 dark:text-zinc-400">
                {offset + 1}–{Math.min(offset + CHUNKS_PER_PAGE, total)} of {total}
              </span>
              <div className="flex gap-2">
                <Button size="sm" variant="outline" disabled={offset === 0}
                  onClick={() => setOffset(Math.max(0, offset - CHUNKS_PER_PAGE))}>Previous</Button>
                <Button size="sm" variant="outline" disabled={offset + CHUNKS_PER_PAGE >= total}
                  onClick={() => setOffset(offset + CHUNKS_PER_PAGE)}>Next</Button>
              </div>
            </nav>
          </>
        )}
      </section>

      <ConfirmDialog open={confirm} onOpenChange={setConfirm} title={`Delete ${d.filename}?`}
        description="The file and its passages will be removed. This cannot be undone."
        busy={remove.isPending} onConfirm={() => remove.mutate()} />
      {moving && <MoveDialog docs={[d]} onClose={() => setMoving(false)} />}
    </div>
  )
}

function Meta({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="bg-white p-3 dark:bg-zinc-950">
      <dt className="text-xs text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd className="mt-1 font-medium">{children}</dd>
    </div>
  )
}
