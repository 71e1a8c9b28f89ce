import { memo, useMemo } from 'react'
import { AlertCircle, FileText, Library, Square } from 'lucide-react'
import type { Citation } from '../../client/types'
import { Markdown } from '../../components/markdown/Markdown'
import { cn } from '../../lib/cn'
import { citationPlace } from './place'

/** Shown instead of a source the reader can no longer read (access revoked, or deleted). */
export const UNAVAILABLE = 'Source no longer available'

export function UserMessage({ content }: { content: string }) {
  return (
    <div className="flex justify-end" data-testid="user-message">
      <div className="max-w-[85%] rounded-2xl rounded-br-md bg-accent-600 px-4 py-2.5 text-[0.9375rem] leading-6 whitespace-pre-wrap text-white shadow-sm dark:bg-accent-500">
        {content}
      </div>
    </div>
  )
}

export const AssistantMessage = memo(function AssistantMessage({
  content,
  citations,
  status,
  error,
  streaming = false,
  onCite,
}: {
  content: string
  citations: Citation[]
  status: 'complete' | 'error' | 'stopped' | 'streaming' | 'retrieving'
  error?: string | null
  streaming?: boolean
  onCite: (c: Citation) => void
}) {
  const byIndex = useMemo(() => new Map(citations.map((c) => [c.index, c])), [citations])
  const known = useMemo(() => new Set(byIndex.keys()), [byIndex])
  const label = (n: number) => {
    const c = byIndex.get(n)
    if (!c) return undefined
    if (c.available === false) return UNAVAILABLE
    const place = citationPlace(c)
    return `${c.filename}${place ? `, ${place}` : ''}${c.collection_name ? ` (${c.collection_name})` : ''}`
  }
  // Only the sources the answer actually cites are listed (all of them, when final).
  const listed = streaming ? [] : citations
  return (
    <div className="group flex gap-3" data-testid="assistant-message" data-status={status}>
      <div className="mt-0.5 flex h-7 w-7 shrink-0 items-center justify-center rounded-full bg-zinc-100 text-xs font-semibold text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300" aria-hidden="true">
        CW
      </div>
      <div className="min-w-0 flex-1">
        {status === 'retrieving' && !content ? (
          <p className="flex items-center gap-2 py-1 text-sm text-zinc-500 dark:text-zinc-400" role="status">
            <span className="inline-flex gap-1" aria-hidden="true">
              <span className="h-1.5 w-1.5 animate-bounce rounded-full bg-zinc-400 [animation-delay:-0.2s]" />
              <span className="h-1.5 w-1.5 animate-bounce rounded-full bg-zinc-400 [animation-delay:-0.1s]" />
              <span className="h-1.5 w-1.5 animate-bounce rounded-full bg-zinc-400" />
            </span>
            Searching your documents…
          </p>
        ) : (
          <div className={cn(streaming && 'cw-streaming')} aria-live={streaming ? 'polite' : undefined} aria-busy={streaming || undefined}>
            <Markdown onCite={(n) => { const c = byIndex.get(n); if (c) onCite(c) }} knownCitations={known} citationLabel={label}>
              {content || (streaming ? '' : '_No answer._')}
            </Markdown>
            {streaming && <span className="ml-0.5 inline-block h-4 w-1.5 animate-pulse rounded-sm bg-accent-500 align-text-bottom" aria-hidden="true" />}
          </div>
        )}
        {status === 'error' && (
          <p className="mt-2 flex items-center gap-1.5 text-sm text-red-600 dark:text-red-400" role="alert">
            <AlertCircle className="h-4 w-4" aria-hidden="true" /> {error || 'The answer could not be completed.'}
          </p>
        )}
        {status === 'stopped' && (
          <p className="mt-2 flex items-center gap-1.5 text-xs text-zinc-500 dark:text-zinc-400">
            <Square className="h-3 w-3" aria-hidden="true" /> Stopped
          </p>
        )}
        {listed.length > 0 && (
          <div className="mt-3">
            <h4 className="sr-only">Sources</h4>
            <ul className="flex flex-wrap gap-1.5" aria-label="Sources">
              {listed.map((c) => (
                <li key={`${c.index}-${c.chunk_id}`}>
                  <button
                    type="button"
                    onClick={() => onCite(c)}
                    data-testid="citation-chip"
                    className="inline-flex max-w-72 items-center gap-1.5 rounded-lg border border-zinc-200 bg-white px-2 py-1 text-xs text-zinc-700 shadow-xs hover:border-accent-300 hover:bg-accent-50 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:border-accent-700 dark:hover:bg-accent-700/10"
                  >
                    <span className="font-semibold text-accent-700 dark:text-accent-300">{c.index}</span>
                    {c.available === false ? (
                      <span className="truncate text-zinc-500 italic dark:text-zinc-400">{UNAVAILABLE}</span>
                    ) : (
                      <>
                        <FileText className="h-3 w-3 shrink-0 text-zinc-400" aria-hidden="true" />
                        <span className="truncate">{c.filename}</span>
                        {citationPlace(c) && (
                          <span className="max-w-[40%] shrink-0 truncate text-zinc-500 dark:text-zinc-400" data-testid="citation-place">
                            {citationPlace(c)}
                          </span>
                        )}
                        {c.collection_name && (
                          <span className="flex max-w-[45%] min-w-0 shrink-0 items-center gap-0.5 text-zinc-500 dark:text-zinc-400" data-testid="citation-collection">
                            <Library className="h-3 w-3 shrink-0" aria-hidden="true" />
                            <span className="truncate">{c.collection_name}</span>
                          </span>
                        )}
                      </>
                    )}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </div>
  )
})
