import { lazy, Suspense, useEffect, useRef } from 'react'
import { useQuery } from '@tanstack/react-query'
import { Download, FileText, X } from 'lucide-react'
import { documentFileUrl, fetchDocumentFile, getDocument } from '../../client/api'
import { errorMessage } from '../../client/http'
import type { Citation } from '../../client/types'
import { Button } from '../../components/ui/button'
import { ErrorState, Skeleton } from '../../components/ui/feedback'
import { ChunkContext, CitedPassage } from './ChunkContext'
import { citationPlace } from '../chat/place'

// pdf.js is large: load it only when a PDF source is opened.
const PdfView = lazy(() => import('./PdfView'))

export function SourceViewer({ citation, onClose }: { citation: Citation; onClose: () => void }) {
  const ref = useRef<HTMLElement>(null)
  const close = useRef(onClose)
  useEffect(() => {
    close.current = onClose
  })
  // Opening a source moves the keyboard there; Escape inside it closes it.
  useEffect(() => {
    const el = ref.current
    if (!el) return
    el.focus({ preventScroll: true })
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && close.current()
    el.addEventListener('keydown', onKey)
    return () => el.removeEventListener('keydown', onKey)
  }, [])
  return (
    <aside ref={ref} tabIndex={-1} aria-label="Source viewer" data-testid="source-viewer"
      className="flex h-full min-h-0 flex-col bg-white focus:outline-none dark:bg-zinc-950">
      <ViewerHeader citation={citation} onClose={onClose} />
      <div className="min-h-0 flex-1 overflow-y-auto">
        {citation.available === false ? (
          <p className="p-4 text-sm text-zinc-500 dark:text-zinc-400" data-testid="source-unavailable">
            Source no longer available: you can no longer read this document.
          </p>
        ) : citation.document_id ? (
          <SourceBody documentId={citation.document_id} citation={citation} />
        ) : (
          <div className="space-y-3 p-4">
            <p className="text-sm text-zinc-500 dark:text-zinc-400">This document has been deleted; the cited passage was:</p>
            <CitedPassage text={citation.snippet} snippet={citation.snippet} />
          </div>
        )}
      </div>
    </aside>
  )
}

function ViewerHeader({ citation, onClose }: { citation: Citation; onClose: () => void }) {
  return (
    <header className="flex items-center gap-2 border-b border-zinc-200 px-3 py-2 dark:border-zinc-800">
      <FileText className="h-4 w-4 shrink-0 text-zinc-400" aria-hidden="true" />
      <div className="min-w-0 flex-1">
        <h2 className="truncate text-sm font-semibold">
          <span className="mr-1.5 rounded bg-accent-100 px-1 text-xs text-accent-700 dark:bg-accent-700/30 dark:text-accent-200">
            {citation.index}
          </span>
          {citation.available === false ? 'Source no longer available' : citation.filename}
        </h2>
        {citation.available !== false && (citationPlace(citation) || citation.collection_name) && (
          <p className="truncate text-xs text-zinc-500 dark:text-zinc-400">
            {[citationPlace(citation), citation.collection_name ? `in ${citation.collection_name}` : null]
              .filter(Boolean).join(' · ')}
          </p>
        )}
      </div>
      {citation.document_id && citation.available !== false && (
        <a
          href={documentFileUrl(citation.document_id)}
          download
          className="inline-flex h-8 items-center gap-1.5 rounded-md px-2.5 text-sm font-medium text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
        >
          <Download className="h-4 w-4" aria-hidden="true" />
          <span className="hidden sm:inline">Download original</span>
        </a>
      )}
      <Button variant="ghost" size="icon" aria-label="Close source viewer" onClick={onClose}>
        <X className="h-4 w-4" aria-hidden="true" />
      </Button>
    </header>
  )
}

function SourceBody({ documentId, citation }: { documentId: string; citation: Citation }) {
  const doc = useQuery({ queryKey: ['document', documentId], queryFn: () => getDocument(documentId) })
  const isPdf = doc.data?.mime_type === 'application/pdf'
  const file = useQuery({
    queryKey: ['document-file', documentId],
    queryFn: ({ signal }) => fetchDocumentFile(documentId, signal),
    enabled: isPdf,
    staleTime: Infinity,
    gcTime: 5 * 60_000,
  })

  return (
    <>
        {doc.isPending ? (
          <div className="space-y-3 p-4"><Skeleton className="h-64 w-full" /></div>
        ) : doc.isError ? (
          <div className="p-4">
            <ErrorState message={errorMessage(doc.error)} />
            <CitedPassage text={citation.snippet} snippet={citation.snippet} />
          </div>
        ) : isPdf ? (
          <div className="flex h-full min-h-0 flex-col">
            <div className="border-b border-zinc-200 p-3 dark:border-zinc-800">
              <h3 className="mb-1.5 text-xs font-medium text-zinc-500 dark:text-zinc-400 uppercase">Cited passage</h3>
              <CitedPassage text={citation.snippet} snippet={citation.snippet} className="max-h-32 overflow-y-auto" />
            </div>
            {file.isPending ? (
              <div className="p-4"><Skeleton className="h-96 w-full" /></div>
            ) : file.isError ? (
              <ErrorState message={errorMessage(file.error)} onRetry={() => void file.refetch()} />
            ) : (
              <Suspense fallback={<div className="p-4"><Skeleton className="h-96 w-full" /></div>}>
                <PdfView data={file.data} page={citation.page ?? 1} snippet={citation.snippet} />
              </Suspense>
            )}
          </div>
        ) : (
          <ChunkContext documentId={documentId} citation={citation} />
        )}
    </>
  )
}
