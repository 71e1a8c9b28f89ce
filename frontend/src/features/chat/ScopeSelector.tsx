import { useState } from 'react'
import { useQuery } from '@tanstack/react-query'
import { Popover } from 'radix-ui'
import { ChevronDown, Library } from 'lucide-react'
import { listDocuments } from '../../client/api'
import { Input } from '../../components/ui/form'
import { Spinner } from '../../components/ui/feedback'

/** Chooses which ready documents a question searches: all (empty selection) or some. */
export function ScopeSelector({ value, onChange }: { value: string[]; onChange: (ids: string[]) => void }) {
  const [filter, setFilter] = useState('')
  const docs = useQuery({
    queryKey: ['documents', 'ready-scope'],
    queryFn: () => listDocuments({ status: 'ready', page_size: 100, sort: 'filename', order: 'asc' }),
  })
  const items = (docs.data?.items ?? []).filter((d) => d.filename.toLowerCase().includes(filter.toLowerCase()))
  const names = new Map((docs.data?.items ?? []).map((d) => [d.id, d.filename]))
  const label =
    value.length === 0
      ? 'All documents'
      : value.length === 1
        ? names.get(value[0]!) ?? '1 document'
        : `${value.length} documents`
  const toggle = (id: string) => onChange(value.includes(id) ? value.filter((x) => x !== id) : [...value, id])

  return (
    <Popover.Root>
      <Popover.Trigger
        className="inline-flex h-7 max-w-60 items-center gap-1.5 rounded-md border border-zinc-200 bg-white px-2 text-xs font-medium text-zinc-700 hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800"
        aria-label={`Search scope: ${label}`}
        data-testid="scope-selector"
      >
        <Library className="h-3.5 w-3.5 shrink-0" aria-hidden="true" />
        <span className="truncate">{label}</span>
        <ChevronDown className="h-3 w-3 shrink-0" aria-hidden="true" />
      </Popover.Trigger>
      <Popover.Portal>
        <Popover.Content
          side="top"
          align="start"
          sideOffset={6}
          className="z-50 w-80 rounded-lg border border-zinc-200 bg-white p-2 shadow-lg dark:border-zinc-800 dark:bg-zinc-900"
        >
          <div className="mb-2 flex items-center justify-between px-1">
            <span className="text-xs font-medium text-zinc-500 dark:text-zinc-400 uppercase">Search in</span>
            {value.length > 0 && (
              <button type="button" className="text-xs font-medium text-accent-600 hover:underline dark:text-accent-300" onClick={() => onChange([])}>
                Use all documents
              </button>
            )}
          </div>
          <Input placeholder="Filter…" aria-label="Filter documents" className="mb-2 h-8" value={filter} onChange={(e) => setFilter(e.target.value)} />
          <div className="max-h-64 overflow-y-auto">
            {docs.isPending ? (
              <div className="flex justify-center p-4 text-zinc-400"><Spinner /></div>
            ) : items.length === 0 ? (
              <p className="p-3 text-center text-sm text-zinc-500 dark:text-zinc-400">No ready documents.</p>
            ) : (
              <fieldset>
                <legend className="sr-only">Documents to search</legend>
                {items.map((d) => (
                  <label key={d.id} className="flex cursor-pointer items-center gap-2 rounded-md px-2 py-1.5 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800">
                    <input type="checkbox" className="h-4 w-4 accent-accent-600" checked={value.includes(d.id)} onChange={() => toggle(d.id)} />
                    <span className="truncate">{d.filename}</span>
                  </label>
                ))}
              </fieldset>
            )}
          </div>
        </Popover.Content>
      </Popover.Portal>
    </Popover.Root>
  )
}
