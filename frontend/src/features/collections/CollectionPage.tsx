import { useState, type FormEvent } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { ArrowLeft, FileText, FolderInput, FolderOutput, MessageSquarePlus, Pencil, Trash2, Users } from 'lucide-react'
import { toast } from 'sonner'
import { deleteCollection, deleteDocument, getCollection, listDocuments, updateCollection } from '../../client/api'
import { errorMessage } from '../../client/http'
import type { Collection, Document } from '../../client/types'
import { Button } from '../../components/ui/button'
import { ConfirmDialog, Dialog } from '../../components/ui/dialog'
import { Alert, Badge, EmptyState, ErrorState, SkeletonRows } from '../../components/ui/feedback'
import { Field, Input, Textarea } from '../../components/ui/form'
import { formatBytes, pluralize } from '../../lib/format'
import { qk } from '../../lib/queryClient'
import { useConfig } from '../auth/session'
import { isBusy } from '../documents/DocumentsPage'
import { DocumentStatus } from '../documents/StatusBadge'
import { UploadList, UploadZone } from '../documents/UploadZone'
import { activeUploads, trackedDocumentIds } from '../documents/uploadState'
import { useUploadedDocuments, useUploads } from '../documents/useUploads'
import { AddDocumentsDialog } from './AddDocumentsDialog'
import { MembersDialog } from './MembersDialog'
import { moveDocuments } from './moving'
import { canEdit, canManage } from './roles'

const PAGE_SIZE = 50

/** One collection: its documents, and what the caller's role lets them do (the server checks again). */
export default function CollectionPage() {
  const { id = '' } = useParams()
  const coll = useQuery({ queryKey: qk.collection(id), queryFn: () => getCollection(id) })
  if (coll.isPending) return <SkeletonRows label="Loading collection" />
  if (coll.isError) {
    return (
      <div className="mx-auto max-w-5xl px-3 py-6 sm:px-6">
        <BackLink />
        <div className="mt-4"><ErrorState message={errorMessage(coll.error)} onRetry={() => void coll.refetch()} /></div>
      </div>
    )
  }
  return <CollectionView collection={coll.data} />
}

function BackLink() {
  return (
    <Link to="/collections" className="inline-flex items-center gap-1 text-sm text-zinc-500 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100">
      <ArrowLeft className="h-4 w-4" aria-hidden="true" /> Collections
    </Link>
  )
}

type Pending = { kind: 'remove' | 'delete'; doc: Document } | { kind: 'delete-collection' }

function CollectionView({ collection: c }: { collection: Collection }) {
  const editor = canEdit(c.role)
  const owner = canManage(c.role)
  const [page, setPage] = useState(1)
  const [dialog, setDialog] = useState<'members' | 'edit' | 'add' | null>(null)
  const [pending, setPending] = useState<Pending | null>(null)
  const navigate = useNavigate()
  const qc = useQueryClient()
  const config = useConfig()
  const uploads = useUploads()
  const uploaded = useUploadedDocuments(trackedDocumentIds(uploads.items))
  const params = { collection_id: c.id, sort: 'filename' as const, order: 'asc' as const, page, page_size: PAGE_SIZE }
  const docs = useQuery({
    queryKey: qk.documents(params),
    queryFn: () => listDocuments(params),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some(isBusy) || activeUploads(uploads.items) > 0 ? 1500 : false),
  })
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ['documents'] })
    void qc.invalidateQueries({ queryKey: qk.collections })
  }
  const act = useMutation({
    mutationFn: async (p: Pending) => {
      if (p.kind === 'delete-collection') return void (await deleteCollection(c.id))
      if (p.kind === 'delete') return void (await deleteDocument(p.doc.id))
      const { error } = await moveDocuments([p.doc.id], null)
      if (error) throw new Error(error)
    },
    onSuccess: (_, p) => {
      setPending(null)
      if (p.kind === 'delete-collection') {
        toast.success(`Deleted ${c.name}`)
        qc.removeQueries({ queryKey: qk.collection(c.id) })
        void qc.invalidateQueries({ queryKey: qk.collections })
        navigate('/collections', { replace: true })
        return
      }
      toast.success(p.kind === 'delete' ? `Deleted ${p.doc.filename}` : `Removed ${p.doc.filename} from ${c.name}`)
      refresh()
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  const total = docs.data?.total ?? 0
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE))

  return (
    <div className="mx-auto max-w-5xl space-y-5 px-3 py-6 sm:px-6">
      <BackLink />
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <div className="flex flex-wrap items-center gap-2">
            <h1 className="text-xl font-semibold tracking-tight break-words">{c.name}</h1>
            <Badge tone={owner ? 'accent' : 'neutral'}>{c.role}</Badge>
          </div>
          {c.description && <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-300">{c.description}</p>}
          <p className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">
            {pluralize(c.document_count, 'document')} · {pluralize(c.member_count, 'member')}
            {!editor && ' · you can read, search and chat with these documents'}
          </p>
        </div>
        <div className="flex flex-wrap gap-2">
          <Button variant="primary" onClick={() => navigate(`/chat?collection=${c.id}`)}>
            <MessageSquarePlus className="h-4 w-4" aria-hidden="true" /> Ask this collection
          </Button>
          <Button variant="outline" onClick={() => setDialog('members')}>
            <Users className="h-4 w-4" aria-hidden="true" /> Members
          </Button>
          {owner && (
            <>
              <Button variant="outline" onClick={() => setDialog('edit')}>
                <Pencil className="h-4 w-4" aria-hidden="true" /> Rename
              </Button>
              <Button variant="ghost" onClick={() => setPending({ kind: 'delete-collection' })} aria-label={`Delete ${c.name}`}>
                <Trash2 className="h-4 w-4 text-red-600" aria-hidden="true" />
              </Button>
            </>
          )}
        </div>
      </div>

      {editor && (
        <section aria-label={`Add to ${c.name}`} className="space-y-2">
          <UploadZone onFiles={(files) => uploads.add(files, c.id)} compact maxUploadMb={config.data?.max_upload_mb} />
          <div className="flex flex-wrap items-center justify-between gap-2 text-xs text-zinc-500 dark:text-zinc-400">
            <span>Files dropped here go into {c.name}.</span>
            <Button size="sm" variant="outline" onClick={() => setDialog('add')}>
              <FolderInput className="h-4 w-4" aria-hidden="true" /> Add from My documents
            </Button>
          </div>
          <UploadList items={uploads.items} docs={uploaded.data} onDismiss={uploads.dismiss} onClear={uploads.clear} />
        </section>
      )}

      <section aria-label={`Documents in ${c.name}`} className="rounded-xl border border-zinc-200 dark:border-zinc-800">
        {docs.isPending ? (
          <SkeletonRows label="Loading documents" />
        ) : docs.isError ? (
          <ErrorState message={errorMessage(docs.error)} onRetry={() => void docs.refetch()} />
        ) : docs.data.items.length === 0 ? (
          <EmptyState icon={<FileText className="h-6 w-6" aria-hidden="true" />} title="No documents here yet">
            {editor ? 'Upload files above, or add documents from your private space.' : 'Its editors have not added any documents yet.'}
          </EmptyState>
        ) : (
          <ul aria-label="Collection documents" className="divide-y divide-zinc-100 dark:divide-zinc-800/70">
            {docs.data.items.map((d) => (
              <li key={d.id} data-testid="document-row" data-status={d.status} className="flex flex-wrap items-center gap-x-3 gap-y-1.5 px-3 py-3">
                <div className="min-w-0 flex-1 basis-48">
                  <Link to={`/documents/${d.id}`} className="block truncate font-medium hover:underline" title={d.filename}>{d.filename}</Link>
                  <div className="mt-1 flex flex-wrap items-center gap-2 text-xs text-zinc-500 dark:text-zinc-400">
                    <DocumentStatus doc={d} />
                    <span>{formatBytes(d.size_bytes)}{d.page_count ? ` · ${pluralize(d.page_count, 'page')}` : ''}</span>
                  </div>
                </div>
                {editor && (
                  <div className="flex shrink-0 gap-1">
                    <Button size="sm" variant="ghost" onClick={() => setPending({ kind: 'remove', doc: d })} aria-label={`Remove ${d.filename} from ${c.name}`}>
                      <FolderOutput className="h-3.5 w-3.5" aria-hidden="true" /> <span className="hidden sm:inline">Remove</span>
                    </Button>
                    <Button size="sm" variant="ghost" onClick={() => setPending({ kind: 'delete', doc: d })} aria-label={`Delete ${d.filename}`}>
                      <Trash2 className="h-3.5 w-3.5 text-red-600" aria-hidden="true" />
                    </Button>
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
        {total > PAGE_SIZE && (
          <nav aria-label="Pagination" className="flex items-center justify-between border-t border-zinc-200 px-3 py-2 text-sm dark:border-zinc-800">
            <span className="text-zinc-500 dark:text-zinc-400">Page {page} of {pages}</span>
            <div className="flex gap-2">
              <Button size="sm" variant="outline" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</Button>
              <Button size="sm" variant="outline" disabled={page >= pages} onClick={() => setPage(page + 1)}>Next</Button>
            </div>
          </nav>
        )}
      </section>

      {dialog === 'members' && <MembersDialog collection={c} onClose={() => setDialog(null)} />}
      {dialog === 'edit' && <EditDialog collection={c} onClose={() => setDialog(null)} />}
      {dialog === 'add' && <AddDocumentsDialog collection={c} onClose={() => setDialog(null)} />}
      <ConfirmDialog open={pending !== null} onOpenChange={(o) => { if (!o) setPending(null) }} busy={act.isPending}
        onConfirm={() => { if (pending) act.mutate(pending) }}
        {...(pending?.kind === 'remove'
          ? { title: `Remove ${pending.doc.filename} from ${c.name}?`, confirmLabel: 'Remove',
              description: 'It goes back to the private space of the person who uploaded it; members lose access at once.' }
          : pending?.kind === 'delete'
            ? { title: `Delete ${pending.doc.filename}?`, description: 'The file and its passages are removed for everyone. This cannot be undone.' }
            : { title: `Delete ${c.name}?`, description: 'Its documents are deleted too. Members lose access at once.' })} />
    </div>
  )
}

function EditDialog({ collection, onClose }: { collection: Collection; onClose: () => void }) {
  const [name, setName] = useState(collection.name)
  const [description, setDescription] = useState(collection.description)
  const qc = useQueryClient()
  const save = useMutation({
    mutationFn: () => updateCollection(collection.id, { name: name.trim(), description: description.trim() }),
    onSuccess: (c) => {
      toast.success(`Saved ${c.name}`)
      qc.setQueryData(qk.collection(c.id), c)
      void qc.invalidateQueries({ queryKey: qk.collections })
      void qc.invalidateQueries({ queryKey: ['documents'] })
      onClose()
    },
  })
  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    save.mutate()
  }
  return (
    <Dialog open onOpenChange={(o) => { if (!o) onClose() }} title={`Rename ${collection.name}`}>
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        {save.isError && <Alert tone="error">{errorMessage(save.error)}</Alert>}
        <Field label="Name">{(p) => <Input {...p} required value={name} onChange={(e) => setName(e.target.value)} />}</Field>
        <Field label="Description">{(p) => <Textarea {...p} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />}</Field>
        <div className="flex justify-end gap-2">
          <Button variant="ghost" onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" loading={save.isPending} disabled={!name.trim()}>Save</Button>
        </div>
      </form>
    </Dialog>
  )
}
