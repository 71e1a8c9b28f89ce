import { useState, type FormEvent } from 'react'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { toast } from 'sonner'
import { listCollectionMembers, listGroups, lookupUser, removeCollectionMember, setCollectionMember } from '../../client/api'
import { ApiError, errorMessage } from '../../client/http'
import type { Collection, CollectionRole } from '../../client/types'
import { Button } from '../../components/ui/button'
import { Dialog } from '../../components/ui/dialog'
import { Alert, Badge, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Field, Input, Select } from '../../components/ui/form'
import { qk } from '../../lib/queryClient'

const ROLES: { value: CollectionRole; label: string }[] = [
  { value: 'viewer', label: 'Viewer — search, chat, read' },
  { value: 'editor', label: 'Editor — + upload, remove, reprocess' },
  { value: 'owner', label: 'Owner — + members, rename, delete' },
]

const membersKey = (id: string) => [...qk.collection(id), 'members'] as const

export function MembersDialog({ collection, onClose }: { collection: Collection; onClose: () => void }) {
  const owner = collection.role === 'owner'
  const [email, setEmail] = useState('')
  const [groupId, setGroupId] = useState('')
  const [role, setRole] = useState<CollectionRole>('viewer')
  const qc = useQueryClient()
  const members = useQuery({ queryKey: membersKey(collection.id), queryFn: () => listCollectionMembers(collection.id) })
  const groups = useQuery({ queryKey: ['groups'], queryFn: listGroups, enabled: owner })
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: membersKey(collection.id) })
    void qc.invalidateQueries({ queryKey: qk.collections })
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
