import { describe, expect, it } from 'vitest'
import type { Citation } from '../../client/types'
import { applyEvent, citationsFor, startStream } from './streamState'

const cite = (index: number): Citation => ({
  index, document_id: 'd', filename: 'f.pdf', page: index, chunk_id: `c${index}`, snippet: 's', score: 1,
})

describe('stream state', () => {
  it('accumulates tokens, then takes the final content and cited sources', () => {
    let s = startStream('c1', 'q?')
    s = applyEvent(s, { event: 'sources', data: { sources: [cite(1), cite(2)] } })
    expect(citationsFor(s)).toHaveLength(2)
    s = applyEvent(s, { event: 'token', data: { text: 'Yes ' } })
    s = applyEvent(s, { event: 'token', data: { text: '[2' } })
    expect(s).toMatchObject({ content: 'Yes [2', phase: 'streaming' })
    s = applyEvent(s, { event: 'citations', data: { content: 'Yes [1].', citations: [cite(1)] } })
    s = applyEvent(s, { event: 'done', data: { message_id: 'm', user_message_id: 'u', conversation_id: 'c1', timings: { retrieval_ms: 1, first_token_ms: 2, total_ms: 3 } } })
    expect(s.content).toBe('Yes [1].')
    expect(citationsFor(s).map((c) => c.index)).toEqual([1])
    expect(s.phase).toBe('done')
  })

  it('keeps the partial answer on error', () => {
    let s = applyEvent(startStream('c', 'q'), { event: 'token', data: { text: 'Part' } })
    s = applyEvent(s, { event: 'error', data: { error: 'llm_unavailable', detail: 'The model did not answer' } })
    expect(s).toMatchObject({ content: 'Part', phase: 'error', error: 'The model did not answer' })
  })
})
