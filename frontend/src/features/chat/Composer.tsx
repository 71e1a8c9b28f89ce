import { useEffect, useRef, useState, type KeyboardEvent } from 'react'
import { ArrowUp, Square } from 'lucide-react'
import { Button } from '../../components/ui/button'
import { ScopeSelector } from './ScopeSelector'
import type { Scope } from './scope'

export function Composer({ onSend, onStop, busy, scope, onScope, autoFocus }: {
  onSend: (text: string) => void
  onStop: () => void
  busy: boolean
  scope: Scope
  onScope: (s: Scope) => void
  autoFocus?: boolean
}) {
  const [text, setText] = useState('')
  const ref = useRef<HTMLTextAreaElement>(null)

  // Grow with the content, up to a limit.
  useEffect(() => {
    const el = ref.current
    if (!el) return
    el.style.height = 'auto'
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`
  }, [text])

  const send = () => {
    const t = text.trim()
    if (!t || busy) return
    onSend(t)
    setText('')
  }
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault()
      send()
    }
  }

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault()
        send()
      }}
      className="rounded-2xl border border-zinc-300 bg-white shadow-sm focus-within:border-accent-400 focus-within:ring-2 focus-within:ring-accent-500/20 dark:border-zinc-700 dark:bg-zinc-900"
    >
      <label htmlFor="composer" className="sr-only">Ask a question</label>
      <textarea
        id="composer"
        ref={ref}
        rows={1}
        autoFocus={autoFocus}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        placeholder="Ask a question about your documents…"
        className="block max-h-[200px] w-full resize-none bg-transparent px-4 pt-3 pb-1 text-[0.9375rem] leading-6 placeholder:text-zinc-500 focus:outline-none dark:placeholder:text-zinc-400"
      />
      <div className="flex items-center justify-between gap-2 px-2.5 pb-2.5">
        <ScopeSelector value={scope} onChange={onScope} />
        <div className="flex items-center gap-2">
          <span className="hidden text-xs text-zinc-500 sm:inline dark:text-zinc-400">Enter to send · Shift+Enter for a new line</span>
          {busy ? (
            <Button variant="outline" size="sm" onClick={onStop} aria-label="Stop generating">
              <Square className="h-3.5 w-3.5 fill-current" aria-hidden="true" /> Stop
            </Button>
          ) : (
            <Button type="submit" variant="primary" size="icon" disabled={!text.trim()} aria-label="Send" className="rounded-full">
              <ArrowUp className="h-4 w-4" aria-hidden="true" />
            </Button>
          )}
        </div>
      </div>
    </form>
  )
}
