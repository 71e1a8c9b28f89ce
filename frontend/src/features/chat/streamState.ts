/** The answer being streamed, built up from SSE events by a pure reducer. */
import type { ChatEvent, Citation } from '../../client/types'

export interface StreamState {
  conversationId: string
  question: string
  content: string
  sources: Citation[]
  citations: Citation[]
  phase: 'retrieving' | 'streaming' | 'done' | 'error' | 'stopped'
  error: string | null
  /** When the HTTP stream closed (ms since epoch), null while it is open. */
  endedAt: number | null
}

export function startStream(conversationId: string, question: string): StreamState {
  return { conversationId, question, content: '', sources: [], citations: [], phase: 'retrieving', error: null, endedAt: null }
}

export function applyEvent(s: StreamState, ev: ChatEvent): StreamState {
  switch (ev.event) {
    case 'sources':
      return { ...s, sources: ev.data.sources }
    case 'token':
      return { ...s, phase: 'streaming', content: s.content + ev.data.text }
    case 'citations':
      return { ...s, content: ev.data.content, citations: ev.data.citations }
    case 'done':
      return { ...s, phase: 'done' }
    case 'error':
      return { ...s, phase: 'error', error: ev.data.detail || ev.data.error }
    default:
      return s
  }
}

/** The stream closed: whatever phase it reached is final ('stopped' when it closed early). */
export function endStream(s: StreamState, now = Date.now()): StreamState {
  const open = s.phase === 'retrieving' || s.phase === 'streaming'
  return { ...s, endedAt: now, phase: open ? 'stopped' : s.phase }
}

/** While streaming, markers point into `sources`; once final, into `citations`. */
export function citationsFor(s: StreamState): Citation[] {
  return s.citations.length > 0 ? s.citations : s.sources
}
