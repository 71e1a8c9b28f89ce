import { useState, type FormEvent } from 'react'
import { Link, useSearchParams } from 'react-router'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { login } from '../../client/api'
import { ApiError, errorMessage } from '../../client/http'
import { Button } from '../../components/ui/button'
import { Field, Input } from '../../components/ui/form'
import { Alert } from '../../components/ui/feedback'
import { forgetPreviousUser, qk } from '../../lib/queryClient'
import { AuthLayout } from './AuthLayout'
import { useConfig } from './session'
import { OrDivider, SsoButton } from './SsoButton'
import { ssoErrorMessage } from './sso'

function loginError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'invalid_credentials' || err.status === 401) return 'Wrong email or password.'
    if (err.code === 'password_login_disabled') return 'Password sign-in is turned off here. Use single sign-on.'
    if (err.status === 429) {
      const wait = err.retryAfter
      return `Too many sign-in attempts. ${wait ? `Try again in ${wait < 60 ? `${wait} seconds` : `${Math.ceil(wait / 60)} minutes`}.` : 'Try again later.'}`
    }
  }
  return errorMessage(err)
}

export function LoginPage() {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [params] = useSearchParams()
  const qc = useQueryClient()
  const config = useConfig()
  const mutation = useMutation({
    mutationFn: login,
    // Knowing the user is enough: RedirectIfAuthed then sends them on to `next`.
    onSuccess: (user) => {
      forgetPreviousUser(qc)
      qc.setQueryData(qk.me, user)
    },
  })

  const ssoError = ssoErrorMessage(params.get('sso_error'))
  const sso = config.data?.sso_enabled ? config.data.sso_label ?? 'Sign in with SSO' : null
  const passwords = config.data?.password_login ?? true

  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    mutation.mutate({ email: email.trim(), password })
  }

  return (
    <AuthLayout
      title="Sign in to Citewise"
      subtitle="Ask your documents, get answers with sources."
      footer={
        config.data?.registration_open ? (
          <>
            New here?{' '}
            <Link to={params.has('next') ? `/register?${new URLSearchParams({ next: params.get('next')! })}` : '/register'} className="font-medium text-accent-600 hover:underline dark:text-accent-300">
              Create an account
            </Link>
          </>
        ) : null
      }
    >
      {ssoError && <Alert tone="error" className="mb-4">{ssoError}</Alert>}
      {sso && <SsoButton label={sso} next={params.get('next')} primary={!passwords} />}
      {sso && passwords && <OrDivider />}
      {passwords && <form onSubmit={onSubmit} className="space-y-4" noValidate>
        {mutation.isError && <Alert tone="error">{loginError(mutation.error)}</Alert>}
        <Field label="Email">
          {(p) => (
            <Input {...p} type="email" autoComplete="username" required autoFocus value={email}
              onChange={(e) => setEmail(e.target.value)} />
          )}
        </Field>
        <Field label="Password">
          {(p) => (
            <Input {...p} type="password" autoComplete="current-password" required value={password}
              onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        <Button type="submit" variant="primary" className="w-full justify-center" loading={mutation.isPending}
          disabled={!email || !password}>
          Sign in
        </Button>
      </form>}
    </AuthLayout>
  )
}
