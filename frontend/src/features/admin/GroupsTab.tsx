import { useState, type FormEvent } from 'react'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Plus } from 'lucide-react'
import { toast } from 'sonner'
import {
  adminAddGroupMember, adminCreateGroup, adminDeleteGroup, adminListGroupMembers, adminListGroups, lookupUser,
  adminRemoveGroupMember,
} from '../../client/api'
import { ApiError, errorMessage } from '../../client/http'
import type { Group } from '../../client/types'
import { Button } from '../../components/ui/button'
import { ConfirmDialog, Dialog } from '../../components/ui/dialog'
import { Alert, EmptyState, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Field, Input } from '../../components/ui/form'
import { qk } from '../../lib/queryClient'
import { panel, Table, td, th } from './shared'

export function GroupsTab() {
  const [name, setName] = useState('')
  const [open, setOpen] = useState<Group | null>(null)
  const [deleting, setDeleting] = useState<Group | null>(null)
  const qc = useQueryClient()
  const groups = useQuery({ queryKey: qk.admin('groups'), queryFn: adminListGroups })
  const create = useMutation({
    mutationFn: adminCreateGroup,
    onSuccess: (g) => {
      toast.success(`Created ${g.name}`)
      setName('')
      void qc.invalidateQueries({ queryKey: qk.admin('groups') })
    },
  })
  const remove = useMutation({
    mutationFn: (g: Group) => adminDeleteGroup(g.id),
    onSuccess: () => {
      setDeleting(null)
      void qc.invalidateQueries({ queryKey: qk.admin('groups') })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    create.mutate({ name: name.trim() })
  }
  return (
    <div className={panel}>
      <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-2 border-b border-zinc-200 p-3 dark:border-zinc-800" noValidate>
        <div className="min-w-48 flex-1">
          <Field label="New group">{(p) => <Input {...p} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
        </div>
        <Button type="submit" variant="primary" loading={create.isPending} disabled={!name.trim()}>
          <Plus className="h-4 w-4" aria-hidden="true" /> Create group
        </Button>
      </form>
      {create.isError && <Alert tone="error" className="m-3">{errorMessage(create.error)}</Alert>}
      {groups.isPending ? <SkeletonRows label="Loading groups" /> : groups.isError ? (
        <ErrorState message={errorMessage(groups.error)} onRetry={() => void groups.refetch()} />
      ) : groups.data.items.length === 0 ? (
        <EmptyState title="No groups yet">Groups let you share a collection with many people at once.</EmptyState>
      ) : (
        <Table caption="Groups" head={<><th className={th}>Group</th><th className={th}>Members</th><th className={th}><span className="sr-only">Actions</span></th></>}>
          {groups.data.items.map((g) => (
            <tr key={g.id}>
              <td className={td}>{g.name}</td>
              <td className={td}>{g.member_count}</td>
              <td className={`${td} text-right`}>
                <Button size="sm" variant="outline" onClick={() => setOpen(g)} aria-label={`Members of ${g.name}`}>Members</Button>{' '}
                <Button size="sm" variant="ghost" onClick={() => setDeleting(g)} aria-label={`Delete ${g.name}`}>Delete</Button>
              </td>
            </tr>
          ))}
        </Table>
      )}
      {open && <GroupMembersDialog group={open} onClose={() => setOpen(null)} />}
      <ConfirmDialog open={deleting !== null} onOpenChange={(o) => { if (!o) setDeleting(null) }}
        title={`Delete group ${deleting?.name ?? ''}?`} description="Its members lose what was shared with the group."
        onConfirm={() => { if (deleting) remove.mutate(deleting) }} busy={remove.isPending} />
    </div>
  )
}

function GroupMembersDialog({ group, onClose }: { group: Group; onClose: () => void }) {
  const [email, setEmail] = useState('')
  const qc = useQueryClient()
  const key = qk.admin('group-members', { id: group.id })
  const members = useQuery({ queryKey: key, queryFn: () => adminListGroupMembers(group.id) })
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: key })
    void qc.invalidateQueries({ queryKey: qk.admin('groups') })
  }
  const add = useMutation({
    mutationFn: async () => {
      try {
        const user = await lookupUser(email.trim())
        await adminAddGroupMember(group.id, user.id)
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) throw new Error(`No account uses ${email.trim()}.`)
        throw err
      }
    },
    onSuccess: () => { setEmail(''); refresh() },
  })
  const remove = useMutation({
    mutationFn: (userId: string) => adminRemoveGroupMember(group.id, userId),
    onSuccess: refresh,
    onError: (err) => toast.error(errorMessage(err)),
  })
  return (
    <Dialog open onOpenChange={(o) => { if (!o) onClose() }} title={`Members of ${group.name}`}
      description="Changes take effect on each member's next request.">
      <div className="space-y-4">
        {members.isPending ? <SkeletonRows rows={3} label="Loading members" /> : members.isError ? (
          <ErrorState message={errorMessage(members.error)} onRetry={() => void members.refetch()} />
        ) : (
          <ul aria-label="Group members" className="divide-y divide-zinc-100 dark:divide-zinc-800">
            {members.data.items.map((m) => (
              <li key={m.id} className="flex items-center gap-2 py-2 text-sm">
                <span className="min-w-0 flex-1 break-words">{m.email}</span>
                <Button size="sm" variant="ghost" aria-label={`Remove ${m.email}`} onClick={() => remove.mutate(m.id)}>Remove</Button>
              </li>
            ))}
          </ul>
        )}
        <form onSubmit={(e) => { e.preventDefault(); add.mutate() }} className="flex items-end gap-2" noValidate>
          <div className="flex-1">
            <Field label="Add by email">{(p) => <Input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}</Field>
          </div>
          <Button type="submit" variant="primary" loading={add.isPending} disabled={!email.trim()}>Add</Button>
        </form>
        {add.isError && <Alert tone="error">{errorMessage(add.error)}</Alert>}
      </div>
    </Dialog>
  )
}
