import { useState, type FormEvent, type ReactNode } from 'react'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { CheckCircle2, PlugZap, RefreshCw, XCircle } from 'lucide-react'
import { toast } from 'sonner'
import { adminGetSettings, adminPutSettings, adminReindex, adminTestConnection } from '../../client/api'
import { errorMessage, type Body } from '../../client/http'
import type { ConnectionTest, RuntimeSettings, RuntimeSettingsUpdate } from '../../client/types'
import { Button } from '../../components/ui/button'
import { ConfirmDialog } from '../../components/ui/dialog'
import { Alert, ErrorState, Progress, SkeletonRows } from '../../components/ui/feedback'
import { Field, Input, Select } from '../../components/ui/form'
import { qk } from '../../lib/queryClient'

export function SettingsTab() {
  const settings = useQuery({
    queryKey: qk.admin('settings'),
    queryFn: adminGetSettings,
    refetchInterval: (q) => (q.state.data?.reindex.status === 'running' ? 2000 : false),
  })
  if (settings.isPending) return <SkeletonRows label="Loading settings" />
  if (settings.isError) return <ErrorState message={errorMessage(settings.error)} onRetry={() => void settings.refetch()} />
  return (
    <div className="space-y-6">
      <SettingsForm initial={settings.data} />
      <ReindexPanel reindex={settings.data.reindex} />
    </div>
  )
}

type Draft = Omit<RuntimeSettings, 'reindex'>

/** Secrets are write-only: `null` keeps the stored value, a string replaces it ("" clears). */
export function buildUpdate(d: Draft, llmKey: string | null, embKey: string | null): RuntimeSettingsUpdate {
  const { api_key_set: _l, ...llm } = d.llm
  const { api_key_set: _e, ...embedding } = d.embedding
  return {
    llm: { ...llm, ...(llmKey !== null ? { api_key: llmKey } : {}) },
    embedding: { ...embedding, ...(embKey !== null ? { api_key: embKey } : {}) },
    retrieval: d.retrieval,
    uploads: d.uploads,
  }
}

function SettingsForm({ initial }: { initial: RuntimeSettings }) {
  const [d, setD] = useState<Draft>(initial)
  const [llmKey, setLlmKey] = useState<string | null>(null)
  const [embKey, setEmbKey] = useState<string | null>(null)
  const qc = useQueryClient()
  const save = useMutation({
    mutationFn: adminPutSettings,
    onSuccess: (s) => {
      qc.setQueryData(qk.admin('settings'), s)
      void qc.invalidateQueries({ queryKey: qk.config })
      setD(s)
      setLlmKey(null)
      setEmbKey(null)
      toast.success('Settings saved')
    },
  })
  const set = <K extends keyof Draft>(k: K, patch: Partial<Draft[K]>) =>
    setD((prev) => ({ ...prev, [k]: { ...(prev[k] as object), ...patch } }))
  const num = (v: string) => (v === '' ? 0 : Number(v))
  const onSubmit = (e: FormEvent) => {
    e.preventDefault()
    save.mutate(buildUpdate(d, llmKey, embKey))
  }

  return (
    <form onSubmit={onSubmit} className="space-y-6">
      {save.isError && <Alert tone="error">{errorMessage(save.error)}</Alert>}
      <Section title="Language model" description="Any OpenAI-compatible chat endpoint. Leave the URL empty for extractive answers." test="llm"
        candidate={() => ({ target: 'llm', llm: buildUpdate(d, llmKey, embKey).llm })}>
        <Field label="Base URL" hint="e.g. http://localhost:11434/v1">
          {(p) => <Input {...p} value={d.llm.base_url ?? ''} onChange={(e) => set('llm', { base_url: e.target.value || null })} />}
        </Field>
        <Field label="Model">{(p) => <Input {...p} value={d.llm.model ?? ''} onChange={(e) => set('llm', { model: e.target.value })} />}</Field>
        <SecretField label="API key" isSet={d.llm.api_key_set} value={llmKey} onChange={setLlmKey} />
        <Field label="Temperature">{(p) => <Input {...p} type="number" step="0.1" min="0" max="2" value={d.llm.temperature} onChange={(e) => set('llm', { temperature: num(e.target.value) })} />}</Field>
        <Field label="Max answer tokens">{(p) => <Input {...p} type="number" min="16" value={d.llm.max_tokens} onChange={(e) => set('llm', { max_tokens: num(e.target.value) })} />}</Field>
        <Field label="Context size (tokens)">{(p) => <Input {...p} type="number" min="512" value={d.llm.context_size} onChange={(e) => set('llm', { context_size: num(e.target.value) })} />}</Field>
      </Section>

      <Section title="Embeddings" description="Changing the model needs a re-index." test="embedding"
        candidate={() => ({ target: 'embedding', embedding: buildUpdate(d, llmKey, embKey).embedding })}>
        <Field label="Provider">
          {(p) => (
            <Select {...p} className="w-full" value={d.embedding.provider} onChange={(e) => set('embedding', { provider: e.target.value as 'local' | 'openai' })}>
              <option value="local">Local (bundled model)</option>
              <option value="openai">OpenAI-compatible endpoint</option>
            </Select>
          )}
        </Field>
        <Field label="Model">{(p) => <Input {...p} value={d.embedding.model} onChange={(e) => set('embedding', { model: e.target.value })} />}</Field>
        {d.embedding.provider === 'openai' && (
          <>
            <Field label="Base URL">{(p) => <Input {...p} value={d.embedding.base_url ?? ''} onChange={(e) => set('embedding', { base_url: e.target.value || null })} />}</Field>
            <SecretField label="API key" isSet={d.embedding.api_key_set} value={embKey} onChange={setEmbKey} />
          </>
        )}
      </Section>

      <Section title="Retrieval">
        <Field label="Passages per answer (top k)">{(p) => <Input {...p} type="number" min="1" max="50" value={d.retrieval.top_k} onChange={(e) => set('retrieval', { top_k: num(e.target.value) })} />}</Field>
        <Field label="Semantic weight" hint="0 = keywords only, 1 = embeddings only">{(p) => <Input {...p} type="number" step="0.05" min="0" max="1" value={d.retrieval.hybrid_weight} onChange={(e) => set('retrieval', { hybrid_weight: num(e.target.value) })} />}</Field>
        <Field label="Relevance floor">{(p) => <Input {...p} type="number" step="0.01" min="0" max="1" value={d.retrieval.relevance_floor} onChange={(e) => set('retrieval', { relevance_floor: num(e.target.value) })} />}</Field>
      </Section>

      <Section title="Uploads" description="Who may register and how people sign in: the Access tab.">
        <Field label="Max upload size (MB)">{(p) => <Input {...p} type="number" min="1" value={d.uploads.max_upload_mb} onChange={(e) => set('uploads', { max_upload_mb: num(e.target.value) })} />}</Field>
        <Field label="Max pages per document">{(p) => <Input {...p} type="number" min="1" value={d.uploads.max_pages} onChange={(e) => set('uploads', { max_pages: num(e.target.value) })} />}</Field>
        <Field label="Storage quota per user (MB)">{(p) => <Input {...p} type="number" min="0" value={d.uploads.quota_mb} onChange={(e) => set('uploads', { quota_mb: num(e.target.value) })} />}</Field>
      </Section>

      <div className="sticky bottom-0 flex justify-end border-t border-zinc-200 bg-white/90 py-3 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/90">
        <Button type="submit" variant="primary" loading={save.isPending}>Save settings</Button>
      </div>
    </form>
  )
}

function SecretField({ label, isSet, value, onChange }: { label: string; isSet: boolean; value: string | null; onChange: (v: string | null) => void }) {
  return (
    <Field label={label} hint={value === '' ? 'Will be cleared on save.' : isSet ? 'A key is stored. Type to replace it.' : 'No key stored.'}>
      {(p) => (
        <div className="flex gap-2">
          <Input {...p} type="password" autoComplete="off" placeholder={isSet ? '••••••••' : ''} value={value ?? ''}
            onChange={(e) => onChange(e.target.value === '' ? null : e.target.value)} />
          {isSet && value !== '' && (
            <Button variant="ghost" size="sm" className="h-9" onClick={() => onChange('')}>Clear</Button>
          )}
        </div>
      )}
    </Field>
  )
}

function Section({ title, description, test, candidate, children }: {
  title: string
  description?: string
  test?: ConnectionTarget
  /** The values typed in this section now (tested as typed, not saved). */
  candidate?: () => TestRequest
  children: ReactNode
}) {
  const tester = useConnectionTest(candidate)
  return (
    <fieldset className="min-w-0 rounded-xl border border-zinc-200 dark:border-zinc-800">
      <div className="flex flex-wrap items-start justify-between gap-3 border-b border-zinc-200 px-5 py-3 dark:border-zinc-800">
        <div className="min-w-0">
          <legend className="text-sm font-semibold">{title}</legend>
          {description && <p className="text-sm text-zinc-500 dark:text-zinc-400">{description}</p>}
        </div>
        {test && (
          <Button size="sm" variant="outline" loading={tester.isPending} onClick={tester.run}
            title="Tests the values in this form, without saving them (a blank API key uses the saved key)">
            <PlugZap className="h-3.5 w-3.5" aria-hidden="true" /> Test connection
          </Button>
        )}
      </div>
      {/* The whole result, wrapped: a failed test's message is what the administrator needs to read. */}
      <div role="status" aria-live="polite" className={tester.result ? 'border-b border-zinc-200 px-5 py-3 dark:border-zinc-800' : undefined}>
        {tester.result && <ConnectionResult result={tester.result} />}
      </div>
      <div className="grid gap-4 p-5 sm:grid-cols-2 lg:grid-cols-3">{children}</div>
    </fieldset>
  )
}

type TestRequest = Body<'adminTestSettings'>
type ConnectionTarget = TestRequest['target']
type TestResult = Omit<ConnectionTest, 'latency_ms'> & { latency_ms: number | null }

function useConnectionTest(candidate: (() => TestRequest) | undefined) {
  const [result, setResult] = useState<TestResult | null>(null)
  const m = useMutation({
    mutationFn: () => adminTestConnection(candidate!()),
    onMutate: () => setResult(null),
    onSuccess: setResult,
    onError: (err) => setResult({ ok: false, detail: errorMessage(err), latency_ms: null }),
  })
  return { result, isPending: m.isPending, run: () => m.mutate() }
}

export function ConnectionResult({ result }: { result: TestResult }) {
  const Icon = result.ok ? CheckCircle2 : XCircle
  return (
    <p data-testid="connection-result" data-ok={result.ok}
      className={`flex items-start gap-1.5 text-sm ${result.ok ? 'text-emerald-700 dark:text-emerald-400' : 'text-red-700 dark:text-red-400'}`}>
      <Icon className="mt-0.5 h-4 w-4 shrink-0" aria-hidden="true" />
      <span className="min-w-0 break-words whitespace-pre-wrap">
        {result.ok ? 'Connected' : 'Connection failed'}
        {result.latency_ms !== null ? ` (${Math.round(result.latency_ms)} ms)` : ''}: {result.detail}
      </span>
    </p>
  )
}

function ReindexPanel({ reindex }: { reindex: RuntimeSettings['reindex'] }) {
  const [confirm, setConfirm] = useState(false)
  const qc = useQueryClient()
  const m = useMutation({
    mutationFn: adminReindex,
    onSuccess: () => {
      setConfirm(false)
      toast.success('Re-index started')
      void qc.invalidateQueries({ queryKey: qk.admin('settings') })
    },
    onError: (err) => toast.error(errorMessage(err)),
  })
  const running = reindex.status === 'running'
  return (
    <section className="rounded-xl border border-zinc-200 p-5 dark:border-zinc-800">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h2 className="text-sm font-semibold">Search index</h2>
          <p className="text-sm text-zinc-500 dark:text-zinc-400">
            Collection <code className="font-mono text-xs">{reindex.collection ?? '—'}</code> · status {reindex.status}
          </p>
        </div>
        <Button variant="outline" disabled={running} loading={m.isPending} onClick={() => setConfirm(true)}>
          <RefreshCw className="h-4 w-4" aria-hidden="true" /> Re-index all documents
        </Button>
      </div>
      {running && <Progress className="mt-4" value={reindex.progress} label="Re-index progress" />}
      <ConfirmDialog open={confirm} onOpenChange={setConfirm} title="Re-index every document?"
        description="Embeddings are rebuilt into a new collection; search keeps using the current one until it finishes."
        confirmLabel="Start re-index" busy={m.isPending} onConfirm={() => m.mutate()} />
    </section>
  )
}
