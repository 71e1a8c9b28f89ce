import { useState, type FormEvent } from 'react'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Library, Plus, Users } from 'lucide-react'
import { toast } from 'sonner'
import {
  createCollection, deleteCollection, listCollectionMembers, listCollections, listGroups, lookupUser,
  removeCollectionMember, setCollectionMember,
} from '../../client/api'
import { ApiError, errorMessage } from '../../client/http'
import type { Collection, CollectionRole } from '../../client/types'
import { Button } from '../../components/ui/button'
import { ConfirmDialog, Dialog } from '../../components/ui/dialog'
import { Alert, Badge, EmptyState, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Field, Input, Select, Textarea } from '../../components/ui/form'

const ROLES: { value: CollectionRole; label: string }[] = [
  { value: 'viewer', label: 'Viewer — search, chat, read' },
  { value: 'editor', label: 'Editor — + upload, remove, reprocess' },
  { value: 'owner', label: 'Owner — + members, rename, delete' },
]

const keys = {
  list: ['collections'] as const,
  members: (id: string) => ['collections', id, 'members'] as const,
}

export default function CollectionsPage() {
  const [creating, setCreating] = useState(false)
  const [membersOf, setMembersOf] = useState<Collection | null>(null)
  const [deleting, setDeleting] = useState<Collection | null>(null)
  const qc = useQueryClient()
  const collections = useQuery({ queryKey: keys.list, queryFn: listCollections })
  const remove = useMutation({
    mutationFn: (c: Collection) => deleteCollection(c.id),
    onSuccess: () => {
      toast.success('Collection deleted')
      setDeleting(null)
      void qc.invalidateQueries({ queryKey: keys.list })
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
                  <h2 className="font-medium break-words">{c.name}</h2>
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
      void qc.invalidateQueries({ queryKey: keys.list })
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

function MembersDialog({ collection, onClose }: { collection: Collection; onClose: () => void }) {
  const owner = collection.role === 'owner'
  const [email, setEmail] = useState('')
  const [groupId, setGroupId] = useState('')
  const [role, setRole] = useState<CollectionRole>('viewer')
  const qc = useQueryClient()
  const members = useQuery({ queryKey: keys.members(collection.id), queryFn: () => listCollectionMembers(collection.id) })
  const groups = useQuery({ queryKey: ['groups'], queryFn: listGroups, enabled: owner })
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.members(collection.id) })
    void qc.invalidateQueries({ queryKey: keys.list })
  }
  const add = useMutation({
    mutationFn: async () => {
      if (groupId) return setCollectionMember(collection.id, { group_id: groupId, role })
      try {
        const user = await lookupUser(email.trim())
        return await setCollectionMember(collection.id, { user_id: user.id, role })
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) throw new Error(`No account uses ${email.trim()}.`)
        throw err
      }
    },
    onSuccess: (m) => {
      toast.success(`${m.name} is now ${m.role}`)
      setEmail('')
      setGroupId('')
      refresh()
    },
  })
  const change = useMutation({
    mutationFn: (m: { user_id: string | null; group_id: string | null; role: CollectionRole }) =>
      setCollectionMember(collection.id, m.user_id ? { user_id: m.user_id, role: m.role } : { group_id: m.group_id, role: m.role }),
    onSuccess: refresh,
    onError: (err) => toast.error(errorMessage(err)),
  })
  const remove = useMutation({
    mutationFn: (memberId: string) => removeCollectionMember(collection.id, memberId),
    onSuccess: refresh,
    onError: (err) => toast.error(errorMessage(err)),
  })
  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    add.mutate()
  }
  return (
    <Dialog open onOpenChange={(o) => { if (!o) onClose() }} title={`Members of ${collection.name}`}
      description="Viewers search, chat and read; editors also upload and remove; owners also manage members.">
      <div className="space-y-4">
        {members.isPending ? <SkeletonRows rows={3} label="Loading members" /> : members.isError ? (
          <ErrorState message={errorMessage(members.error)} onRetry={() => void members.refetch()} />
        ) : (
          <ul aria-label="Members" className="divide-y divide-zinc-100 dark:divide-zinc-800">
            {members.data.items.map((m) => (
              <li key={m.id} className="flex flex-wrap items-center gap-2 py-2 text-sm">
                <span className="min-w-0 flex-1 break-words">{m.kind === 'group' ? `Group: ${m.name}` : m.name}</span>
                {owner ? (
                  <>
                    <Select aria-label={`Role of ${m.name}`} value={m.role}
                      onChange={(e) => change.mutate({ user_id: m.user_id, group_id: m.group_id, role: e.target.value as CollectionRole })}>
                      {ROLES.map((r) => <option key={r.value} value={r.value}>{r.value}</option>)}
                    </Select>
                    <Button size="sm" variant="ghost" aria-label={`Remove ${m.name}`} onClick={() => remove.mutate(m.id)}>Remove</Button>
                  </>
                ) : <Badge>{m.role}</Badge>}
              </li>
            ))}
          </ul>
        )}
        {owner && (
          <form onSubmit={onSubmit} className="space-y-3 border-t border-zinc-200 pt-4 dark:border-zinc-800" noValidate>
            {add.isError && <Alert tone="error">{errorMessage(add.error)}</Alert>}
            <Field label="Add a person by email">
              {(p) => <Input {...p} type="email" value={email} disabled={!!groupId} onChange={(e) => setEmail(e.target.value)} />}
            </Field>
            <Field label="…or a group">
              {(p) => (
                <Select {...p} className="w-full" value={groupId} disabled={!!email.trim()} onChange={(e) => setGroupId(e.target.value)}>
                  <option value="">No group</option>
                  {(groups.data?.items ?? []).map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
                </Select>
              )}
            </Field>
            <Field label="Role">
              {(p) => (
                <Select {...p} className="w-full" value={role} onChange={(e) => setRole(e.target.value as CollectionRole)}>
                  {ROLES.map((r) => <option key={r.value} value={r.value}>{r.label}</option>)}
                </Select>
              )}
            </Field>
            <div className="flex justify-end">
              <Button type="submit" variant="primary" loading={add.isPending} disabled={!email.trim() && !groupId}>Add member</Button>
            </div>
          </form>
        )}
      </div>
    </Dialog>
  )
}
