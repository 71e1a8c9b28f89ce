import { Tabs } from 'radix-ui'
import { useSearchParams } from 'react-router'
import { UsersTab } from './UsersTab'
import { StatsTab } from './StatsTab'
import { JobsTab } from './JobsTab'
import { SettingsTab } from './SettingsTab'
import { AuditTab } from './AuditTab'
import { AccessTab } from './AccessTab'
import { GroupsTab } from './GroupsTab'

const TABS = [
  { value: 'users', label: 'Users', el: <UsersTab /> },
  { value: 'stats', label: 'Stats', el: <StatsTab /> },
  { value: 'jobs', label: 'Jobs', el: <JobsTab /> },
  { value: 'groups', label: 'Groups', el: <GroupsTab /> },
  { value: 'access', label: 'Access', el: <AccessTab /> },
  { value: 'settings', label: 'Settings', el: <SettingsTab /> },
  { value: 'audit', label: 'Audit log', el: <AuditTab /> },
]

export default function AdminPage() {
  const [params, setParams] = useSearchParams()
  const tab = TABS.some((t) => t.value === params.get('tab')) ? params.get('tab')! : 'users'
  return (
    <div className="mx-auto max-w-6xl px-3 py-6 sm:px-6">
      <h1 className="text-xl font-semibold tracking-tight">Administration</h1>
      <Tabs.Root value={tab} onValueChange={(v) => setParams({ tab: v }, { replace: true })} className="mt-4">
        <Tabs.List aria-label="Admin sections" className="flex gap-1 overflow-x-auto border-b border-zinc-200 dark:border-zinc-800">
          {TABS.map((t) => (
            <Tabs.Trigger key={t.value} value={t.value}
              className="-mb-px border-b-2 border-transparent px-3 py-2 text-sm font-medium whitespace-nowrap text-zinc-500 dark:text-zinc-400 hover:text-zinc-900 data-[state=active]:border-accent-600 data-[state=active]:text-zinc-900 dark:hover:text-zinc-100 dark:data-[state=active]:border-accent-400 dark:data-[state=active]:text-white">
              {t.label}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
        {TABS.map((t) => (
          <Tabs.Content key={t.value} value={t.value} className="pt-5 focus:outline-none">
            {t.el}
          </Tabs.Content>
        ))}
      </Tabs.Root>
    </div>
  )
}
