import { useQuery } from '@tanstack/react-query'
import { adminStats } from '../../client/api'
import { errorMessage } from '../../client/http'
import { ErrorState, Skeleton } from '../../components/ui/feedback'
import { formatBytes } from '../../lib/format'
import { qk } from '../../lib/queryClient'

export function StatsTab() {
  const stats = useQuery({ queryKey: qk.admin('stats'), queryFn: adminStats, refetchInterval: 10_000 })
  if (stats.isPending) {
    return (
      <div className="grid grid-cols-2 gap-3 sm:grid-cols-4" role="status" aria-label="Loading stats">
        {Array.from({ length: 8 }, (_, i) => <Skeleton key={i} className="h-20" />)}
      </div>
    )
  }
  if (stats.isError) return <ErrorState message={errorMessage(stats.error)} onRetry={() => void stats.refetch()} />
  const s = stats.data
  const cards: [string, string | number, string?][] = [
    ['Users', s.users],
    ['Documents', s.documents],
    ['Passages', s.chunks.toLocaleString()],
    ['Storage', formatBytes(s.storage_bytes)],
    ['Ready', s.documents_by_status.ready ?? 0],
    ['In progress', (s.documents_by_status.processing ?? 0) + (s.documents_by_status.queued ?? 0)],
    ['Failed', s.documents_by_status.failed ?? 0, (s.documents_by_status.failed ?? 0) > 0 ? 'text-red-600 dark:text-red-400' : undefined],
    ['Failures (24 h)', s.failures_24h, s.failures_24h > 0 ? 'text-red-600 dark:text-red-400' : undefined],
    ['Queue depth', s.queue_depth ?? '—'],
    ['Workers', s.workers ?? '—'],
  ]
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-5">
      {cards.map(([label, value, tone]) => (
        <div key={label} className="rounded-xl border border-zinc-200 p-4 dark:border-zinc-800">
          <dt className="text-xs font-medium text-zinc-500 dark:text-zinc-400 uppercase">{label}</dt>
          <dd className={`mt-1 text-2xl font-semibold tabular-nums ${tone ?? ''}`}>{value}</dd>
        </div>
      ))}
    </dl>
  )
}
