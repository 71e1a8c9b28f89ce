import { useState } from 'react'
import { useQuery } from '@tanstack/react-query'
import { Popover } from 'radix-ui'
import { ChevronDown, FileText, Library } from 'lucide-react'
import { listDocuments } from '../../client/api'
import { Input } from '../../components/ui/form'
import { Spinner } from '../../components/ui/feedback'
import { useCollections } from '../collections/useCollections'
import { isEverything, scopeLabel, toggle, type Scope } from './scope'

const option = 'flex cursor-pointer items-center gap-2 rounded-md px-2 py-1.5 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800'
const heading = 'px-2 pt-1 pb-0.5 text-xs font-medium text-zinc-500 uppercase dark:text-zinc-400'

/** Chooses what a question searches: everything readable (nothing picked), or collections and/or ready documents. */
export function ScopeSelector({ value, onChange }: { value: Scope; onChange: (s: Scope) => void }) {
  const [filter, setFilter] = useState('')
  const docs = useQuery({
    queryKey: ['documents', 'ready-scope'],
    queryFn: () => listDocuments({ status: 'ready', page_size: 100, sort: 'filename', order: 'asc' }),
  })
  const colls = useCollections()
  const f = filter.toLowerCase()
  const collections = (colls.data?.items ?? []).filter((c) => c.name.toLowerCase().includes(f))
  const items = (docs.data?.items ?? []).filter((d) => d.filename.toLowerCase().includes(f))
  const names = new Map<string, string>([
    ...(docs.data?.items ?? []).map((d) => [d.id, d.filename] as const),
    ...(colls.data?.items ?? []).map((c) => [c.id, c.name] as const),
  ])
  const label = scopeLabel(value, names)

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
          collisionPadding={8}
          className="z-50 w-[min(20rem,calc(100vw-1rem))] rounded-lg border border-zinc-200 bg-white p-2 shadow-lg dark:border-zinc-800 dark:bg-zinc-900"
        >
          <div className="mb-2 flex items-center justify-between px-1">
            <span className="text-xs font-medium text-zinc-500 uppercase dark:text-zinc-400">Search in</span>
            {!isEverything(value) && (
              <button type="button" className="text-xs font-medium text-accent-600 hover:underline dark:text-accent-300"
                onClick={() => onChange({ collections: [], documents: [] })}>
                Use everything I can read
              </button>
            )}
          </div>
          <Input placeholder="Filter…" aria-label="Filter collections and documents" className="mb-2 h-8" value={filter}
            onChange={(e) => setFilter(e.target.value)} />
          <div className="max-h-[min(18rem,50dvh)] overflow-y-auto">
            {docs.isPending || colls.isPending ? (
              <div className="flex justify-center p-4 text-zinc-400"><Spinner /></div>
            ) : (
              <>
                {collections.length > 0 && (
                  <fieldset className="mb-1">
                    <legend className={heading}>Collections<span className="sr-only"> to search</span></legend>
                    {collections.map((c) => (
                      <label key={c.id} className={option}>
                        <input type="checkbox" className="h-4 w-4 shrink-0 accent-accent-600" checked={value.collections.includes(c.id)}
                          onChange={() => onChange(toggle(value, 'collections', c.id))} aria-label={`Collection ${c.name}`} />
                        <Library className="h-3.5 w-3.5 shrink-0 text-zinc-400" aria-hidden="true" />
                        <span className="truncate">{c.name}</span>
                        <span className="ml-auto shrink-0 text-xs text-zinc-500 dark:text-zinc-400">{c.document_count}</span>
                      </label>
                    ))}
                  </fieldset>
                )}
                {items.length === 0 ? (
                  collections.length === 0 && <p className="p-3 text-center text-sm text-zinc-500 dark:text-zinc-400">No ready documents.</p>
                ) : (
                  <fieldset>
                    <legend className={heading}>Documents<span className="sr-only"> to search</span></legend>
                    {items.map((d) => (
                      <label key={d.id} className={option}>
                        <input type="checkbox" className="h-4 w-4 shrink-0 accent-accent-600" checked={value.documents.includes(d.id)}
                          onChange={() => onChange(toggle(value, 'documents', d.id))} />
                        <FileText className="h-3.5 w-3.5 shrink-0 text-zinc-400" aria-hidden="true" />
                        <span className="truncate">{d.filename}</span>
                        {d.collection_name && (
                          <span className="ml-auto max-w-24 shrink-0 truncate text-xs text-zinc-500 dark:text-zinc-400">{d.collection_name}</span>
                        )}
                      </label>
                    ))}
                  </fieldset>
                )}
              </>
            )}
          </div>
        </Popover.Content>
      </Popover.Portal>
    </Popover.Root>
  )
}
