import { describe, expect, it } from 'vitest'
import { canRetry, JOB_STATUSES, jobDuration, jobStatusLabel } from './jobStatus'

describe('job statuses', () => {
  it('labels every status the API gives, and only those', () => {
    expect(JOB_STATUSES.map((s) => s.value)).toEqual(['running', 'failed', 'retrying', 'succeeded', 'interrupted', 'skipped'])
    expect(jobStatusLabel('succeeded')).toBe('Succeeded')
  })

  it('shows a recorded duration, or the time so far while running', () => {
    expect(jobDuration({ status: 'failed', duration_ms: 1234, started_at: null })).toBe('1.2 s')
    expect(jobDuration({ status: 'succeeded', duration_ms: 125_000, started_at: null })).toBe('2 min 5 s')
    const started = '2026-01-01T00:00:00Z'
    expect(jobDuration({ status: 'running', duration_ms: null, started_at: started }, Date.parse(started) + 4000)).toBe('4.0 s')
    expect(jobDuration({ status: 'interrupted', duration_ms: null, started_at: started })).toBe('—')
  })

  it('offers retry only for a failed attempt whose document is still failed', () => {
    expect(canRetry({ status: 'failed', document_id: 'd', document_status: 'failed' })).toBe(true)
    expect(canRetry({ status: 'failed', document_id: 'd', document_status: 'queued' })).toBe(false)
    expect(canRetry({ status: 'failed', document_id: null, document_status: null })).toBe(false)
    expect(canRetry({ status: 'running', document_id: 'd', document_status: 'failed' })).toBe(false)
  })
})
