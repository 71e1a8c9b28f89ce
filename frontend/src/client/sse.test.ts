import { describe, expect, it } from 'vitest'
import type { EventSourceMessage } from 'eventsource-parser'
import { readChatEvents, readSSE, toChatEvent } from './sse'
import type { ChatEvent } from './types'

function stream(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder()
  return new ReadableStream<Uint8Array>({
    start(c) {
      chunks.forEach((x) => c.enqueue(typeof x === 'string' ? enc.encode(x) : x))
      c.close()
    },
  })
}

async function parseAll(chunks: (string | Uint8Array)[]): Promise<EventSourceMessage[]> {
  const out: EventSourceMessage[] = []
  await readSSE(stream(chunks), (m) => out.push(m))
  return out
}

const cite = { index: 1, chunk_id: 'd:1:0', document_id: 'd', filename: 'a.pdf', page: 2, score: 0.9, snippet: 'x' }
const STREAM =
  `event: sources\ndata: {"sources":[${JSON.stringify(cite)}]}\n\n` +
  'event: token\ndata: {"text":"Hel"}\n\n' +
  'event: token\ndata: {"text":"lo [1]"}\n\n' +
  ': keep-alive\n\n' +
  `event: citations\ndata: {"content":"Hello [1]","citations":[${JSON.stringify(cite)}]}\n\n` +
  'event: done\ndata: {"message_id":"m","user_message_id":"u","conversation_id":"c","timings":{"retrieval_ms":1,"first_token_ms":2,"total_ms":3}}\n\n'

describe('readSSE', () => {
  it('gives the same events however the stream is split', async () => {
    const whole = await parseAll([STREAM])
    expect(whole.map((m) => m.event)).toEqual(['sources', 'token', 'token', 'citations', 'done'])
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = []
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size))
      expect(await parseAll(chunks)).toEqual(whole)
    }
  })

  it('handles CRLF split between \\r and \\n and multi-line data; an unterminated last event is dropped', async () => {
    const out = await parseAll(['event: token\r', '\ndata: a\r\ndata: b\r\n\r', '\nevent: done\ndata: {}'])
    expect(out.map((m) => [m.event, m.data])).toEqual([['token', 'a\nb']])
  })

  it('decodes UTF-8 split across byte chunks', async () => {
    const bytes = new TextEncoder().encode('event: token\ndata: {"text":"café €"}\n\n')
    const cut = [0, 30, 31, 37, 38, bytes.length] // inside the multi-byte "é" and "€"
    const out = await parseAll(cut.slice(0, -1).map((at, i) => bytes.slice(at, cut[i + 1])))
    expect(out).toHaveLength(1)
    expect(JSON.parse(out[0]!.data)).toEqual({ text: 'café €' })
  })
})

describe('chat events', () => {
  it('are typed from the stream, in order', async () => {
    const events: ChatEvent[] = []
    await readChatEvents(stream([STREAM]), (e) => events.push(e))
    expect(events.map((e) => e.event)).toEqual(['sources', 'token', 'token', 'citations', 'done'])
    const last = events[4]!
    expect(last.event === 'done' && last.data.conversation_id).toBe('c')
  })

  it('ignores unknown events and plain messages (a newer server, keep-alives)', () => {
    expect(toChatEvent({ event: 'progress', data: '{"pct":5}' })).toBeNull()
    expect(toChatEvent({ data: 'ping' })).toBeNull()
  })

  it('turns a known event with an unexpected payload into an error event', () => {
    // e.g. a field renamed on the server: `text` → `delta`.
    expect(toChatEvent({ event: 'token', data: '{"delta":"Hi"}' })).toEqual({
      event: 'error',
      data: { error: 'bad_event', detail: 'The server sent a malformed “token” event.' },
    })
    expect(toChatEvent({ event: 'sources', data: '{"sources":[{"index":"1"}]}' })?.event).toBe('error')
    expect(toChatEvent({ event: 'done', data: 'not json' })?.event).toBe('error')
    expect(toChatEvent({ event: 'error', data: '{"error":"llm_unavailable","detail":"The model did not answer."}' })).toEqual({
      event: 'error',
      data: { error: 'llm_unavailable', detail: 'The model did not answer.' },
    })
  })
})
