/**
 * Server-sent events of the chat stream: the bytes are parsed by `eventsource-parser` (frames split
 * anywhere across network chunks, `\r\n` or `\n`, comments, multi-line data), then each event is
 * checked against the shape the app relies on before it is handed on, typed, as a ChatEvent.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { ChatEvent } from './types'

/** Reads a byte stream to its end, calling `onMessage` for every complete event. */
export async function readSSE(
  body: ReadableStream<Uint8Array>,
  onMessage: (message: EventSourceMessage) => void,
): Promise<void> {
  const parser = createParser({ onEvent: onMessage })
  const decoder = new TextDecoder()
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      parser.feed(decoder.decode(value, { stream: true }))
    }
    parser.feed(decoder.decode())
  } finally {
    reader.releaseLock()
  }
}

type EventName = ChatEvent['event']
type Fields = Record<string, unknown>

const isString = (v: unknown) => typeof v === 'string'
const isList = (v: unknown) => Array.isArray(v)
const isCitation = (v: unknown) =>
  typeof v === 'object' && v !== null && typeof (v as Fields).index === 'number' && isString((v as Fields).chunk_id)

/** What each event must carry for the app to use it. */
const CHECKS: { [E in EventName]: (d: Fields) => boolean } = {
  sources: (d) => isList(d.sources) && (d.sources as unknown[]).every(isCitation),
  token: (d) => isString(d.text),
  citations: (d) => isString(d.content) && isList(d.citations) && (d.citations as unknown[]).every(isCitation),
  done: (d) => isString(d.message_id) && isString(d.conversation_id),
  error: (d) => isString(d.error) && isString(d.detail),
}

const known = (name: string): name is EventName => Object.hasOwn(CHECKS, name)

/**
 * The ChatEvent a message stands for; null for events the app does not know (a newer server) and
 * for keep-alives. A known event with an unexpected payload becomes an `error` event, so a renamed
 * field shows up as a failed answer rather than as silently missing text.
 */
export function toChatEvent(message: EventSourceMessage): ChatEvent | null {
  const name = message.event ?? 'message'
  if (!known(name)) return null
  let data: unknown
  try {
    data = JSON.parse(message.data)
  } catch {
    data = undefined
  }
  if (typeof data !== 'object' || data === null || !CHECKS[name](data as Fields)) {
    return { event: 'error', data: { error: 'bad_event', detail: `The server sent a malformed “${name}” event.` } }
  }
  return { event: name, data } as ChatEvent
}

/** Reads the chat stream, calling `onEvent` with each checked event. */
export function readChatEvents(body: ReadableStream<Uint8Array>, onEvent: (ev: ChatEvent) => void): Promise<void> {
  return readSSE(body, (message) => {
    const ev = toChatEvent(message)
    if (ev) onEvent(ev)
  })
}
