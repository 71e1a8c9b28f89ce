/**
 * Incremental parser for `text/event-stream` bodies (the subset the API sends:
 * `event:` and `data:` lines, blank-line terminated frames, `:` comments).
 * Network chunks can split a frame anywhere, including inside a UTF-8 character
 * (handled by the streaming TextDecoder) or between `\r` and `\n`.
 */

export interface SSEFrame {
  event: string
  data: string
  id?: string
}

export class SSEParser {
  private buffer = ''
  private event = ''
  private data: string[] = []
  private id: string | undefined
  private readonly onFrame: (frame: SSEFrame) => void

  constructor(onFrame: (frame: SSEFrame) => void) {
    this.onFrame = onFrame
  }

  feed(text: string): void {
    this.buffer += text
    let nl: number
    while ((nl = this.findLineEnd()) >= 0) {
      const line = this.buffer.slice(0, nl)
      const skip = this.buffer[nl] === '\r' && this.buffer[nl + 1] === '\n' ? 2 : 1
      this.buffer = this.buffer.slice(nl + skip)
      this.line(line)
    }
  }

  /** Call at end of stream: dispatches a final frame lacking its blank line. */
  end(): void {
    if (this.buffer) {
      this.line(this.buffer)
      this.buffer = ''
    }
    this.dispatch()
  }

  private findLineEnd(): number {
    const n = this.buffer.indexOf('\n')
    const r = this.buffer.indexOf('\r')
    if (r >= 0 && (n < 0 || r < n)) {
      // A lone trailing '\r' may be half of '\r\n': wait for more input.
      return r === this.buffer.length - 1 ? -1 : r
    }
    return n
  }

  private line(line: string): void {
    if (line === '') return this.dispatch()
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') this.event = value
    else if (field === 'data') this.data.push(value)
    else if (field === 'id') this.id = value
  }

  private dispatch(): void {
    if (this.data.length > 0 || this.event) {
      this.onFrame({ event: this.event || 'message', data: this.data.join('\n'), id: this.id })
    }
    this.event = ''
    this.data = []
  }
}

/** Reads a byte stream to the end, feeding decoded text to a parser. */
export async function readSSE(
  body: ReadableStream<Uint8Array>,
  onFrame: (frame: SSEFrame) => void,
): Promise<void> {
  const parser = new SSEParser(onFrame)
  const decoder = new TextDecoder()
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      parser.feed(decoder.decode(value, { stream: true }))
    }
    parser.feed(decoder.decode())
    parser.end()
  } finally {
    reader.releaseLock()
  }
}
