import { useState, type FormEvent } from 'react'
import { Link } from 'react-router'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Library, Plus, Users } from 'lucide-react'
import { toast } from 'sonner'
import { createCollection, deleteCollection } from '../../client/api'
import { errorMessage } from '../../client/http'
import type { Collection } from '../../client/types'
import { Button } from '../../components/ui/button'
import { ConfirmDialog, Dialog } from '../../components/ui/dialog'
import { Alert, Badge, EmptyState, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Field, Input, Textarea } from '../../components/ui/form'
import { qk } from '../../lib/queryClient'
import { MembersDialog } from './MembersDialog'
import { useCollections } from './useCollections'


export default function CollectionsPage() {
  const [creating, setCreating] = useState(false)
  const [membersOf, setMembersOf] = useState<Collection | null>(null)
  const [deleting, setDeleting] = useState<Collection | null>(null)
  const qc = useQueryClient()
  const collections = useCollections()
  const remove = useMutation({
    mutationFn: (c: Collection) => deleteCollection(c.id),
    onSuccess: () => {
      toast.success('Collection deleted')
      setDeleting(null)
      void qc.invalidateQueries({ queryKey: qk.collections })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  return (
    <div className="mx-auto max-w-5xl px-3 py-6 sm:px-6">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div>
          <h1 className="text-xl font-semibold tracking-tight">Collections</h1>
          <p className="mt-1 text-sm text-zinc-500 dark:text-zinc-400">Shared sets of documents: members search and chat with them by role.</p>
        </div>
        <Button variant="primary" onClick={() => setCreating(true)}><Plus className="h-4 w-4" aria-hidden="true" /> New collection</Button>
      </div>
      <div className="mt-5">
        {collections.isPending ? (
          <SkeletonRows label="Loading collections" />
        ) : collections.isError ? (
          <ErrorState message={errorMessage(collections.error)} onRetry={() => void collections.refetch()} />
        ) : collections.data.items.length === 0 ? (
          <EmptyState icon={<Library className="h-6 w-6" aria-hidden="true" />} title="No collections yet">
            Create one to share documents with people or groups.
          </EmptyState>
        ) : (
          <ul aria-label="Collections" className="grid gap-3 sm:grid-cols-2">
            {collections.data.items.map((c) => (
              <li key={c.id} className="rounded-xl border border-zinc-200 p-4 dark:border-zinc-800">
                <div className="flex items-start justify-between gap-2">
                  <h2 className="min-w-0 font-medium break-words">
                    <Link to={`/collections/${c.id}`} className="hover:underline">{c.name}</Link>
                  </h2>
                  <Badge tone={c.role === 'owner' ? 'accent' : 'neutral'}>{c.role}</Badge>
                </div>
                {c.description && <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-300">{c.description}</p>}
                <p className="mt-2 text-xs text-zinc-500 dark:text-zinc-400">
                  {c.document_count} document{c.document_count === 1 ? '' : 's'} · {c.member_count} member{c.member_count === 1 ? '' : 's'}
                </p>
                <div className="mt-3 flex gap-2">
                  <Button size="sm" variant="outline" onClick={() => setMembersOf(c)} aria-label={`Members of ${c.name}`}>
                    <Users className="h-4 w-4" aria-hidden="true" /> Members
                  </Button>
                  {c.role === 'owner' && (
                    <Button size="sm" variant="ghost" onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`}>Delete</Button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
      </div>
      <CreateDialog open={creating} onOpenChange={setCreating} />
      {membersOf && <MembersDialog collection={membersOf} onClose={() => setMembersOf(null)} />}
      <ConfirmDialog open={deleting !== null} onOpenChange={(o) => { if (!o) setDeleting(null) }}
        title={`Delete ${deleting?.name ?? ''}?`} description="Its documents are deleted too. Members lose access at once."
        onConfirm={() => { if (deleting) remove.mutate(deleting) }} busy={remove.isPending} />
    </div>
  )
}

function CreateDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const [name, setName] = useState('')
  const [description, setDescription] = useState('')
  const qc = useQueryClient()
  const create = useMutation({
    mutationFn: createCollection,
    onSuccess: (c) => {
      toast.success(`Created ${c.name}`)
      setName('')
      setDescription('')
      onOpenChange(false)
      void qc.invalidateQueries({ queryKey: qk.collections })
    },
  })
  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    create.mutate({ name: name.trim(), description: description.trim() })
  }
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="New collection">
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        {create.isError && <Alert tone="error">{errorMessage(create.error)}</Alert>}
        <Field label="Name">{(p) => <Input {...p} required value={name} onChange={(e) => setName(e.target.value)} />}</Field>
        <Field label="Description (optional)">{(p) => <Textarea {...p} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />}</Field>
        <div className="flex justify-end gap-2">
          <Button variant="ghost" onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary" loading={create.isPending} disabled={!name.trim()}>Create</Button>
        </div>
      </form>
    </Dialog>
  )
}

