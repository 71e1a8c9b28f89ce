import { useState, type FormEvent } from 'react'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { toast } from 'sonner'
import { errorMessage } from '../../client/http'
import type { Document } from '../../client/types'
import { Button } from '../../components/ui/button'
import { Dialog } from '../../components/ui/dialog'
import { Alert } from '../../components/ui/feedback'
import { Field, Select } from '../../components/ui/form'
import { pluralize } from '../../lib/format'
import { qk } from '../../lib/queryClient'
import { moveDocuments } from './moving'
import { useWritableCollections } from './useCollections'

/** The value of the "private space" choice (a collection id is never empty). */
const PRIVATE = ''

/**
 * Moves documents into a collection the caller edits, or back to their uploader's private space.
 * Moving does not re-embed anything: the same vectors serve the new place.
 */
export function MoveDialog({ docs, onClose }: { docs: Document[]; onClose: (moved: boolean) => void }) {
  const { writable, isPending } = useWritableCollections()
  const here = new Set(docs.map((d) => d.collection_id ?? PRIVATE))
  // Start on a place that changes something: the first collection they are not all in already.
  const first = writable.find((c) => !(here.size === 1 && here.has(c.id)))
  const [target, setTarget] = useState<string | null>(null)
  const chosen = target ?? first?.id ?? PRIVATE
  const qc = useQueryClient()
  const move = useMutation({
    mutationFn: () => moveDocuments(docs.map((d) => d.id), chosen || null),
    onSuccess: ({ moved, error }) => {
      void qc.invalidateQueries({ queryKey: ['documents'] })
      void qc.invalidateQueries({ queryKey: qk.collections })
      docs.forEach((d) => void qc.invalidateQueries({ queryKey: qk.document(d.id) }))
      const where = chosen ? writable.find((c) => c.id === chosen)?.name ?? 'the collection' : 'the private space'
      if (moved) toast.success(`Moved ${pluralize(moved, 'document')} to ${where}`)
      if (error) toast.error(error)
      onClose(moved > 0)
    },
  })
  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    move.mutate()
  }
  const title = docs.length === 1 ? `Move ${docs[0]!.filename}` : `Move ${pluralize(docs.length, 'document')}`
  return (
    <Dialog open onOpenChange={(o) => { if (!o) onClose(false) }} title={title}
      description="Members of a collection search, chat with and read its documents. Moving does not process the file again.">
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        {move.isError && <Alert tone="error">{errorMessage(move.error)}</Alert>}
        <Field label="Move to" hint={isPending ? 'Loading your collections…' : writable.length === 0 ? 'You edit no collection yet: create one on the Collections page.' : undefined}>
          {(p) => (
            <Select {...p} className="w-full" value={chosen} onChange={(e) => setTarget(e.target.value)}>
              <option value={PRIVATE}>Private space of the uploader (My documents)</option>
              {writable.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </Select>
          )}
        </Field>
        <div className="flex justify-end gap-2">
          <Button variant="ghost" onClick={() => onClose(false)}>Cancel</Button>
          <Button type="submit" variant="primary" loading={move.isPending}
            disabled={here.size === 1 && here.has(chosen)}>Move</Button>
        </div>
      </form>
    </Dialog>
  )
}
