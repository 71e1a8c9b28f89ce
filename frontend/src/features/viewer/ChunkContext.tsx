import { useQuery } from '@tanstack/react-query'
import { listChunks } from '../../client/api'
import { errorMessage } from '../../client/http'
import type { Chunk, Citation } from '../../client/types'
import { ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { cn } from '../../lib/cn'
import { splitOnSnippet } from './highlight'

const AROUND = 2

/** The chunk number encoded in deterministic chunk ids (`{document}:{version}:{n}`), if any. */
export function chunkNumber(chunkId: string): number | null {
  const m = /:(\d+)$/.exec(chunkId)
  return m ? Number(m[1]) : null
}

/** Loads the cited chunk and its neighbours, whatever the API can locate it by. */
async function loadContext(documentId: string, c: Citation): Promise<{ items: Chunk[]; found: boolean }> {
  const n = chunkNumber(c.chunk_id)
  if (n !== null) {
    const offset = Math.max(0, n - AROUND)
    const r = await listChunks(documentId, { offset, limit: AROUND * 2 + 1 })
    if (r.items.some((x) => x.id === c.chunk_id)) return { items: r.items, found: true }
  }
  if (c.page !== null) {
    const r = await listChunks(documentId, { page: c.page, limit: 50 })
    const at = r.items.findIndex((x) => x.id === c.chunk_id)
    if (at >= 0) return { items: r.items.slice(Math.max(0, at - AROUND), at + AROUND + 1), found: true }
  }
  const r = await listChunks(documentId, { limit: 200 })
  const at = r.items.findIndex((x) => x.id === c.chunk_id)
  return at >= 0
    ? { items: r.items.slice(Math.max(0, at - AROUND), at + AROUND + 1), found: true }
    : { items: [], found: false }
}

export function ChunkContext({ documentId, citation }: { documentId: string; citation: Citation }) {
  const ctx = useQuery({
    queryKey: ['chunk-context', documentId, citation.chunk_id],
    queryFn: () => loadContext(documentId, citation),
  })
  if (ctx.isPending) return <SkeletonRows rows={3} label="Loading passage" />
  if (ctx.isError) return <ErrorState message={errorMessage(ctx.error)} onRetry={() => void ctx.refetch()} />
  if (!ctx.data.found) {
    return (
      <div className="p-4">
        <CitedPassage text={citation.snippet} snippet={citation.snippet} />
      </div>
    )
  }
  return (
    <ol className="space-y-3 p-4" aria-label="Passages around the citation">
      {ctx.data.items.map((chunk) => {
        const cited = chunk.id === citation.chunk_id
        return (
          <li key={chunk.id} data-cited={cited || undefined} ref={cited ? (el) => el?.scrollIntoView({ block: 'center' }) : undefined}>
            {chunk.heading_path.length > 0 && (
              <div className="mb-1 truncate text-xs text-zinc-500 dark:text-zinc-400">{chunk.heading_path.join(' › ')}</div>
            )}
            {cited ? (
              <CitedPassage text={chunk.text} snippet={citation.snippet} />
            ) : (
              <p className="text-sm leading-6 whitespace-pre-wrap text-zinc-500 dark:text-zinc-400">{chunk.text}</p>
            )}
          </li>
        )
      })}
    </ol>
  )
}

/** The cited chunk, with the snippet itself marked when it can be found. Plain text only. */
export function CitedPassage({ text, snippet, className }: { text: string; snippet: string; className?: string }) {
  const parts = splitOnSnippet(text, snippet)
  return (
    <div
      className={cn(
        'rounded-lg border-l-4 border-amber-400 bg-amber-50/70 p-3 text-sm leading-6 whitespace-pre-wrap text-zinc-900 dark:bg-amber-950/30 dark:text-zinc-100',
        className,
      )}
      data-testid="cited-passage"
    >
      {parts ? (
        <>
          {parts[0]}
          <mark className="rounded bg-amber-300/70 px-0.5 text-inherit dark:bg-amber-500/40">{parts[1]}</mark>
          {parts[2]}
        </>
      ) : (
        text
      )}
    </div>
  )
}
