import { useState, type FormEvent } from 'react'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { toast } from 'sonner'
import { listDocuments } from '../../client/api'
import { errorMessage } from '../../client/http'
import type { Collection } from '../../client/types'
import { Button } from '../../components/ui/button'
import { Dialog } from '../../components/ui/dialog'
import { Alert, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Input } from '../../components/ui/form'
import { pluralize } from '../../lib/format'
import { qk } from '../../lib/queryClient'
import { useDebounced } from '../../lib/useDebounced'
import { moveDocuments } from './moving'

/** Moves documents of the caller's private space into `collection` (no re-processing). */
export function AddDocumentsDialog({ collection, onClose }: { collection: Collection; onClose: () => void }) {
  const [filter, setFilter] = useState('')
  const q = useDebounced(filter.trim(), 250)
  const [picked, setPicked] = useState<Set<string>>(new Set())
  const qc = useQueryClient()
  const params = { collection_id: 'private', q: q || undefined, sort: 'filename' as const, order: 'asc' as const, page_size: 100 }
  const docs = useQuery({ queryKey: qk.documents(params), queryFn: () => listDocuments(params) })
  const add = useMutation({
    mutationFn: () => moveDocuments([...picked], collection.id),
    onSuccess: ({ moved, error }) => {
      void qc.invalidateQueries({ queryKey: ['documents'] })
      void qc.invalidateQueries({ queryKey: qk.collections })
      if (moved) toast.success(`Added ${pluralize(moved, 'document')} to ${collection.name}`)
      if (error) toast.error(error)
      else onClose()
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  const toggle = (id: string) =>
    setPicked((s) => {
      const n = new Set(s)
      if (n.has(id)) n.delete(id)
      else n.add(id)
      return n
    })
  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    add.mutate()
  }
  return (
    <Dialog open onOpenChange={(o) => { if (!o) onClose() }} title={`Add documents to ${collection.name}`}
      description="Your private documents move into the collection: its members can then read them. Nothing is processed again.">
      <form onSubmit={onSubmit} className="space-y-3" noValidate>
        <Input type="search" placeholder="Search by name…" aria-label="Search your documents" value={filter}
          onChange={(e) => setFilter(e.target.value)} />
        <div className="max-h-72 overflow-y-auto rounded-md border border-zinc-200 dark:border-zinc-800">
          {docs.isPending ? <SkeletonRows rows={3} label="Loading your documents" /> : docs.isError ? (
            <ErrorState message={errorMessage(docs.error)} onRetry={() => void docs.refetch()} />
          ) : docs.data.items.length === 0 ? (
            <Alert tone="info" className="m-2">{q ? 'No private document matches.' : 'You have no private documents to add.'}</Alert>
          ) : (
            <fieldset>
              <legend className="sr-only">Your private documents</legend>
              {docs.data.items.map((d) => (
                <label key={d.id} className="flex cursor-pointer items-center gap-2 px-3 py-2 text-sm hover:bg-zinc-50 dark:hover:bg-zinc-800/60">
                  <input type="checkbox" className="h-4 w-4 shrink-0 accent-accent-600" checked={picked.has(d.id)} onChange={() => toggle(d.id)} />
                  <span className="min-w-0 truncate">{d.filename}</span>
                </label>
              ))}
            </fieldset>
          )}
        </div>
        <div className="flex justify-end gap-2">
          <Button variant="ghost" onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" loading={add.isPending} disabled={picked.size === 0}>
            Add {picked.size > 0 ? pluralize(picked.size, 'document') : ''}
          </Button>
        </div>
      </form>
    </Dialog>
  )
}
