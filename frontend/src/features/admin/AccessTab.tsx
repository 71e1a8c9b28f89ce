import { useState, type FormEvent } from 'react'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Copy, Plus } from 'lucide-react'
import { toast } from 'sonner'
import { adminCreateInvite, adminGetSettings, adminListInvites, adminPutSettings, adminRevokeInvite } from '../../client/api'
import { errorMessage } from '../../client/http'
import type { Invite, NewInvite, RegistrationMode, RuntimeSettings } from '../../client/types'
import { Button } from '../../components/ui/button'
import { Dialog } from '../../components/ui/dialog'
import { Alert, Badge, EmptyState, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Field, Input, Select } from '../../components/ui/form'
import { formatRelative } from '../../lib/format'
import { qk } from '../../lib/queryClient'
import { panel, Table, td, th } from './shared'

const MODES: { value: RegistrationMode; label: string }[] = [
  { value: 'open', label: 'Open — anyone can create an account' },
  { value: 'invite', label: 'Invite only — with a link from an administrator' },
  { value: 'domains', label: 'Allowed email domains only' },
  { value: 'closed', label: 'Closed — administrators create accounts' },
]

/** "example.com, @Team.org" → ["example.com", "team.org"] (the server checks each one). */
export function parseDomains(text: string): string[] {
  return text.split(/[\s,;]+/).map((d) => d.trim().replace(/^@/, '').toLowerCase()).filter(Boolean)
}

export function AccessTab() {
  const settings = useQuery({ queryKey: qk.admin('settings'), queryFn: adminGetSettings })
  if (settings.isPending) return <SkeletonRows label="Loading access settings" />
  if (settings.isError) return <ErrorState message={errorMessage(settings.error)} onRetry={() => void settings.refetch()} />
  return (
    <div className="space-y-6">
      <PolicyForm key={JSON.stringify([settings.data.registration, settings.data.password_login])} initial={settings.data} />
      <Invites />
    </div>
  )
}

function PolicyForm({ initial }: { initial: RuntimeSettings }) {
  const [mode, setMode] = useState<RegistrationMode>(initial.registration.mode)
  const [domains, setDomains] = useState(initial.registration.allowed_domains.join(', '))
  const [passwordLogin, setPasswordLogin] = useState(initial.password_login)
  const qc = useQueryClient()
  const save = useMutation({
    mutationFn: adminPutSettings,
    onSuccess: (s) => {
      qc.setQueryData(qk.admin('settings'), s)
      void qc.invalidateQueries({ queryKey: qk.config })
      toast.success('Access settings saved')
    },
  })
  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    save.mutate({
      registration: { mode, allowed_domains: parseDomains(domains) },
      ...(initial.sso_enabled ? { password_login: passwordLogin } : {}),
    })
  }
  return (
    <form onSubmit={onSubmit} className={`${panel} space-y-4 p-4`} aria-labelledby="access-policy">
      <div>
        <h2 id="access-policy" className="text-base font-semibold">Registration and sign-in</h2>
        <p className="mt-1 text-sm text-zinc-500 dark:text-zinc-400">
          Who may create an account, by password or at their first single sign-on. An invite link admits its holder under every mode.
        </p>
      </div>
      {save.isError && <Alert tone="error">{errorMessage(save.error)}</Alert>}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Registration">
          {(p) => (
            <Select {...p} className="w-full" value={mode} onChange={(e) => setMode(e.target.value as RegistrationMode)}>
              {MODES.map((m) => <option key={m.value} value={m.value}>{m.label}</option>)}
            </Select>
          )}
        </Field>
        {mode === 'domains' && (
          <Field label="Allowed email domains" hint="Comma-separated, e.g. example.com, example.org">
            {(p) => <Input {...p} value={domains} onChange={(e) => setDomains(e.target.value)} />}
          </Field>
        )}
      </div>
      <div className="flex items-start gap-2 text-sm">
        <input id="password-login" type="checkbox" className="mt-0.5 h-4 w-4 accent-accent-600"
          checked={initial.sso_enabled ? passwordLogin : true} disabled={!initial.sso_enabled}
          aria-describedby="password-login-hint" onChange={(e) => setPasswordLogin(e.target.checked)} />
        <div>
          <label htmlFor="password-login" className="font-medium">Email and password sign-in</label>
          <p id="password-login-hint" className="text-zinc-500 dark:text-zinc-400">
            {initial.sso_enabled
              ? 'Turn off to let people in through single sign-on only. Sessions already signed in stay.'
              : 'Single sign-on is not configured (CITEWISE_OIDC_*), so password sign-in stays on.'}
          </p>
        </div>
      </div>
      <div className="flex justify-end">
        <Button type="submit" variant="primary" loading={save.isPending}>Save access settings</Button>
      </div>
    </form>
  )
}

const STATUS_TONE = { pending: 'accent', used: 'green', expired: 'neutral', revoked: 'neutral' } as const

function Invites() {
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<NewInvite | null>(null)
  const qc = useQueryClient()
  const invites = useQuery({ queryKey: qk.admin('invites'), queryFn: adminListInvites })
  const revoke = useMutation({
    mutationFn: (i: Invite) => adminRevokeInvite(i.id),
    onSuccess: () => {
      toast.success('Invite revoked')
      void qc.invalidateQueries({ queryKey: qk.admin('invites') })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  return (
    <section className={panel} aria-labelledby="invites-heading">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-zinc-200 p-3 dark:border-zinc-800">
        <h2 id="invites-heading" className="text-base font-semibold">Invite links</h2>
        <Button variant="primary" onClick={() => setCreating(true)}><Plus className="h-4 w-4" aria-hidden="true" /> Create invite</Button>
      </div>
      {invites.isPending ? (
        <SkeletonRows label="Loading invites" />
      ) : invites.isError ? (
        <ErrorState message={errorMessage(invites.error)} onRetry={() => void invites.refetch()} />
      ) : invites.data.items.length === 0 ? (
        <EmptyState title="No invites yet">Each invite link creates one account, then stops working.</EmptyState>
      ) : (
        <Table caption="Invites" head={<>
          <th className={th}>For</th><th className={th}>Status</th><th className={th}>Expires</th><th className={th}><span className="sr-only">Actions</span></th>
        </>}>
          {invites.data.items.map((i) => (
            <tr key={i.id}>
              <td className={td}>{i.email ?? <span className="text-zinc-500 dark:text-zinc-400">Any address</span>}</td>
              <td className={td}><Badge tone={STATUS_TONE[i.status]}>{i.status}</Badge></td>
              <td className={td}>{formatRelative(i.expires_at)}</td>
              <td className={`${td} text-right`}>
                {i.status === 'pending' && (
                  <Button size="sm" variant="ghost" onClick={() => revoke.mutate(i)}
                    aria-label={`Revoke invite for ${i.email ?? 'any address'}`}>Revoke</Button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <CreateInviteDialog open={creating} onOpenChange={setCreating} onCreated={(i) => { setCreating(false); setCreated(i) }} />
      <Dialog open={created !== null} onOpenChange={(o) => { if (!o) setCreated(null) }} title="Invite link created"
        description="Copy it now: it is shown only once. It works for one registration.">
        {created && <InviteLink invite={created} />}
      </Dialog>
    </section>
  )
}

function InviteLink({ invite }: { invite: NewInvite }) {
  const url = `${window.location.origin}${invite.path}`
  return (
    <div className="space-y-3">
      <Field label="Invite link">{(p) => <Input {...p} readOnly value={url} onFocus={(e) => e.target.select()} />}</Field>
      <Button variant="outline" onClick={() => {
        void navigator.clipboard?.writeText(url).then(() => toast.success('Link copied'), () => toast.error('Copy failed: select the link and copy it'))
      }}><Copy className="h-4 w-4" aria-hidden="true" /> Copy link</Button>
    </div>
  )
}

function CreateInviteDialog({ open, onOpenChange, onCreated }: {
  open: boolean
  onOpenChange: (o: boolean) => void
  onCreated: (i: NewInvite) => void
}) {
  const [email, setEmail] = useState('')
  const [days, setDays] = useState(7)
  const qc = useQueryClient()
  const create = useMutation({
    mutationFn: adminCreateInvite,
    onSuccess: (i) => {
      void qc.invalidateQueries({ queryKey: qk.admin('invites') })
      setEmail('')
      onCreated(i)
    },
  })
  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    create.mutate({ email: email.trim() || null, expires_in_days: days })
  }
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="Create an invite link">
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        {create.isError && <Alert tone="error">{errorMessage(create.error)}</Alert>}
        <Field label="Email (optional)" hint="Only this address can use the link. Leave empty for anyone who has it.">
          {(p) => <Input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <Field label="Valid for (days)">
          {(p) => <Input {...p} type="number" min={1} max={90} value={days} onChange={(e) => setDays(Number(e.target.value) || 1)} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button variant="ghost" onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary" loading={create.isPending}>Create link</Button>
        </div>
      </form>
    </Dialog>
  )
}
