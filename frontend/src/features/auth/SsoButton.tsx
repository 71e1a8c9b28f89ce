import { KeyRound } from 'lucide-react'
import { ssoHref } from './sso'

/** "Sign in with …": a plain link, the whole page goes to the server, then to the provider. */
export function SsoButton({ label, next, invite, primary }: {
  label: string
  next: string | null
  invite?: string | null
  primary?: boolean
}) {
  return (
    <a href={ssoHref(next, invite)}
      className={primary
        ? 'inline-flex h-9 w-full items-center justify-center gap-2 rounded-lg bg-accent-600 px-3.5 text-sm font-medium text-white shadow-sm hover:bg-accent-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-accent-600 dark:bg-accent-500 dark:hover:bg-accent-400'
        : 'inline-flex h-9 w-full items-center justify-center gap-2 rounded-lg border border-zinc-300 bg-white px-3.5 text-sm font-medium text-zinc-800 shadow-xs hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-accent-600 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800'}>
      <KeyRound className="h-4 w-4" aria-hidden="true" />
      {label}
    </a>
  )
}

export function OrDivider() {
  return (
    <div className="my-4 flex items-center gap-3 text-xs text-zinc-500 dark:text-zinc-400" aria-hidden="true">
      <span className="h-px flex-1 bg-zinc-200 dark:bg-zinc-800" />or<span className="h-px flex-1 bg-zinc-200 dark:bg-zinc-800" />
    </div>
  )
}
