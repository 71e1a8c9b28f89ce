import type { ReactNode } from 'react'
import { Navigate, useLocation } from 'react-router'
import { useSession } from './session'
import { ErrorState, Spinner } from '../../components/ui/feedback'
import { errorMessage } from '../../client/http'

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
  if (!user) {
    const next = location.pathname + location.search
    return <Navigate to={`/login${next && next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`} replace />
  }
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

/** Keeps signed-in people away from /login and /register. */
export function RedirectIfAuthed({ children }: { children: ReactNode }) {
  const { data: user, isPending } = useSession()
  if (isPending) return <FullPageSpinner />
  if (user) return <Navigate to="/documents" replace />
  return <>{children}</>
}
