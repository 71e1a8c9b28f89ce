import { useState } from 'react'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { AlertCircle, Ban, CheckCircle2, Loader2, RotateCw, SkipForward, TimerReset } from 'lucide-react'
import { toast } from 'sonner'
import { adminJobs, adminRetryJobs, adminStats } from '../../client/api'
import { errorMessage } from '../../client/http'
import type { Job } from '../../client/types'
import { Button } from '../../components/ui/button'
import { Badge, EmptyState, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Select } from '../../components/ui/form'
import { formatRelative, pluralize } from '../../lib/format'
import { qk } from '../../lib/queryClient'
import { canRetry, JOB_STATUSES, jobDuration, jobStatusLabel, type JobStatus } from './jobStatus'
import { Pager, panel, Table, td, th } from './shared'

const PAGE_SIZE = 20

/** Processing attempts (`jobs` rows) exactly as the API reports them. Queued documents have no
 * attempt yet: the line above the table counts them. */
export function JobsTab() {
  const [status, setStatus] = useState<JobStatus | ''>('')
  const [page, setPage] = useState(1)
  const qc = useQueryClient()
  const jobs = useQuery({
    queryKey: qk.admin('jobs', { status, page }),
    queryFn: () => adminJobs({ ...(status ? { status } : {}), page, page_size: PAGE_SIZE }),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  })
  const stats = useQuery({ queryKey: qk.admin('stats'), queryFn: adminStats, refetchInterval: 5000 })
  const retry = useMutation({
    mutationFn: adminRetryJobs,
    onSuccess: (r) => {
      toast.success(`Retrying ${pluralize(r.retried, 'document')}`)
      void qc.invalidateQueries({ queryKey: ['admin'] })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  const byStatus = stats.data?.documents_by_status
  return (
    <div className={panel}>
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-zinc-200 p-3 dark:border-zinc-800">
        <div className="flex flex-wrap items-center gap-3">
          <Select aria-label="Job status" className="w-auto" value={status}
            onChange={(e) => { setStatus(e.target.value as JobStatus | ''); setPage(1) }}>
            <option value="">All jobs</option>
            {JOB_STATUSES.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
          </Select>
          {byStatus && (
            <p className="text-sm text-zinc-500 dark:text-zinc-400" data-testid="queue-summary">
              {byStatus.queued ?? 0} queued · {byStatus.processing ?? 0} processing · {byStatus.failed ?? 0} failed documents
            </p>
          )}
        </div>
        <Button variant="outline" disabled={(byStatus?.failed ?? 0) === 0}
          loading={retry.isPending && retry.variables?.all_failed === true}
          onClick={() => retry.mutate({ all_failed: true })}>
          <RotateCw className="h-4 w-4" aria-hidden="true" /> Retry all failed
        </Button>
      </div>
      {jobs.isPending ? (
        <SkeletonRows label="Loading jobs" />
      ) : jobs.isError ? (
        <ErrorState message={errorMessage(jobs.error)} onRetry={() => void jobs.refetch()} />
      ) : jobs.data.items.length === 0 ? (
        <EmptyState title={status ? `No ${jobStatusLabel(status).toLowerCase()} jobs` : 'No jobs yet'}>
          {status === 'running' && (byStatus?.queued ?? 0) > 0
            ? `${pluralize(byStatus?.queued ?? 0, 'document')} waiting for a worker.`
            : 'Each processing attempt of a document appears here.'}
        </EmptyState>
      ) : (
        <>
          <Table caption="Processing jobs" head={<>
            <th className={th}>Document</th><th className={th}>Status</th>
            <th className={`${th} hidden md:table-cell`}>Attempt</th>
            <th className={`${th} hidden lg:table-cell`}>Worker</th>
            <th className={`${th} hidden md:table-cell`}>Duration</th><th className={`${th} hidden sm:table-cell`}>Started</th>
            <th className={th}><span className="sr-only">Actions</span></th>
          </>}>
            {jobs.data.items.map((j) => (
              <tr key={j.id} className="align-top" data-testid="job-row" data-status={j.status}>
                <td className={`${td} max-w-md`}>
                  <div className="truncate font-medium">{j.filename ?? 'Deleted document'}</div>
                  <div className="text-xs text-zinc-500 dark:text-zinc-400">{j.owner_email}</div>
                  {j.error && (
                    <p className="mt-1 text-xs break-words whitespace-pre-wrap text-red-600 dark:text-red-400" data-testid="job-error">{j.error}</p>
                  )}
                </td>
                <td className={td}><JobStatusBadge job={j} /></td>
                <td className={`${td} hidden tabular-nums md:table-cell`}>{j.attempts}</td>
                <td className={`${td} hidden max-w-40 truncate font-mono text-xs lg:table-cell`} title={j.worker}>{j.worker || '—'}</td>
                <td className={`${td} hidden tabular-nums md:table-cell`}>{jobDuration(j)}</td>
                <td className={`${td} hidden text-zinc-500 dark:text-zinc-400 sm:table-cell`}>{formatRelative(j.started_at ?? j.created_at)}</td>
                <td className={`${td} text-right`}>
                  {canRetry(j) && (
                    <Button size="sm" variant="outline" aria-label={`Retry ${j.filename ?? 'document'}`}
                      onClick={() => retry.mutate({ document_ids: [j.document_id!], all_failed: false })}>Retry</Button>
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

const STAGES: Record<string, string> = {
  extracting: 'extracting', ocr: 'reading scans', chunking: 'chunking', embedding: 'embedding', indexing: 'indexing',
}

function JobStatusBadge({ job }: { job: Job }) {
  const label = jobStatusLabel(job.status)
  switch (job.status) {
    case 'running':
      return (
        <Badge tone="accent">
          <Loader2 className="h-3 w-3 animate-spin" aria-hidden="true" />{label}
          {job.stage ? ` · ${STAGES[job.stage] ?? job.stage}` : ''}
        </Badge>
      )
    case 'succeeded':
      return <Badge tone="green"><CheckCircle2 className="h-3 w-3" aria-hidden="true" />{label}</Badge>
    case 'failed':
      return <Badge tone="red"><AlertCircle className="h-3 w-3" aria-hidden="true" />{label}</Badge>
    case 'retrying':
      return <Badge tone="amber"><TimerReset className="h-3 w-3" aria-hidden="true" />{label}</Badge>
    case 'interrupted':
      return <Badge tone="amber"><Ban className="h-3 w-3" aria-hidden="true" />{label}</Badge>
    default:
      return <Badge tone="neutral"><SkipForward className="h-3 w-3" aria-hidden="true" />{label}</Badge>
  }
}
