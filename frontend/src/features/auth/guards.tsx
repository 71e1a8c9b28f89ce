import type { ReactNode } from 'react'
import { Navigate, useLocation, useSearchParams } from 'react-router'
import { useSession } from './session'
import { ErrorState, Spinner } from '../../components/ui/feedback'
import { errorMessage } from '../../client/http'
import { loginPathFor, safeNext } from './next'

function FullPageSpinner() {
  return (
    <div className="flex h-full items-center justify-center text-zinc-400" role="status" aria-label="Loading">
      <Spinner className="h-6 w-6" />
    </div>
  )
}

export function RequireAuth({ children }: { children: ReactNode }) {
  const { data: user, isPending, error, refetch } = useSession()
  const location = useLocation()
  if (isPending) return <FullPageSpinner />
  if (error) return <ErrorState message={errorMessage(error)} onRetry={() => void refetch()} />
  if (!user) return <Navigate to={loginPathFor(location)} replace />
  return <>{children}</>
}

export function RequireAdmin({ children }: { children: ReactNode }) {
  const { data: user } = useSession()
  if (user?.role !== 'admin') {
    return (
      <div className="mx-auto max-w-md px-6 py-24 text-center">
        <h1 className="text-lg font-semibold">Administrators only</h1>
        <p className="mt-2 text-sm text-zinc-500 dark:text-zinc-400">
          Your account does not have access to the admin area.
        </p>
      </div>
    )
  }
  return <>{children}</>
}

/**
 * Keeps signed-in people away from /login and /register, and is the one place that sends them on
 * once a session starts there: to `?next=` when it is a path of this app, else to the documents
 * (or first to a new password when an administrator reset theirs).
 */
export function RedirectIfAuthed({ children }: { children: ReactNode }) {
  const { data: user, isPending } = useSession()
  const [params] = useSearchParams()
  if (isPending) return <FullPageSpinner />
  if (user) {
    return <Navigate to={user.must_change_password ? '/account?change=1' : safeNext(params.get('next'))} replace />
  }
  return <>{children}</>
}
