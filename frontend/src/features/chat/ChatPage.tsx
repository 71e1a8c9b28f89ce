import { useEffect, useRef, useState } from 'react'
import { Link, useNavigate, useParams, useSearchParams } from 'react-router'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { Dialog as RDialog } from 'radix-ui'
import { Info, PanelLeft, Sparkles } from 'lucide-react'
import { toast } from 'sonner'
import { createConversation, getConversation, listDocuments, streamMessage } from '../../client/api'
import { ApiError, errorMessage } from '../../client/http'
import type { Citation } from '../../client/types'
import { Button } from '../../components/ui/button'
import { useReturnFocus } from '../../components/ui/dialog'
import { Alert, EmptyState, ErrorState, Skeleton } from '../../components/ui/feedback'
import { qk } from '../../lib/queryClient'
import { useMediaQuery } from '../../lib/useMediaQuery'
import { useConfig } from '../auth/session'
import { SourceViewer } from '../viewer/SourceViewer'
import { Composer } from './Composer'
import { ConversationSidebar } from './ConversationSidebar'
import { AssistantMessage, UserMessage } from './MessageView'
import { scopeBody, scopeFromSearch, type Scope } from './scope'
import { suggestions } from './suggestions'
import { applyEvent, citationsFor, endStream, startStream, type StreamState } from './streamState'

/** How long to wait for the server to show a finished answer in the conversation. */
const SETTLE_MS = 15_000


export function ChatPage() {
  const { conversationId } = useParams()
  const [search] = useSearchParams()
  const navigate = useNavigate()
  const qc = useQueryClient()
  const config = useConfig()
  const [scope, setScope] = useState<Scope>(() => scopeFromSearch(search))
  const [stream, setStream] = useState<StreamState | null>(null)
  const [baseCount, setBaseCount] = useState(0)
  // The open source belongs to the conversation it was opened in.
  const [opened, setOpened] = useState<{ conv: string | undefined; citation: Citation } | null>(null)
  const source = opened && opened.conv === conversationId ? opened.citation : null
  const setSource = (citation: Citation | null) => setOpened(citation ? { conv: conversationId, citation } : null)
  // Below lg the viewer covers the chat: it is a modal dialog there (focus trapped, Escape closes).
  const narrow = useMediaQuery('(max-width: 1023.98px)')
  const opener = useRef<HTMLElement | null>(null)
  const openerSlot = useRef(-1)
  const openSource = (citation: Citation) => {
    if (document.activeElement instanceof HTMLElement) {
      opener.current = document.activeElement
      openerSlot.current = citationChips().indexOf(document.activeElement)
    }
    setSource(citation)
  }
  const closeSource = () => {
    setSource(null)
    // Back to the citation that opened it, for keyboard users. The streamed answer is replaced by
    // the stored one (same chips, same order) once it is saved, maybe while the source was open:
    // then its chip in the same place takes the focus.
    requestAnimationFrame(() => {
      const target = opener.current?.isConnected ? opener.current : citationChips()[openerSlot.current]
      target?.focus()
    })
  }
  const [drawer, setDrawer] = useState(false)
  const drawerFocus = useReturnFocus()
  const abortRef = useRef<AbortController | null>(null)
  const endRef = useRef<HTMLDivElement>(null)

  const conv = useQuery({
    queryKey: qk.conversation(conversationId ?? ''),
    queryFn: () => getConversation(conversationId!),
    enabled: Boolean(conversationId),
    // The answer may be stored a moment after the stream closes: poll briefly until it shows up.
    refetchInterval: (q) =>
      stream?.endedAt && stream.conversationId === conversationId && Date.now() - stream.endedAt < SETTLE_MS &&
      (q.state.data?.messages.length ?? 0) < baseCount + 2
        ? 400
        : false,
  })
  const hasDocs = useQuery({
    queryKey: ['documents', 'any'],
    queryFn: () => listDocuments({ page_size: 1 }),
    staleTime: 60_000,
  })

  const newestReady = useQuery({
    queryKey: ['documents', 'newest-ready'],
    queryFn: () => listDocuments({ status: 'ready', page_size: 1 }),
    staleTime: 60_000,
    enabled: !!hasDocs.data?.total,
  })

  const streamConv = useRef<string | null>(null)
  // Switching to another conversation stops a stream of the old one
  // (but not /chat → /chat/:id right after the first question created it).
  useEffect(() => {
    if (streamConv.current && streamConv.current !== conversationId) abortRef.current?.abort()
  }, [conversationId])
  useEffect(() => () => abortRef.current?.abort(), [])

  const messages = conv.data?.messages ?? []
  // The streamed answer is shown until the stored conversation holds both new messages.
  const live =
    stream && stream.conversationId === conversationId && !(stream.endedAt && messages.length >= baseCount + 2)
      ? stream
      : null
  const shown = live ? messages.slice(0, baseCount) : messages

  useEffect(() => {
    endRef.current?.scrollIntoView({ block: 'end' })
  }, [live?.content, live?.phase, messages.length])

  const send = async (text: string) => {
    let id = conversationId
    const ctrl = new AbortController()
    abortRef.current = ctrl
    try {
      if (!id) {
        const c = await createConversation(text.length > 60 ? `${text.slice(0, 57)}…` : text)
        id = c.id
        streamConv.current = id
        setBaseCount(0)
        void qc.invalidateQueries({ queryKey: qk.conversations })
        navigate(`/chat/${id}`)
      } else {
        streamConv.current = id
        setBaseCount(messages.length)
      }
      setStream(startStream(id, text))
      await streamMessage(
        id,
        { content: text, ...scopeBody(scope) },
        (ev) => setStream((s) => (s ? applyEvent(s, ev) : s)),
        ctrl.signal,
      )
    } catch (err) {
      if (!(err instanceof DOMException && err.name === 'AbortError')) {
        toast.error(errorMessage(err))
        if (err instanceof ApiError && err.status === 404) navigate('/chat', { replace: true })
        // Refused before any answer began: nothing to show but the stored conversation.
        setStream((s) => (s && s.phase === 'retrieving' && !s.sources.length ? null : s))
      }
    } finally {
      if (abortRef.current === ctrl) {
        abortRef.current = null
        streamConv.current = null
      }
      setStream((s) => (s ? endStream(s) : s))
      if (id) {
        // The server stores the question and the (possibly partial) answer: show its version.
        void qc.invalidateQueries({ queryKey: qk.conversation(id) })
        void qc.invalidateQueries({ queryKey: qk.conversations })
      }
    }
  }

  const busy = stream !== null && stream.endedAt === null
  const showWelcome = !conversationId && !live

  return (
    <div className="flex h-[calc(100dvh-3.5rem)] min-h-0">
      <div className="hidden w-64 shrink-0 border-r border-zinc-200 bg-zinc-50/60 md:block dark:border-zinc-800 dark:bg-zinc-900/30">
        <ConversationSidebar activeId={conversationId} />
      </div>
      <RDialog.Root open={drawer} onOpenChange={setDrawer}>
        <RDialog.Portal>
          <RDialog.Overlay className="fixed inset-0 z-40 bg-zinc-950/40 md:hidden" />
          <RDialog.Content className="fixed inset-y-0 left-0 z-50 w-72 bg-white shadow-xl md:hidden dark:bg-zinc-950" {...drawerFocus}>
            <RDialog.Title className="sr-only">Conversations</RDialog.Title>
            <RDialog.Description className="sr-only">Your past conversations</RDialog.Description>
            <ConversationSidebar activeId={conversationId} onNavigate={() => setDrawer(false)} />
          </RDialog.Content>
        </RDialog.Portal>
      </RDialog.Root>

      <section className="flex min-w-0 flex-1 flex-col" aria-label="Chat">
        <div className="flex items-center gap-2 border-b border-zinc-200 px-3 py-2 md:hidden dark:border-zinc-800">
          <Button variant="ghost" size="icon" aria-label="Show conversations" onClick={() => setDrawer(true)}>
            <PanelLeft className="h-4 w-4" aria-hidden="true" />
          </Button>
          <span className="truncate text-sm font-medium">{conv.data?.title ?? 'New chat'}</span>
        </div>
        {config.data && !config.data.llm_configured && (
          <Alert tone="info" className="mx-3 mt-3 flex items-start gap-2 sm:mx-6">
            <Info className="mt-0.5 h-4 w-4 shrink-0" aria-hidden="true" />
            <span data-testid="extractive-banner">
              No language model is configured — answers are extracted sentences from your documents
            </span>
          </Alert>
        )}
        <div className="min-h-0 flex-1 overflow-y-auto">
          <div className="mx-auto max-w-3xl space-y-6 px-3 py-6 sm:px-6">
            {showWelcome ? (
              hasDocs.data && hasDocs.data.total === 0 ? (
                <EmptyState icon={<Sparkles className="h-6 w-6" />} title="Nothing to ask yet"
                  action={<Link to="/documents" className="text-sm font-medium text-accent-600 hover:underline dark:text-accent-300">Upload documents</Link>}>
                  Upload a few documents first; every answer will cite the pages it used.
                </EmptyState>
              ) : (
                <div className="pt-10 text-center sm:pt-16">
                  <Sparkles className="mx-auto h-8 w-8 text-accent-500" aria-hidden="true" />
                  <h1 className="mt-3 text-xl font-semibold tracking-tight">What would you like to know?</h1>
                  <p className="mt-1 text-sm text-zinc-500 dark:text-zinc-400">Answers cite the exact passages they come from.</p>
                  <div className="mt-6 flex flex-wrap justify-center gap-2">
                    {suggestions(scope, newestReady.data?.items[0]?.filename).map((s) => (
                      <button key={s} type="button" onClick={() => void send(s)}
                        className="rounded-full border border-zinc-200 px-3 py-1.5 text-sm text-zinc-700 hover:border-accent-300 hover:bg-accent-50 dark:border-zinc-800 dark:text-zinc-300 dark:hover:bg-accent-700/10">
                        {s}
                      </button>
                    ))}
                  </div>
                </div>
              )
            ) : conv.isPending && conversationId && !live ? (
              <div className="space-y-4" role="status" aria-label="Loading conversation">
                <Skeleton className="ml-auto h-10 w-2/3 rounded-2xl" />
                <Skeleton className="h-24 w-full" />
              </div>
            ) : conv.isError && !live ? (
              <ErrorState message={errorMessage(conv.error)} onRetry={() => void conv.refetch()} />
            ) : (
              <>
                {shown.map((m) =>
                  m.role === 'user' ? (
                    <UserMessage key={m.id} content={m.content} />
                  ) : (
                    <AssistantMessage key={m.id} content={m.content} citations={m.citations ?? []} status={m.status}
                      error={m.error} onCite={openSource} />
                  ),
                )}
                {live && (
                  <>
                    <UserMessage content={live.question} />
                    <AssistantMessage
                      content={live.content}
                      citations={citationsFor(live)}
                      status={live.phase === 'done' ? 'complete' : live.phase}
                      error={live.error}
                      streaming={live.phase === 'retrieving' || live.phase === 'streaming'}
                      onCite={openSource}
                    />
                  </>
                )}
              </>
            )}
            <div ref={endRef} />
          </div>
        </div>
        <div className="mx-auto w-full max-w-3xl px-3 pb-4 sm:px-6">
          <Composer onSend={(t) => void send(t)} onStop={() => abortRef.current?.abort()} busy={busy}
            scope={scope} onScope={setScope} autoFocus />
        </div>
      </section>

      {source && (narrow ? (
        <RDialog.Root open onOpenChange={(o) => !o && closeSource()}>
          <RDialog.Portal>
            <RDialog.Content className="fixed inset-0 z-50 flex flex-col" aria-describedby={undefined}
              onOpenAutoFocus={(e) => e.preventDefault()} onCloseAutoFocus={(e) => e.preventDefault()}>
              <RDialog.Title className="sr-only">Source {source.index}: {source.filename}</RDialog.Title>
              <SourceViewer key={`${source.document_id}:${source.chunk_id}:${source.index}`} citation={source} onClose={closeSource} />
            </RDialog.Content>
          </RDialog.Portal>
        </RDialog.Root>
      ) : (
        <div className="flex w-[46%] max-w-3xl shrink-0 flex-col border-l border-zinc-200 dark:border-zinc-800">
          <SourceViewer key={`${source.document_id}:${source.chunk_id}:${source.index}`} citation={source} onClose={closeSource} />
        </div>
      ))}
    </div>
  )
}

function citationChips(): HTMLElement[] {
  return Array.from(document.querySelectorAll<HTMLElement>('[data-testid="citation-chip"]'))
}
