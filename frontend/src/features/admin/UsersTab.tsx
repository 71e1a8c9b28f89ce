import { useState, type FormEvent } from 'react'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Plus, Search } from 'lucide-react'
import { toast } from 'sonner'
import { adminCreateUser, adminListUsers, adminResetPassword, adminUpdateUser } from '../../client/api'
import { errorMessage } from '../../client/http'
import type { AdminUser, Role } from '../../client/types'
import { Button } from '../../components/ui/button'
import { Dialog } from '../../components/ui/dialog'
import { Alert, Badge, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Field, Input, Select } from '../../components/ui/form'
import { formatRelative } from '../../lib/format'
import { qk } from '../../lib/queryClient'
import { useDebounced } from '../../lib/useDebounced'
import { useSession } from '../auth/session'
import { MIN_PASSWORD } from '../auth/RegisterPage'
import { Pager, panel, Table, td, th } from './shared'

const PAGE_SIZE = 20

export function UsersTab() {
  const [q, setQ] = useState('')
  const [page, setPage] = useState(1)
  const [creating, setCreating] = useState(false)
  const [resetFor, setResetFor] = useState<AdminUser | null>(null)
  const dq = useDebounced(q)
  const me = useSession().data
  const qc = useQueryClient()
  const users = useQuery({
    queryKey: qk.admin('users', { dq, page }),
    queryFn: () => adminListUsers({ q: dq, page, page_size: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  })
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: { role?: Role; is_active?: boolean } }) => adminUpdateUser(id, body),
    onSuccess: (u) => {
      toast.success(`Updated ${u.email}`)
      void qc.invalidateQueries({ queryKey: ['admin', 'users'] })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })

  return (
    <div className={panel}>
      <div className="flex flex-wrap items-center gap-2 border-b border-zinc-200 p-3 dark:border-zinc-800">
        <div className="relative min-w-48 flex-1">
          <Search className="pointer-events-none absolute top-1/2 left-2.5 h-4 w-4 -translate-y-1/2 text-zinc-400" aria-hidden="true" />
          <Input type="search" aria-label="Search users" placeholder="Search by email or name…" className="pl-8" value={q}
            onChange={(e) => { setQ(e.target.value); setPage(1) }} />
        </div>
        <Button variant="primary" onClick={() => setCreating(true)}><Plus className="h-4 w-4" aria-hidden="true" /> Create user</Button>
      </div>
      {users.isPending ? (
        <SkeletonRows label="Loading users" />
      ) : users.isError ? (
        <ErrorState message={errorMessage(users.error)} onRetry={() => void users.refetch()} />
      ) : (
        <>
          <Table caption="Users" head={<>
            <th className={th}>User</th><th className={th}>Role</th><th className={th}>Status</th>
            <th className={`${th} hidden md:table-cell`}>Documents</th><th className={`${th} hidden md:table-cell`}>Last sign-in</th>
            <th className={th}><span className="sr-only">Actions</span></th>
          </>}>
            {users.data.items.map((u) => (
              <tr key={u.id}>
                <td className={td}>
                  <div className="font-medium">{u.display_name || u.email}</div>
                  {u.display_name && <div className="text-xs text-zinc-500 dark:text-zinc-400">{u.email}</div>}
                </td>
                <td className={td}>
                  <Select aria-label={`Role of ${u.email}`} className="h-8 w-28" value={u.role} disabled={u.id === me?.id}
                    onChange={(e) => update.mutate({ id: u.id, body: { role: e.target.value as Role } })}>
                    <option value="user">User</option>
                    <option value="admin">Admin</option>
                  </Select>
                </td>
                <td className={td}>{u.is_active ? <Badge tone="green">Active</Badge> : <Badge tone="red">Deactivated</Badge>}</td>
                <td className={`${td} hidden tabular-nums md:table-cell`}>{u.document_count}</td>
                <td className={`${td} hidden text-zinc-500 dark:text-zinc-400 md:table-cell`}>{formatRelative(u.last_login_at)}</td>
                <td className={`${td} text-right whitespace-nowrap`}>
                  <Button size="sm" variant="ghost" onClick={() => setResetFor(u)}>Reset password</Button>
                  <Button size="sm" variant="ghost" disabled={u.id === me?.id}
                    onClick={() => update.mutate({ id: u.id, body: { is_active: !u.is_active } })}>
                    {u.is_active ? 'Deactivate' : 'Activate'}
                  </Button>
                </td>
              </tr>
            ))}
          </Table>
          <Pager page={page} pageSize={PAGE_SIZE} total={users.data.total} onPage={setPage} />
        </>
      )}
      <CreateUserDialog open={creating} onOpenChange={setCreating} />
      <ResetPasswordDialog user={resetFor} onClose={() => setResetFor(null)} />
    </div>
  )
}

function CreateUserDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [role, setRole] = useState<Role>('user')
  const qc = useQueryClient()
  const m = useMutation({
    mutationFn: adminCreateUser,
    onSuccess: (u) => {
      toast.success(`Created ${u.email}`)
      setEmail('')
      setPassword('')
      onOpenChange(false)
      void qc.invalidateQueries({ queryKey: ['admin', 'users'] })
    },
  })
  const submit = (e: FormEvent) => {
    e.preventDefault()
    m.mutate({ email: email.trim(), password, role })
  }
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="Create user">
      <form onSubmit={submit} className="space-y-4">
        {m.isError && <Alert tone="error">{errorMessage(m.error)}</Alert>}
        <Field label="Email">{(p) => <Input {...p} type="email" autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />}</Field>
        <Field label="Initial password" hint={`At least ${MIN_PASSWORD} characters.`}>
          {(p) => <Input {...p} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <Field label="Role">
          {(p) => <Select {...p} className="w-full" value={role} onChange={(e) => setRole(e.target.value as Role)}><option value="user">User</option><option value="admin">Admin</option></Select>}
        </Field>
        <div className="flex justify-end gap-2">
          <Button variant="outline" onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary" loading={m.isPending} disabled={!email || password.length < MIN_PASSWORD}>Create</Button>
        </div>
      </form>
    </Dialog>
  )
}

function ResetPasswordDialog({ user, onClose }: { user: AdminUser | null; onClose: () => void }) {
  const [password, setPassword] = useState('')
  const m = useMutation({
    mutationFn: () => adminResetPassword(user!.id, password),
    onSuccess: () => {
      toast.success(`Password reset; ${user?.email} must change it at next sign-in`)
      setPassword('')
      onClose()
    },
  })
  return (
    <Dialog open={user !== null} onOpenChange={(o) => !o && onClose()} title="Reset password"
      description={`${user?.email ?? ''} will have to choose a new password at next sign-in.`}>
      <form onSubmit={(e) => { e.preventDefault(); m.mutate() }} className="space-y-4">
        {m.isError && <Alert tone="error">{errorMessage(m.error)}</Alert>}
        <Field label="Temporary password">{(p) => <Input {...p} type="password" autoComplete="new-password" autoFocus value={password} onChange={(e) => setPassword(e.target.value)} />}</Field>
        <div className="flex justify-end gap-2">
          <Button variant="outline" onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" loading={m.isPending} disabled={password.length < MIN_PASSWORD}>Reset</Button>
        </div>
      </form>
    </Dialog>
  )
}
