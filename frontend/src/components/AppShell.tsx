import { NavLink, Outlet, useNavigate } from 'react-router'
import { useQueryClient } from '@tanstack/react-query'
import { DropdownMenu } from 'radix-ui'
import { FileText, Library, LogOut, MessagesSquare, Monitor, Moon, Shield, Sun, UserRound, KeyRound } from 'lucide-react'
import { toast } from 'sonner'
import { logout } from '../client/api'
import { errorMessage } from '../client/http'
import { useSession } from '../features/auth/session'
import { useTheme, type ThemePref } from '../lib/theme'
import { cn } from '../lib/cn'
import { initials as initialsOf } from '../lib/initials'
import { Logo } from './Logo'
import { Alert } from './ui/feedback'

const navItem = ({ isActive }: { isActive: boolean }) =>
  cn(
    'inline-flex items-center gap-2 rounded-md px-2.5 py-1.5 text-sm font-medium transition-colors',
    isActive
      ? 'bg-zinc-100 text-zinc-900 dark:bg-zinc-800 dark:text-white'
      : 'text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800/70 dark:hover:text-zinc-100',
  )

const menuItem =
  'flex cursor-default items-center gap-2 rounded-md px-2 py-1.5 text-sm outline-none select-none data-[highlighted]:bg-zinc-100 dark:data-[highlighted]:bg-zinc-800'

function ThemeMenu() {
  const [pref, setPref] = useTheme()
  const options: { value: ThemePref; label: string; icon: typeof Sun }[] = [
    { value: 'light', label: 'Light', icon: Sun },
    { value: 'dark', label: 'Dark', icon: Moon },
    { value: 'system', label: 'System', icon: Monitor },
  ]
  const Current = pref === 'light' ? Sun : pref === 'dark' ? Moon : Monitor
  return (
    <DropdownMenu.Root modal={false}>
      <DropdownMenu.Trigger
        className="inline-flex h-8 w-8 items-center justify-center rounded-md text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800"
        aria-label={`Theme: ${pref}`}
      >
        <Current className="h-4 w-4" aria-hidden="true" />
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content align="end" sideOffset={6}
          className="z-50 min-w-36 rounded-lg border border-zinc-200 bg-white p-1 shadow-lg dark:border-zinc-800 dark:bg-zinc-900">
          <DropdownMenu.RadioGroup value={pref} onValueChange={(v) => setPref(v as ThemePref)}>
            {options.map(({ value, label, icon: Icon }) => (
              <DropdownMenu.RadioItem key={value} value={value} className={menuItem}>
                <Icon className="h-4 w-4" aria-hidden="true" />
                {label}
                <DropdownMenu.ItemIndicator className="ml-auto text-accent-600 dark:text-accent-300">•</DropdownMenu.ItemIndicator>
              </DropdownMenu.RadioItem>
            ))}
          </DropdownMenu.RadioGroup>
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  )
}

function UserMenu() {
  const { data: user } = useSession()
  const qc = useQueryClient()
  const navigate = useNavigate()
  if (!user) return null
  const initials = initialsOf(user.display_name, user.email)
  const signOut = async () => {
    try {
      await logout()
    } catch (err) {
      toast.error(errorMessage(err))
    }
    qc.clear()
    qc.setQueryData(['me'], null)
    navigate('/login', { replace: true })
  }
  return (
    <DropdownMenu.Root modal={false}>
      <DropdownMenu.Trigger
        className="inline-flex h-8 w-8 items-center justify-center rounded-full bg-accent-100 text-xs font-semibold text-accent-700 hover:ring-2 hover:ring-accent-200 dark:bg-accent-700/30 dark:text-accent-200 dark:hover:ring-accent-700"
        // Starts with the visible letters, so "click BT" works for voice control (label in name).
        aria-label={`${initials}: account menu for ${user.display_name || user.email}`}
      >
        {initials}
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content align="end" sideOffset={6}
          className="z-50 min-w-56 rounded-lg border border-zinc-200 bg-white p-1 shadow-lg dark:border-zinc-800 dark:bg-zinc-900">
          <div className="px-2 py-1.5">
            <div className="truncate text-sm font-medium">{user.display_name || user.email}</div>
            <div className="truncate text-xs text-zinc-500 dark:text-zinc-400">{user.email}</div>
          </div>
          <DropdownMenu.Separator className="my-1 h-px bg-zinc-200 dark:bg-zinc-800" />
          <DropdownMenu.Item className={menuItem} onSelect={() => navigate('/account')}>
            <KeyRound className="h-4 w-4" aria-hidden="true" /> Account & API keys
          </DropdownMenu.Item>
          <DropdownMenu.Item className={menuItem} onSelect={() => void signOut()}>
            <LogOut className="h-4 w-4" aria-hidden="true" /> Sign out
          </DropdownMenu.Item>
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  )
}

export function AppShell() {
  const { data: user } = useSession()
  return (
    <div className="flex h-full flex-col">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:shadow">
        Skip to content
      </a>
      <header className="sticky top-0 z-30 border-b border-zinc-200 bg-white/85 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/85">
        <div className="flex h-14 items-center gap-2 px-3 sm:gap-4 sm:px-5">
          <NavLink to="/documents" className="flex items-center gap-2 rounded-md" aria-label="Citewise home">
            <Logo />
            <span className="hidden text-[0.95rem] font-semibold tracking-tight sm:inline">Citewise</span>
          </NavLink>
          <nav aria-label="Main" className="flex items-center gap-0.5 sm:ml-3">
            <NavLink to="/documents" className={navItem}>
              <FileText className="h-4 w-4" aria-hidden="true" />
              <span className="hidden sm:inline">Documents</span>
              <span className="sr-only sm:hidden">Documents</span>
            </NavLink>
            <NavLink to="/collections" className={navItem}>
              <Library className="h-4 w-4" aria-hidden="true" />
              <span className="hidden sm:inline">Collections</span>
              <span className="sr-only sm:hidden">Collections</span>
            </NavLink>
            <NavLink to="/chat" className={navItem}>
              <MessagesSquare className="h-4 w-4" aria-hidden="true" />
              <span className="hidden sm:inline">Chat</span>
              <span className="sr-only sm:hidden">Chat</span>
            </NavLink>
            {user?.role === 'admin' && (
              <NavLink to="/admin" className={navItem}>
                <Shield className="h-4 w-4" aria-hidden="true" />
                <span className="hidden sm:inline">Admin</span>
                <span className="sr-only sm:hidden">Admin</span>
              </NavLink>
            )}
            <NavLink to="/account" className={(s) => cn(navItem(s), 'sm:hidden')}>
              <UserRound className="h-4 w-4" aria-hidden="true" />
              <span className="sr-only">Account</span>
            </NavLink>
          </nav>
          <div className="ml-auto flex items-center gap-1.5">
            <ThemeMenu />
            <UserMenu />
          </div>
        </div>
      </header>
      {user?.must_change_password && (
        <Alert tone="warning" className="rounded-none border-x-0 border-t-0 text-center">
          An administrator reset your password. Please <NavLink to="/account?change=1" className="font-medium underline">choose a new one</NavLink>.
        </Alert>
      )}
      <main id="main" className="min-h-0 flex-1">
        <Outlet />
      </main>
    </div>
  )
}
