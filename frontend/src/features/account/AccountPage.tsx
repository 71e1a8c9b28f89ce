import { useState, type FormEvent, type ReactNode } from 'react'
import { useNavigate, useSearchParams } from 'react-router'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { BookOpen, Check, Copy, KeyRound, Plus } from 'lucide-react'
import { toast } from 'sonner'
import { changePassword, createApiKey, listApiKeys, logoutAll, revokeApiKey } from '../../client/api'
import { errorMessage } from '../../client/http'
import type { ApiKey, NewApiKey } from '../../client/types'
import { Button } from '../../components/ui/button'
import { ConfirmDialog, Dialog } from '../../components/ui/dialog'
import { Alert, EmptyState, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Field, Input } from '../../components/ui/form'
import { formatDateTime, formatRelative } from '../../lib/format'
import { qk } from '../../lib/queryClient'
import { useSession } from '../auth/session'
import { MIN_PASSWORD } from '../auth/RegisterPage'

/** The interactive API reference (Swagger UI), served by the backend beside the API. */
export const API_DOCS_URL = '/api/docs'

export function Card({ title, description, children, action }: {
  title: string
  description?: ReactNode
  children: ReactNode
  action?: ReactNode
}) {
  return (
    <section className="rounded-xl border border-zinc-200 dark:border-zinc-800">
      <div className="flex items-start justify-between gap-4 border-b border-zinc-200 px-5 py-4 dark:border-zinc-800">
        <div className="min-w-0">
          <h2 className="text-sm font-semibold">{title}</h2>
          {description && <div className="mt-0.5 text-sm text-zinc-500 dark:text-zinc-400">{description}</div>}
        </div>
        {action}
      </div>
      <div className="p-5">{children}</div>
    </section>
  )
}

export function AccountPage() {
  const { data: user } = useSession()
  const [params] = useSearchParams()
  return (
    <div className="mx-auto max-w-3xl space-y-6 px-3 py-6 sm:px-6">
      <div>
        <h1 className="text-xl font-semibold tracking-tight">Account</h1>
        <p className="text-sm text-zinc-500 dark:text-zinc-400">{user?.email}{user?.role === 'admin' ? ' · administrator' : ''}</p>
      </div>
      <PasswordCard highlight={params.get('change') === '1' || Boolean(user?.must_change_password)} />
      <ApiKeysCard />
      <SessionsCard />
    </div>
  )
}

function PasswordCard({ highlight }: { highlight: boolean }) {
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [confirm, setConfirm] = useState('')
  const qc = useQueryClient()
  const m = useMutation({
    mutationFn: changePassword,
    onSuccess: () => {
      toast.success('Password changed. Other sessions were signed out.')
      setCurrent('')
      setNext('')
      setConfirm('')
      void qc.invalidateQueries({ queryKey: qk.me })
    },
  })
  const mismatch = confirm.length > 0 && confirm !== next
  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    if (next.length < MIN_PASSWORD || mismatch) return
    m.mutate({ current_password: current, new_password: next })
  }
  return (
    <Card title="Password" description="Changing it signs out your other sessions.">
      {highlight && <Alert tone="warning" className="mb-4">Please choose a new password to continue.</Alert>}
      <form onSubmit={onSubmit} className="grid max-w-sm gap-4">
        {m.isError && <Alert tone="error">{errorMessage(m.error)}</Alert>}
        <Field label="Current password">
          {(p) => <Input {...p} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />}
        </Field>
        <Field label="New password" hint={`At least ${MIN_PASSWORD} characters.`}>
          {(p) => <Input {...p} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />}
        </Field>
        <Field label="Confirm new password" error={mismatch ? 'The passwords do not match.' : null}>
          {(p) => <Input {...p} type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />}
        </Field>
        <div>
          <Button type="submit" variant="primary" loading={m.isPending}
            disabled={!current || next.length < MIN_PASSWORD || confirm !== next}>
            Change password
          </Button>
        </div>
      </form>
    </Card>
  )
}

type KeyScope = ApiKey['scopes'][number]
const SCOPE_CHOICES: { value: KeyScope; label: string; hint: string }[] = [
  { value: 'read', label: 'Read', hint: 'List documents, search and chat.' },
  { value: 'write', label: 'Read and write', hint: 'Also upload, delete and reprocess documents.' },
  { value: 'admin', label: 'Administration', hint: 'Also the admin routes. Administrators only.' },
]
const SCOPE_LABEL: Record<KeyScope, string> = { read: 'read', write: 'read + write', admin: 'admin' }

function ApiKeysCard() {
  const keys = useQuery({ queryKey: qk.apiKeys, queryFn: listApiKeys })
  const { data: me } = useSession()
  const [creating, setCreating] = useState(false)
  const [name, setName] = useState('')
  const [scope, setScope] = useState<KeyScope>('read')
  const [expires, setExpires] = useState('')
  const [created, setCreated] = useState<NewApiKey | null>(null)
  const [revoke, setRevoke] = useState<ApiKey | null>(null)
  const [copied, setCopied] = useState(false)
  const qc = useQueryClient()
  const create = useMutation({
    mutationFn: createApiKey,
    onSuccess: (k) => {
      setCreating(false)
      setName('')
      setScope('read')
      setExpires('')
      setCreated(k)
      void qc.invalidateQueries({ queryKey: qk.apiKeys })
    },
  })
  const del = useMutation({
    mutationFn: revokeApiKey,
    onSuccess: () => {
      setRevoke(null)
      toast.success('API key revoked')
      void qc.invalidateQueries({ queryKey: qk.apiKeys })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  const copy = async () => {
    if (!created) return
    try {
      await navigator.clipboard.writeText(created.key)
      setCopied(true)
      setTimeout(() => setCopied(false), 2000)
    } catch {
      toast.error('Copy failed: select the key and copy it by hand')
    }
  }

  return (
    <Card
      title="Personal API keys"
      description={
        <>
          <p>For scripts and integrations: send as <code className="font-mono text-xs">Authorization: Bearer &lt;key&gt;</code>.</p>
          <p className="mt-1">
            <a href={API_DOCS_URL} target="_blank" rel="noopener noreferrer"
              className="inline-flex items-center gap-1 font-medium text-accent-600 hover:underline dark:text-accent-300">
              <BookOpen className="h-3.5 w-3.5" aria-hidden="true" /> API documentation
              <span className="sr-only"> (opens in a new tab)</span>
            </a>
          </p>
        </>
      }
      action={<Button size="sm" variant="outline" onClick={() => setCreating(true)}><Plus className="h-4 w-4" aria-hidden="true" />New key</Button>}
    >
      {keys.isPending ? (
        <SkeletonRows rows={2} label="Loading API keys" />
      ) : keys.isError ? (
        <ErrorState message={errorMessage(keys.error)} onRetry={() => void keys.refetch()} />
      ) : keys.data.items.length === 0 ? (
        <EmptyState icon={<KeyRound className="h-5 w-5" />} title="No API keys">Create one to use Citewise from your own programs.</EmptyState>
      ) : (
        <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {keys.data.items.map((k) => (
            <li key={k.id} className="flex items-center justify-between gap-3 py-2.5">
              <div className="min-w-0">
                <div className="truncate text-sm font-medium">{k.name}</div>
                <div className="text-xs text-zinc-500 dark:text-zinc-400">
                  <code className="font-mono">{k.prefix}…</code> · {SCOPE_LABEL[k.scopes[k.scopes.length - 1] ?? 'read']} · created {formatDateTime(k.created_at)} ·{' '}
                  {k.last_used_at ? `last used ${formatRelative(k.last_used_at)}` : 'never used'}
                  {k.expires_at ? ` · expires ${formatDateTime(k.expires_at)}` : ''}
                </div>
              </div>
              <Button size="sm" variant="ghost" className="text-red-600 dark:text-red-400" onClick={() => setRevoke(k)}>Revoke</Button>
            </li>
          ))}
        </ul>
      )}

      <Dialog open={creating} onOpenChange={setCreating} title="New API key" description="Name it after where it will be used.">
        <form onSubmit={(e) => {
          e.preventDefault()
          if (name.trim()) {
            create.mutate({ name: name.trim(), scopes: [scope], expires_at: expires ? new Date(`${expires}T23:59:59`).toISOString() : null })
          }
        }} className="space-y-4">
          {create.isError && <Alert tone="error">{errorMessage(create.error)}</Alert>}
          <Field label="Name">{(p) => <Input {...p} autoFocus value={name} maxLength={100} onChange={(e) => setName(e.target.value)} placeholder="e.g. laptop script" />}</Field>
          <fieldset className="space-y-2">
            <legend className="text-sm font-medium text-zinc-800 dark:text-zinc-200">Access</legend>
            {SCOPE_CHOICES.filter((c) => c.value !== 'admin' || me?.role === 'admin').map((c) => (
              <div key={c.value} className="text-sm">
                <label className="flex items-center gap-2 font-medium">
                  <input type="radio" name="api-key-scope" value={c.value} checked={scope === c.value}
                    onChange={() => setScope(c.value)} />
                  {c.label}
                </label>
                <p className="ml-6 text-xs text-zinc-500 dark:text-zinc-400">{c.hint}</p>
              </div>
            ))}
            <p className="text-xs text-zinc-500 dark:text-zinc-400">No key can manage keys, passwords or sessions. Changing your password revokes every key.</p>
          </fieldset>
          <Field label="Expires (optional)">{(p) => <Input {...p} type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />}</Field>
          <div className="flex justify-end gap-2">
            <Button variant="outline" onClick={() => setCreating(false)}>Cancel</Button>
            <Button type="submit" variant="primary" loading={create.isPending} disabled={!name.trim()}>Create key</Button>
          </div>
        </form>
      </Dialog>

      <Dialog open={created !== null} onOpenChange={(o) => !o && setCreated(null)} title="Copy your new key"
        description="This is the only time the key is shown. Store it somewhere safe.">
        <div className="flex items-center gap-2">
          <code className="min-w-0 flex-1 rounded-md border border-zinc-200 bg-zinc-50 px-3 py-2 font-mono text-sm break-all select-all dark:border-zinc-800 dark:bg-zinc-950" data-testid="new-api-key">
            {created?.key}
          </code>
          <Button variant="outline" size="icon" aria-label="Copy key" onClick={() => void copy()}>
            {copied ? <Check className="h-4 w-4 text-emerald-600" aria-hidden="true" /> : <Copy className="h-4 w-4" aria-hidden="true" />}
          </Button>
        </div>
        <div className="mt-4 flex justify-end"><Button variant="primary" onClick={() => setCreated(null)}>Done</Button></div>
      </Dialog>

      <ConfirmDialog open={revoke !== null} onOpenChange={(o) => !o && setRevoke(null)} title={`Revoke “${revoke?.name ?? ''}”?`}
        description="Programs using this key will stop working immediately." confirmLabel="Revoke"
        busy={del.isPending} onConfirm={() => revoke && del.mutate(revoke.id)} />
    </Card>
  )
}

function SessionsCard() {
  const [open, setOpen] = useState(false)
  const qc = useQueryClient()
  const navigate = useNavigate()
  const m = useMutation({
    mutationFn: logoutAll,
    onSuccess: () => {
      qc.clear()
      qc.setQueryData(qk.me, null)
      navigate('/login', { replace: true })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  return (
    <Card title="Sessions" description="Sign out of Citewise on every device, including this one.">
      <Button variant="outline" onClick={() => setOpen(true)}>Sign out everywhere</Button>
      <ConfirmDialog open={open} onOpenChange={setOpen} title="Sign out everywhere?"
        description="Every browser signed in to your account will need to sign in again." confirmLabel="Sign out everywhere"
        busy={m.isPending} onConfirm={() => m.mutate()} />
    </Card>
  )
}
