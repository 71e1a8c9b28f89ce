import type { Job } from '../../client/types'

export type JobStatus = Job['status']

/** Every status the API gives a job (one processing attempt), in the order the filter lists them. */
export const JOB_STATUSES: { value: JobStatus; label: string }[] = [
  { value: 'running', label: 'Running' },
  { value: 'failed', label: 'Failed' },
  { value: 'retrying', label: 'Retrying' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'interrupted', label: 'Interrupted' },
  { value: 'skipped', label: 'Skipped' },
]

export function jobStatusLabel(status: JobStatus): string {
  return JOB_STATUSES.find((s) => s.value === status)?.label ?? status
}

/** Finished attempts: their recorded duration. A running one: the time since it started. */
export function jobDuration(job: Pick<Job, 'status' | 'duration_ms' | 'started_at'>, now = Date.now()): string {
  const ms = job.duration_ms ?? (job.status === 'running' && job.started_at ? now - Date.parse(job.started_at) : null)
  if (ms === null || Number.isNaN(ms)) return '—'
  const s = Math.max(0, ms) / 1000
  if (s < 60) return `${s.toFixed(1)} s`
  const m = Math.floor(s / 60)
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`
}

/** An admin may retry an attempt's document when that document is failed now. */
export function canRetry(job: Pick<Job, 'status' | 'document_id' | 'document_status'>): boolean {
  return job.status === 'failed' && job.document_id !== null && job.document_status === 'failed'
}
