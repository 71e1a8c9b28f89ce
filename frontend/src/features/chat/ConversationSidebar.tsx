import { useState } from 'react'
import { NavLink, useNavigate } from 'react-router'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Check, MessageSquare, Pencil, Plus, Trash2, X } from 'lucide-react'
import { toast } from 'sonner'
import { deleteConversation, listConversations, renameConversation } from '../../client/api'
import { errorMessage } from '../../client/http'
import type { Conversation } from '../../client/types'
import { Button } from '../../components/ui/button'
import { ConfirmDialog } from '../../components/ui/dialog'
import { ErrorState, Skeleton } from '../../components/ui/feedback'
import { cn } from '../../lib/cn'
import { formatRelative } from '../../lib/format'
import { qk } from '../../lib/queryClient'

export function ConversationSidebar({ activeId, onNavigate }: { activeId?: string; onNavigate?: () => void }) {
  const convs = useQuery({ queryKey: qk.conversations, queryFn: listConversations })
  const [editing, setEditing] = useState<string | null>(null)
  const [toDelete, setToDelete] = useState<Conversation | null>(null)
  const qc = useQueryClient()
  const navigate = useNavigate()

  const rename = useMutation({
    mutationFn: ({ id, title }: { id: string; title: string }) => renameConversation(id, title),
    onSuccess: () => {
      setEditing(null)
      void qc.invalidateQueries({ queryKey: qk.conversations })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  const remove = useMutation({
    mutationFn: (id: string) => deleteConversation(id),
    onSuccess: (_, id) => {
      setToDelete(null)
      toast.success('Conversation deleted')
      qc.removeQueries({ queryKey: qk.conversation(id) })
      void qc.invalidateQueries({ queryKey: qk.conversations })
      if (id === activeId) navigate('/chat', { replace: true })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })

  return (
    <nav aria-label="Conversations" className="flex h-full min-h-0 flex-col">
      <div className="p-3">
        <Button variant="outline" className="w-full justify-center" onClick={() => { navigate('/chat'); onNavigate?.() }}>
          <Plus className="h-4 w-4" aria-hidden="true" /> New chat
        </Button>
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto px-2 pb-3">
        {convs.isPending ? (
          <div className="space-y-2 p-1" role="status" aria-label="Loading conversations">
            {[0, 1, 2, 3].map((i) => <Skeleton key={i} className="h-8 w-full" />)}
          </div>
        ) : convs.isError ? (
          <ErrorState message={errorMessage(convs.error)} onRetry={() => void convs.refetch()} />
        ) : convs.data.items.length === 0 ? (
          <p className="px-2 py-6 text-center text-sm text-zinc-500 dark:text-zinc-400">No conversations yet.</p>
        ) : (
          <ul className="space-y-0.5">
            {convs.data.items.map((c) => (
              <li key={c.id} className="group relative">
                {editing === c.id ? (
                  <RenameForm
                    initial={c.title}
                    busy={rename.isPending}
                    onCancel={() => setEditing(null)}
                    onSave={(title) => rename.mutate({ id: c.id, title })}
                  />
                ) : (
                  <>
                    <NavLink
                      to={`/chat/${c.id}`}
                      onClick={onNavigate}
                      className={({ isActive }) =>
                        cn(
                          'flex items-center gap-2 rounded-md py-1.5 pr-16 pl-2 text-sm',
                          isActive
                            ? 'bg-zinc-200/70 font-medium text-zinc-900 dark:bg-zinc-800 dark:text-white'
                            : 'text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800/60',
                        )
                      }
                    >
                      <MessageSquare className="h-3.5 w-3.5 shrink-0 text-zinc-400" aria-hidden="true" />
                      <span className="min-w-0 flex-1 truncate">{c.title || 'Untitled'}</span>
                      <span className="sr-only">, {formatRelative(c.updated_at)}</span>
                    </NavLink>
                    <div className="absolute top-1/2 right-1 flex -translate-y-1/2 opacity-0 group-focus-within:opacity-100 group-hover:opacity-100">
                      <button type="button" aria-label={`Rename ${c.title}`} onClick={() => setEditing(c.id)}
                        className="rounded p-1 text-zinc-500 dark:text-zinc-400 hover:bg-zinc-200 hover:text-zinc-900 dark:hover:bg-zinc-700 dark:hover:text-white">
                        <Pencil className="h-3.5 w-3.5" aria-hidden="true" />
                      </button>
                      <button type="button" aria-label={`Delete ${c.title}`} onClick={() => setToDelete(c)}
                        className="rounded p-1 text-zinc-500 dark:text-zinc-400 hover:bg-zinc-200 hover:text-red-600 dark:hover:bg-zinc-700">
                        <Trash2 className="h-3.5 w-3.5" aria-hidden="true" />
                      </button>
                    </div>
                  </>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
      <ConfirmDialog
        open={toDelete !== null}
        onOpenChange={(o) => !o && setToDelete(null)}
        title="Delete conversation?"
        description={`“${toDelete?.title ?? ''}” and its messages will be removed.`}
        busy={remove.isPending}
        onConfirm={() => toDelete && remove.mutate(toDelete.id)}
      />
    </nav>
  )
}

function RenameForm({ initial, busy, onSave, onCancel }: {
  initial: string
  busy: boolean
  onSave: (title: string) => void
  onCancel: () => void
}) {
  const [title, setTitle] = useState(initial)
  return (
    <form
      className="flex items-center gap-1 px-1 py-0.5"
      onSubmit={(e) => {
        e.preventDefault()
        if (title.trim()) onSave(title.trim())
      }}
    >
      <input
        autoFocus
        aria-label="Conversation title"
        value={title}
        maxLength={200}
        onChange={(e) => setTitle(e.target.value)}
        onKeyDown={(e) => e.key === 'Escape' && onCancel()}
        className="h-7 min-w-0 flex-1 rounded border border-accent-400 bg-white px-2 text-sm focus:outline-none dark:bg-zinc-900"
      />
      <button type="submit" disabled={busy} aria-label="Save title" className="rounded p-1 text-emerald-600 hover:bg-zinc-100 dark:hover:bg-zinc-800">
        <Check className="h-4 w-4" aria-hidden="true" />
      </button>
      <button type="button" onClick={onCancel} aria-label="Cancel rename" className="rounded p-1 text-zinc-500 dark:text-zinc-400 hover:bg-zinc-100 dark:hover:bg-zinc-800">
        <X className="h-4 w-4" aria-hidden="true" />
      </button>
    </form>
  )
}
