import { useState, type FormEvent } from 'react'
import { Link, useSearchParams } from 'react-router'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { login, register } from '../../client/api'
import { ApiError, errorMessage } from '../../client/http'
import { Button } from '../../components/ui/button'
import { Field, Input } from '../../components/ui/form'
import { Alert, Spinner } from '../../components/ui/feedback'
import { forgetPreviousUser, qk } from '../../lib/queryClient'
import { AuthLayout } from './AuthLayout'
import { useConfig } from './session'
import { OrDivider, SsoButton } from './SsoButton'

export const MIN_PASSWORD = 8

export function RegisterPage() {
  const [email, setEmail] = useState('')
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const [params] = useSearchParams()
  const qc = useQueryClient()
  const config = useConfig()
  const mutation = useMutation({
    // Registration answers the same whether or not the address already has an account (so it
    // cannot be used to find out who does) and starts no session: sign in with what was typed.
    mutationFn: async (body: { email: string; password: string; display_name?: string; invite?: string }) => {
      await register(body)
      return login({ email: body.email, password: body.password })
    },
    // Knowing the user is enough: RedirectIfAuthed then sends them on (to `next`, if any).
    onSuccess: (user) => {
      forgetPreviousUser(qc)
      qc.setQueryData(qk.me, user)
    },
  })
  const invite = params.get('invite')
  const tooShort = password.length > 0 && password.length < MIN_PASSWORD
  const refused = mutation.error instanceof ApiError &&
    ['registration_closed', 'invite_required'].includes(mutation.error.code)
  // An administrator's invite admits whatever the policy; without one, only "open" and "domains" do.
  const closed = refused || (!invite && config.data?.registration_open === false)
  const sso = config.data?.sso_enabled ? config.data.sso_label ?? 'Sign in with SSO' : null
  const passwords = config.data?.password_login ?? true

  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    if (password.length < MIN_PASSWORD) return
    mutation.mutate({
      email: email.trim(), password,
      ...(name.trim() ? { display_name: name.trim() } : {}),
      ...(invite ? { invite } : {}),
    })
  }

  const footer = (
    <>
      Already have an account?{' '}
      <Link to={params.has('next') ? `/login?${new URLSearchParams({ next: params.get('next')! })}` : '/login'} className="font-medium text-accent-600 hover:underline dark:text-accent-300">
        Sign in
      </Link>
    </>
  )

  if (config.isPending) {
    return (
      <AuthLayout title="Create your account" footer={footer}>
        <div className="flex justify-center py-6 text-zinc-400" role="status" aria-label="Loading">
          <Spinner />
        </div>
      </AuthLayout>
    )
  }

  if (closed) {
    return (
      <AuthLayout title="Registration is closed" footer={footer}>
        <p className="text-sm text-zinc-600 dark:text-zinc-300">
          {config.data?.registration_mode === 'invite'
            ? 'New accounts need an invite link. Ask an administrator for one.'
            : 'This Citewise server is not accepting new accounts. Ask an administrator to create one for you.'}
        </p>
      </AuthLayout>
    )
  }

  return (
    <AuthLayout title="Create your account" subtitle={invite ? 'You have been invited to Citewise.' : 'Upload documents and ask them questions.'} footer={footer}>
      {sso && <SsoButton label={sso} next={params.get('next')} invite={invite} primary={!passwords} />}
      {sso && passwords && <OrDivider />}
      {passwords && <form onSubmit={onSubmit} className="space-y-4" noValidate>
        {mutation.isError && <Alert tone="error">{registerError(mutation.error)}</Alert>}
        <Field label="Name" hint="Optional — shown in the app.">
          {(p) => <Input {...p} autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Email">
          {(p) => (
            <Input {...p} type="email" autoComplete="email" required autoFocus value={email}
              onChange={(e) => setEmail(e.target.value)} />
          )}
        </Field>
        <Field label="Password" hint={`At least ${MIN_PASSWORD} characters.`}
          error={tooShort ? `Use at least ${MIN_PASSWORD} characters.` : null}>
          {(p) => (
            <Input {...p} type="password" autoComplete="new-password" required value={password}
              onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        <Button type="submit" variant="primary" className="w-full justify-center" loading={mutation.isPending}
          disabled={!email || password.length < MIN_PASSWORD}>
          Create account
        </Button>
      </form>}
    </AuthLayout>
  )
}

/** After registering, signing in fails only if the address already had an account. */
function registerError(error: unknown): string {
  if (error instanceof ApiError && error.code === 'invalid_credentials') {
    return 'This email address may already have an account. Sign in with its password, or ask an administrator to reset it.'
  }
  return errorMessage(error)
}
