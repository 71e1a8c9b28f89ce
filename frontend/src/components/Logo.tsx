import { cn } from '../lib/cn'

export function Logo({ className }: { className?: string }) {
  return (
    <svg viewBox="0 0 32 32" className={cn('h-7 w-7', className)} aria-hidden="true">
      <rect width="32" height="32" rx="8" className="fill-accent-600 dark:fill-accent-500" />
      <path d="M10 9h12v2H10zm0 5h12v2H10zm0 5h8v2h-8z" fill="#fff" />
      <circle cx="23" cy="22" r="3" fill="#c7d2fe" />
    </svg>
  )
}
