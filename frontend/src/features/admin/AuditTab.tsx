import { useState } from 'react'
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { adminAudit } from '../../client/api'
import { errorMessage } from '../../client/http'
import { EmptyState, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Input } from '../../components/ui/form'
import { formatDateTime } from '../../lib/format'
import { qk } from '../../lib/queryClient'
import { useDebounced } from '../../lib/useDebounced'
import { Pager, panel, Table, td, th } from './shared'

const PAGE_SIZE = 50

export function AuditTab() {
  const [event, setEvent] = useState('')
  const [page, setPage] = useState(1)
  const de = useDebounced(event)
  const audit = useQuery({
    queryKey: qk.admin('audit', { de, page }),
    queryFn: () => adminAudit({ event: de || undefined, page, page_size: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  })
  return (
    <div className={panel}>
      <div className="border-b border-zinc-200 p-3 dark:border-zinc-800">
        <Input aria-label="Filter by event" placeholder="Filter by event, e.g. auth.login" className="max-w-xs" value={event}
          onChange={(e) => { setEvent(e.target.value); setPage(1) }} />
      </div>
      {audit.isPending ? (
        <SkeletonRows label="Loading audit log" />
      ) : audit.isError ? (
        <ErrorState message={errorMessage(audit.error)} onRetry={() => void audit.refetch()} />
      ) : audit.data.items.length === 0 ? (
        <EmptyState title="No audit entries" />
      ) : (
        <>
          <Table caption="Audit log" head={<>
            <th className={th}>When</th><th className={th}>Event</th><th className={th}>Actor</th>
            <th className={`${th} hidden md:table-cell`}>Target</th><th className={`${th} hidden lg:table-cell`}>IP</th>
            <th className={`${th} hidden lg:table-cell`}>Details</th>
          </>}>
            {audit.data.items.map((a) => (
              <tr key={a.id} className="align-top">
                <td className={`${td} whitespace-nowrap text-zinc-500 dark:text-zinc-400`}>{formatDateTime(a.created_at)}</td>
                <td className={td}><code className="font-mono text-xs">{a.event}</code></td>
                <td className={td}>{a.actor_email ?? '—'}</td>
                <td className={`${td} hidden max-w-48 truncate md:table-cell`}>{a.target ?? '—'}</td>
                <td className={`${td} hidden font-mono text-xs lg:table-cell`}>{a.ip ?? '—'}</td>
                <td className={`${td} hidden max-w-64 truncate font-mono text-xs text-zinc-500 dark:text-zinc-400 lg:table-cell`} title={a.details ? JSON.stringify(a.details) : undefined}>
                  {a.details ? JSON.stringify(a.details) : ''}
                </td>
              </tr>
            ))}
          </Table>
          <Pager page={page} pageSize={PAGE_SIZE} total={audit.data.total} onPage={setPage} />
        </>
      )}
    </div>
  )
}
