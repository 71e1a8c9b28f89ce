import { useEffect, useMemo, useRef, useState } from 'react'
import { Link, useNavigate } from 'react-router'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { ArrowDown, ArrowUp, CircleStop, FileText, FolderInput, Library, MessageSquarePlus, RotateCw, Search, Trash2 } from 'lucide-react'
import { toast } from 'sonner'
import { batchDeleteDocuments, cancelDocument, listDocuments, reprocessDocument } from '../../client/api'
import { errorMessage } from '../../client/http'
import type { Document, DocumentSort, DocumentStatus as Status, SortOrder } from '../../client/types'
import { Button } from '../../components/ui/button'
import { ConfirmDialog } from '../../components/ui/dialog'
import { EmptyState, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Input, Select } from '../../components/ui/form'
import { cn } from '../../lib/cn'
import { formatBytes, formatRelative, pluralize, TYPE_FILTERS, typeLabel } from '../../lib/format'
import { qk } from '../../lib/queryClient'
import { useMediaQuery } from '../../lib/useMediaQuery'
import { useConfig } from '../auth/session'
import { MoveDialog } from '../collections/MoveDialog'
import { canChangeDocument } from '../collections/roles'
import { UploadTarget } from '../collections/UploadTarget'
import { useCollections } from '../collections/useCollections'
import { isFiltered, toQuery, useDocumentFilters } from './filters'
import { DocumentStatus } from './StatusBadge'
import { UploadList, UploadZone } from './UploadZone'
import { activeUploads, trackedDocumentIds } from './uploadState'
import { useUploadedDocuments, useUploads } from './useUploads'

const PAGE_SIZE = 20
/** How long typing in the search box waits before the URL (and the list) follow. */
const SEARCH_DELAY_MS = 300

export function isBusy(doc: Pick<Document, 'status'>): boolean {
  return doc.status === 'queued' || doc.status === 'processing'
}

export function DocumentsPage() {
  const [filters, setFilters] = useDocumentFilters()
  const { sort, order, page } = filters
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [confirm, setConfirm] = useState(false)
  const [moving, setMoving] = useState<Document[] | null>(null)
  // Where new uploads go: '' the private space, else a collection the user edits.
  const [target, setTarget] = useState('')
  const collections = useCollections()
  const uploads = useUploads()
  const uploaded = useUploadedDocuments(trackedDocumentIds(uploads.items))
  const config = useConfig()
  const qc = useQueryClient()
  const navigate = useNavigate()
  // Wide screens get a sortable table; phones a list of cards that never scrolls sideways.
  const wide = useMediaQuery('(min-width: 768px)')

  const params = toQuery(filters, PAGE_SIZE)
  const docs = useQuery({
    queryKey: qk.documents(params),
    queryFn: () => listDocuments(params),
    placeholderData: keepPreviousData,
    // Poll while anything is still being processed (or just uploaded), then stop.
    refetchInterval: (query) =>
      query.state.data?.items.some(isBusy) || activeUploads(uploads.items) > 0 ? 1500 : false,
  })

  const retry = useMutation({
    mutationFn: reprocessDocument,
    onSuccess: (d) => {
      toast.success(`Processing ${d.filename} again`)
      void qc.invalidateQueries({ queryKey: ['documents'] })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  const cancel = useMutation({
    mutationFn: cancelDocument,
    onSuccess: (d) => {
      toast.success(`Canceled ${d.filename}`)
      void qc.invalidateQueries({ queryKey: ['documents'] })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  const remove = useMutation({
    mutationFn: batchDeleteDocuments,
    onSuccess: (r) => {
      toast.success(`Deleted ${pluralize(r.deleted, 'document')}`)
      setSelected(new Set())
      setConfirm(false)
      void qc.invalidateQueries({ queryKey: ['documents'] })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })

  const items = useMemo(() => docs.data?.items ?? [], [docs.data])
  const total = docs.data?.total ?? 0
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE))
  const filtered = isFiltered(filters)
  // Only documents the user may change can be selected (for delete and move); the server checks again.
  const selectable = items.filter(canChangeDocument)
  const allOnPage = selectable.length > 0 && selectable.every((d) => selected.has(d.id))
  const selectedDocs = items.filter((d) => selected.has(d.id))

  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s)
      if (n.has(id)) n.delete(id)
      else n.add(id)
      return n
    })
  const toggleAll = () =>
    setSelected((s) => {
      const n = new Set(s)
      selectable.forEach((d) => (allOnPage ? n.delete(d.id) : n.add(d.id)))
      return n
    })
  const sortBy = (col: DocumentSort) =>
    setFilters(
      sort === col
        ? { order: order === 'asc' ? 'desc' : 'asc', page: 1 }
        : { sort: col, order: col === 'filename' ? 'asc' : 'desc', page: 1 },
    )

  const actions = (d: Document) => (
    <>
      {canChangeDocument(d) && d.status === 'failed' && d.retryable && (
        <Button size="sm" variant="outline" loading={retry.isPending && retry.variables === d.id}
          onClick={() => retry.mutate(d.id)} aria-label={`Retry ${d.filename}`}>
          <RotateCw className="h-3.5 w-3.5" aria-hidden="true" /> Retry
        </Button>
      )}
      {canChangeDocument(d) && isBusy(d) && (
        <Button size="sm" variant="ghost" loading={cancel.isPending && cancel.variables === d.id}
          onClick={() => cancel.mutate(d.id)} aria-label={`Cancel ${d.filename}`}>
          <CircleStop className="h-3.5 w-3.5" aria-hidden="true" />
          <span className="hidden lg:inline">Cancel</span>
        </Button>
      )}
      {d.status === 'ready' && (
        <Button size="sm" variant="ghost" onClick={() => navigate(`/chat?doc=${d.id}`)}
          aria-label={`Ask about ${d.filename}`}>
          <MessageSquarePlus className="h-3.5 w-3.5" aria-hidden="true" />
          <span className="hidden lg:inline">Ask</span>
        </Button>
      )}
    </>
  )

  const showEmpty = !docs.isPending && !docs.isError && total === 0 && !filtered
  return (
    <div className="mx-auto max-w-6xl space-y-5 px-3 py-6 sm:px-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-xl font-semibold tracking-tight">Documents</h1>
          <p className="text-sm text-zinc-500 dark:text-zinc-400">
            {total > 0 ? `${pluralize(total, 'document')} ${filtered ? 'found' : 'you can read'}` : 'Your documents and those shared with you'}
          </p>
        </div>
        <Button variant="primary" onClick={() => navigate('/chat')} disabled={total === 0 && !filtered}>
          <MessageSquarePlus className="h-4 w-4" aria-hidden="true" /> Ask your documents
        </Button>
      </div>

      {/* One UploadZone instance whatever the state, so a file picked while the list loads is not lost. */}
      <div className={showEmpty ? 'rounded-2xl border border-zinc-200 p-2 dark:border-zinc-800' : undefined}>
        {showEmpty && (
          <EmptyState icon={<FileText className="h-6 w-6" />} title="Upload your first document">
            Citewise reads PDFs, Word files, slides, spreadsheets, web pages and more, then answers your
            questions with the exact pages it used.
          </EmptyState>
        )}
        <UploadZone onFiles={(files) => uploads.add(files, target || null)} compact={!showEmpty} maxUploadMb={config.data?.max_upload_mb} />
        <UploadTarget value={target} onChange={setTarget} className="mt-2" />
      </div>
      <UploadList items={uploads.items} docs={uploaded.data} onDismiss={uploads.dismiss} onClear={uploads.clear} />

      {!showEmpty && (
        <section aria-label="Document library" className="rounded-xl border border-zinc-200 dark:border-zinc-800">
          <div className="flex flex-wrap items-center gap-2 border-b border-zinc-200 p-3 dark:border-zinc-800">
            <SearchBox value={filters.q} onSearch={(q) => setFilters({ q, page: 1 })} />
            <Select aria-label="Filter by status" className="w-auto min-w-36 flex-1 sm:min-w-0 sm:flex-none" value={filters.status}
              onChange={(e) => setFilters({ status: e.target.value as Status | '', page: 1 })}>
              <option value="">All statuses</option>
              <option value="ready">Ready</option>
              <option value="processing">Processing</option>
              <option value="queued">Queued</option>
              <option value="failed">Failed</option>
            </Select>
            <Select aria-label="Filter by type" className="w-auto min-w-36 flex-1 sm:min-w-0 sm:flex-none" value={filters.type}
              onChange={(e) => setFilters({ type: e.target.value, page: 1 })}>
              <option value="">All types</option>
              {TYPE_FILTERS.map(([m, label]) => <option key={m} value={m}>{label}</option>)}
            </Select>
            {(collections.data?.items.length ?? 0) > 0 && (
              <Select aria-label="Filter by place" className="w-auto min-w-36 flex-1 sm:min-w-0 sm:max-w-56 sm:flex-none" value={filters.place}
                onChange={(e) => setFilters({ place: e.target.value, page: 1 })}>
                <option value="">Everywhere</option>
                <option value="private">My documents</option>
                {collections.data?.items.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
              </Select>
            )}
            {!wide && (
              <Select aria-label="Sort by" className="w-auto min-w-36 flex-1 sm:min-w-0 sm:flex-none" value={`${sort}:${order}`}
                onChange={(e) => {
                  const [s, o] = e.target.value.split(':') as [DocumentSort, SortOrder]
                  setFilters({ sort: s, order: o, page: 1 })
                }}>
                <option value="created_at:desc">Newest first</option>
                <option value="created_at:asc">Oldest first</option>
                <option value="filename:asc">Name A–Z</option>
                <option value="filename:desc">Name Z–A</option>
                <option value="size_bytes:desc">Largest first</option>
                <option value="size_bytes:asc">Smallest first</option>
                <option value="status:asc">Status</option>
                <option value="status:desc">Status, reversed</option>
              </Select>
            )}
            {filtered && (
              <Button variant="ghost" size="md" onClick={() => setFilters({ q: '', status: '', type: '', place: '', page: 1 })}>
                Clear filters
              </Button>
            )}
            {selectedDocs.length > 0 && (
              <Button variant="outline" size="md" onClick={() => setMoving(selectedDocs)}>
                <FolderInput className="h-4 w-4" aria-hidden="true" /> Move {selectedDocs.length}
              </Button>
            )}
            {selected.size > 0 && (
              <Button variant="danger" size="md" onClick={() => setConfirm(true)}>
                <Trash2 className="h-4 w-4" aria-hidden="true" /> Delete {selected.size}
              </Button>
            )}
          </div>

          {docs.isPending ? (
            <SkeletonRows label="Loading documents" />
          ) : docs.isError ? (
            <ErrorState message={errorMessage(docs.error)} onRetry={() => void docs.refetch()} />
          ) : items.length === 0 ? (
            <EmptyState icon={<Search className="h-5 w-5" />} title="No matching documents">
              Try another search or clear the filters.
            </EmptyState>
          ) : wide ? (
            <table className="w-full table-fixed text-sm">
              <caption className="sr-only">Your documents</caption>
              <thead className="text-left text-xs text-zinc-500 uppercase dark:text-zinc-400">
                <tr className="border-b border-zinc-200 dark:border-zinc-800">
                  <th scope="col" className="w-11 px-3 py-2">
                    <input type="checkbox" aria-label="Select all on this page" checked={allOnPage}
                      onChange={toggleAll} className="h-4 w-4 rounded accent-accent-600" />
                  </th>
                  <SortHeader label="Name" col="filename" sort={sort} order={order} onSort={sortBy} />
                  <SortHeader label="Status" col="status" sort={sort} order={order} onSort={sortBy} className="w-44" />
                  <SortHeader label="Size" col="size_bytes" sort={sort} order={order} onSort={sortBy} className="w-24" />
                  <th scope="col" className="hidden w-20 px-3 py-2 font-medium lg:table-cell">Pages</th>
                  <SortHeader label="Added" col="created_at" sort={sort} order={order} onSort={sortBy} className="w-32" />
                  <th scope="col" className="w-20 px-3 py-2 lg:w-28"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/70">
                {items.map((d) => (
                  <tr key={d.id} data-testid="document-row" data-status={d.status}
                    className={cn('align-top hover:bg-zinc-50 dark:hover:bg-zinc-900/60', selected.has(d.id) && 'bg-accent-50/60 dark:bg-accent-700/10')}>
                    <td className="px-3 py-3">
                      {canChangeDocument(d) && (
                        <input type="checkbox" aria-label={`Select ${d.filename}`} checked={selected.has(d.id)}
                          onChange={() => toggle(d.id)} className="h-4 w-4 rounded accent-accent-600" />
                      )}
                    </td>
                    <td className="px-3 py-3"><DocumentLink doc={d} /><Place doc={d} /></td>
                    <td className="px-3 py-3"><DocumentStatus doc={d} /></td>
                    <td className="px-3 py-3 text-zinc-600 tabular-nums dark:text-zinc-400">{formatBytes(d.size_bytes)}</td>
                    <td className="hidden px-3 py-3 text-zinc-600 tabular-nums lg:table-cell dark:text-zinc-400">{d.page_count ?? '—'}</td>
                    <td className="px-3 py-3 text-zinc-600 dark:text-zinc-400">{formatRelative(d.created_at)}</td>
                    <td className="px-3 py-2.5 text-right">{actions(d)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <>
              <div className="flex items-center gap-3 border-b border-zinc-100 px-3 py-2 text-xs text-zinc-500 dark:border-zinc-800/70 dark:text-zinc-400">
                <input id="select-all" type="checkbox" checked={allOnPage} onChange={toggleAll}
                  className="h-4 w-4 rounded accent-accent-600" />
                <label htmlFor="select-all">Select all on this page</label>
              </div>
              <ul aria-label="Your documents" className="divide-y divide-zinc-100 dark:divide-zinc-800/70">
                {items.map((d) => (
                  <li key={d.id} data-testid="document-row" data-status={d.status}
                    className={cn('flex items-start gap-3 px-3 py-3', selected.has(d.id) && 'bg-accent-50/60 dark:bg-accent-700/10')}>
                    {canChangeDocument(d) ? (
                      <input type="checkbox" aria-label={`Select ${d.filename}`} checked={selected.has(d.id)}
                        onChange={() => toggle(d.id)} className="mt-2 h-4 w-4 shrink-0 rounded accent-accent-600" />
                    ) : <span className="w-4 shrink-0" />}
                    <div className="min-w-0 flex-1 space-y-1.5">
                      <DocumentLink doc={d} />
                      <Place doc={d} />
                      <DocumentStatus doc={d} />
                      <p className="text-xs text-zinc-500 dark:text-zinc-400">
                        {[formatBytes(d.size_bytes), d.page_count ? pluralize(d.page_count, 'page') : null, `added ${formatRelative(d.created_at)}`]
                          .filter(Boolean)
                          .join(' · ')}
                      </p>
                    </div>
                    <div className="shrink-0">{actions(d)}</div>
                  </li>
                ))}
              </ul>
            </>
          )}
          {total > PAGE_SIZE && (
            <nav aria-label="Pagination" className="flex items-center justify-between border-t border-zinc-200 px-3 py-2 text-sm dark:border-zinc-800">
              <span className="text-zinc-500 dark:text-zinc-400">Page {page} of {pages}</span>
              <div className="flex gap-2">
                <Button size="sm" variant="outline" disabled={page <= 1} onClick={() => setFilters({ page: page - 1 })}>Previous</Button>
                <Button size="sm" variant="outline" disabled={page >= pages} onClick={() => setFilters({ page: page + 1 })}>Next</Button>
              </div>
            </nav>
          )}
        </section>
      )}

      <ConfirmDialog
        open={confirm}
        onOpenChange={setConfirm}
        title={`Delete ${pluralize(selected.size, 'document')}?`}
        description="The files, their passages and their citations in past answers will be removed. This cannot be undone."
        busy={remove.isPending}
        onConfirm={() => remove.mutate([...selected])}
      />
      {moving && <MoveDialog docs={moving} onClose={(moved) => { setMoving(null); if (moved) setSelected(new Set()) }} />}
    </div>
  )
}

/** Which collection a shared document lives in, and the user's role there (nothing for private ones). */
function Place({ doc }: { doc: Document }) {
  if (!doc.collection_id) return null
  return (
    <Link to={`/collections/${doc.collection_id}`} data-testid="document-place"
      className="mt-1 ml-10.5 flex min-w-0 items-center gap-1 text-xs text-zinc-500 hover:underline dark:text-zinc-400">
      <Library className="h-3 w-3 shrink-0" aria-hidden="true" />
      <span className="truncate">{doc.collection_name ?? 'Collection'}</span>
      {doc.role === 'viewer' && <span className="shrink-0">· read-only</span>}
    </Link>
  )
}

function DocumentLink({ doc }: { doc: Document }) {
  return (
    <Link to={`/documents/${doc.id}`} className="group flex min-w-0 items-center gap-2.5">
      <span className="flex h-8 w-8 shrink-0 items-center justify-center rounded-md bg-zinc-100 text-[0.6rem] font-semibold text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300">
        {typeLabel(doc.mime_type).slice(0, 4)}
      </span>
      <span className="min-w-0 truncate font-medium group-hover:underline" title={doc.filename}>{doc.filename}</span>
    </Link>
  )
}

/** The search box: typing updates the URL (and so the list) once it pauses; the URL wins on back/forward. */
function SearchBox({ value, onSearch }: { value: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(value)
  const [shown, setShown] = useState(value)
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  if (value !== shown) {
    // The URL changed under us (history navigation, "Clear filters"): show what it says.
    setShown(value)
    if (value !== text.trim()) setText(value)
  }
  useEffect(() => () => clearTimeout(timer.current), [])
  return (
    <div className="relative min-w-0 basis-full sm:min-w-48 sm:flex-1 sm:basis-auto">
      <Search className="pointer-events-none absolute top-1/2 left-2.5 h-4 w-4 -translate-y-1/2 text-zinc-400" aria-hidden="true" />
      <Input
        type="search"
        placeholder="Search by name…"
        aria-label="Search documents"
        className="pl-8"
        value={text}
        maxLength={200}
        onChange={(e) => {
          const next = e.target.value
          setText(next)
          clearTimeout(timer.current)
          timer.current = setTimeout(() => onSearch(next.trim()), SEARCH_DELAY_MS)
        }}
      />
    </div>
  )
}

function SortHeader({ label, col, sort, order, onSort, className }: {
  label: string
  col: DocumentSort
  sort: DocumentSort
  order: 'asc' | 'desc'
  onSort: (c: DocumentSort) => void
  className?: string
}) {
  const active = sort === col
  return (
    <th scope="col" className={cn('px-3 py-2 font-medium', className)}
      aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" onClick={() => onSort(col)} className="inline-flex items-center gap-1 rounded uppercase hover:text-zinc-900 dark:hover:text-zinc-100">
        {label}
        {active && (order === 'asc' ? <ArrowUp className="h-3 w-3" aria-hidden="true" /> : <ArrowDown className="h-3 w-3" aria-hidden="true" />)}
      </button>
    </th>
  )
}
