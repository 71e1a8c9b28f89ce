import { useState } from 'react'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { RotateCw } from 'lucide-react'
import { toast } from 'sonner'
import { adminJobs, adminRetryJobs } from '../../client/api'
import { errorMessage } from '../../client/http'
import { Button } from '../../components/ui/button'
import { EmptyState, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Select } from '../../components/ui/form'
import { formatRelative, pluralize } from '../../lib/format'
import { qk } from '../../lib/queryClient'
import { StatusBadge } from '../documents/StatusBadge'
import { Pager, panel, Table, td, th } from './shared'

const PAGE_SIZE = 20

export function JobsTab() {
  const [status, setStatus] = useState('failed')
  const [page, setPage] = useState(1)
  const qc = useQueryClient()
  const jobs = useQuery({
    queryKey: qk.admin('jobs', { status, page }),
    queryFn: () => adminJobs({ status, page, page_size: PAGE_SIZE }),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  })
  const retry = useMutation({
    mutationFn: adminRetryJobs,
    onSuccess: (r) => {
      toast.success(`Retrying ${pluralize(r.retried, 'job')}`)
      void qc.invalidateQueries({ queryKey: ['admin'] })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  return (
    <div className={panel}>
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-zinc-200 p-3 dark:border-zinc-800">
        <Select aria-label="Job status" className="w-auto" value={status} onChange={(e) => { setStatus(e.target.value); setPage(1) }}>
          <option value="failed">Failed</option>
          <option value="processing">Processing</option>
          <option value="queued">Queued</option>
          <option value="ready">Finished</option>
          <option value="">All</option>
        </Select>
        <Button variant="outline" loading={retry.isPending && retry.variables?.all_failed === true}
          onClick={() => retry.mutate({ all_failed: true })}>
          <RotateCw className="h-4 w-4" aria-hidden="true" /> Retry all failed
        </Button>
      </div>
      {jobs.isPending ? (
        <SkeletonRows label="Loading jobs" />
      ) : jobs.isError ? (
        <ErrorState message={errorMessage(jobs.error)} onRetry={() => void jobs.refetch()} />
      ) : jobs.data.items.length === 0 ? (
        <EmptyState title={status === 'failed' ? 'No failed jobs' : 'No jobs'}>Everything is running smoothly.</EmptyState>
      ) : (
        <>
          <Table caption="Processing jobs" head={<>
            <th className={th}>Document</th><th className={th}>Status</th><th className={`${th} hidden md:table-cell`}>Attempts</th>
            <th className={`${th} hidden md:table-cell`}>Duration</th><th className={`${th} hidden sm:table-cell`}>Created</th>
            <th className={th}><span className="sr-only">Actions</span></th>
          </>}>
            {jobs.data.items.map((j) => (
              <tr key={j.id} className="align-top">
                <td className={`${td} max-w-md`}>
                  <div className="truncate font-medium">{j.filename ?? 'Deleted document'}</div>
                  <div className="text-xs text-zinc-500 dark:text-zinc-400">{j.owner_email}</div>
                  {j.error && <p className="mt-1 text-xs break-words text-red-600 dark:text-red-400">{j.error}</p>}
                </td>
                <td className={td}><StatusBadge status={j.status} /></td>
                <td className={`${td} hidden tabular-nums md:table-cell`}>{j.attempts}</td>
                <td className={`${td} hidden tabular-nums md:table-cell`}>{j.duration_ms !== null ? `${(j.duration_ms / 1000).toFixed(1)} s` : '—'}</td>
                <td className={`${td} hidden text-zinc-500 dark:text-zinc-400 sm:table-cell`}>{formatRelative(j.created_at)}</td>
                <td className={`${td} text-right`}>
                  {j.status === 'failed' && j.document_id && (
                    <Button size="sm" variant="outline" onClick={() => retry.mutate({ document_ids: [j.document_id!], all_failed: false })}>Retry</Button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
          <Pager page={page} pageSize={PAGE_SIZE} total={jobs.data.total} onPage={setPage} />
        </>
      )}
    </div>
  )
}
