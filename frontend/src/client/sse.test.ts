import { describe, expect, it } from 'vitest'
import { readSSE, SSEParser, type SSEFrame } from './sse'

function parseAll(chunks: string[]): SSEFrame[] {
  const out: SSEFrame[] = []
  const p = new SSEParser((f) => out.push(f))
  chunks.forEach((c) => p.feed(c))
  p.end()
  return out
}

const STREAM =
  'event: sources\ndata: {"sources":[]}\n\n' +
  'event: token\ndata: {"text":"Hel"}\n\n' +
  'event: token\ndata: {"text":"lo [1]"}\n\n' +
  ': keep-alive\n\n' +
  'event: done\ndata: {"message_id":"m"}\n\n'

describe('SSEParser', () => {
  it('parses whole frames', () => {
    const frames = parseAll([STREAM])
    expect(frames.map((f) => f.event)).toEqual(['sources', 'token', 'token', 'done'])
    expect(JSON.parse(frames[2]!.data)).toEqual({ text: 'lo [1]' })
  })

  it('gives the same frames however the stream is split', () => {
    const whole = parseAll([STREAM])
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = []
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size))
      expect(parseAll(chunks)).toEqual(whole)
    }
  })

  it('handles CRLF split between \\r and \\n, multi-line data and a missing final blank line', () => {
    const frames = parseAll(['event: token\r', '\ndata: a\r\ndata: b\r\n\r', '\nevent: done\ndata: {}'])
    expect(frames).toEqual([
      { event: 'token', data: 'a\nb', id: undefined },
      { event: 'done', data: '{}', id: undefined },
    ])
  })

  it('defaults the event name to message and ignores comments', () => {
    expect(parseAll([':hi\ndata: x\n\n'])).toEqual([{ event: 'message', data: 'x', id: undefined }])
  })
})

describe('readSSE', () => {
  it('decodes UTF-8 split across byte chunks', async () => {
    const bytes = new TextEncoder().encode('event: token\ndata: {"text":"café €"}\n\n')
    // Split inside the multi-byte "é" and "€".
    const cut = [0, 30, 31, 37, 38, bytes.length]
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < cut.length - 1; i++) c.enqueue(bytes.slice(cut[i], cut[i + 1]))
        c.close()
      },
    })
    const frames: SSEFrame[] = []
    await readSSE(body, (f) => frames.push(f))
    expect(frames).toHaveLength(1)
    expect(JSON.parse(frames[0]!.data)).toEqual({ text: 'café €' })
  })
})
