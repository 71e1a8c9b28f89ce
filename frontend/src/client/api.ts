/** One typed function per endpoint of docs/api.md. */
import { apiFetch, buildUrl, request } from './http'
import { readSSE } from './sse'
import type {
  AdminStats,
  AdminUser,
  ApiKey,
  AppConfig,
  AuditEntry,
  ChatEvent,
  Chunk,
  ConnectionTest,
  Conversation,
  ConversationDetail,
  Document,
  DocumentQuery,
  Job,
  Message,
  NewApiKey,
  Page,
  Role,
  RuntimeSettings,
  RuntimeSettingsUpdate,
  SearchHit,
  User,
} from './types'

const enc = encodeURIComponent

// --- config & auth ---------------------------------------------------------
export const getConfig = () => request<AppConfig>('/config')
export const register = (body: { email: string; password: string; display_name?: string }) =>
  request<User>('/auth/register', { method: 'POST', json: body })
export const login = (body: { email: string; password: string }) =>
  request<User>('/auth/login', { method: 'POST', json: body })
export const logout = () => request<void>('/auth/logout', { method: 'POST' })
export const logoutAll = () => request<void>('/auth/logout-all', { method: 'POST' })
export const getMe = () => request<User>('/auth/me')
export const changePassword = (body: { current_password: string; new_password: string }) =>
  request<void>('/auth/password', { method: 'POST', json: body })
export const listApiKeys = () => request<{ items: ApiKey[] }>('/auth/api-keys')
export const createApiKey = (body: { name: string; scopes: ApiKey['scopes']; expires_at?: string | null }) =>
  request<NewApiKey>('/auth/api-keys', { method: 'POST', json: body })
export const revokeApiKey = (id: string) => request<void>(`/auth/api-keys/${enc(id)}`, { method: 'DELETE' })

// --- documents -------------------------------------------------------------
export const listDocuments = (q: DocumentQuery = {}) =>
  request<Page<Document>>('/documents', { query: { ...q } })
export const getDocument = (id: string) => request<Document>(`/documents/${enc(id)}`)
export const listChunks = (id: string, q: { page?: number; limit?: number; offset?: number } = {}) =>
  request<{ items: Chunk[]; total: number }>(`/documents/${enc(id)}/chunks`, { query: q })
export const deleteDocument = (id: string) => request<void>(`/documents/${enc(id)}`, { method: 'DELETE' })
export const reprocessDocument = (id: string) =>
  request<Document>(`/documents/${enc(id)}/reprocess`, { method: 'POST' })
export const batchDeleteDocuments = (ids: string[]) =>
  request<{ deleted: number }>('/documents/batch-delete', { method: 'POST', json: { ids } })
export const documentFileUrl = (id: string, inline = false) =>
  buildUrl(`/documents/${enc(id)}/file`, inline ? { inline: 1 } : undefined)
/** The original bytes (pdf.js wants an ArrayBuffer; going through apiFetch keeps refresh-on-401). */
export const fetchDocumentFile = async (id: string, signal?: AbortSignal) =>
  (await apiFetch(`/documents/${enc(id)}/file`, { query: { inline: 1 }, signal })).arrayBuffer()

// --- search & chat ---------------------------------------------------------
export const search = (body: { query: string; k?: number; document_ids?: string[] }) =>
  request<{ results: SearchHit[] }>('/search', { method: 'POST', json: body })
export const createConversation = (title?: string) =>
  request<Conversation>('/conversations', { method: 'POST', json: title ? { title } : {} })
export const listConversations = () => request<{ items: Conversation[] }>('/conversations')
export const getConversation = (id: string) => request<ConversationDetail>(`/conversations/${enc(id)}`)
export const renameConversation = (id: string, title: string) =>
  request<Conversation>(`/conversations/${enc(id)}`, { method: 'PATCH', json: { title } })
export const deleteConversation = (id: string) =>
  request<void>(`/conversations/${enc(id)}`, { method: 'DELETE' })
export const sendMessageJson = (id: string, body: { content: string; document_ids?: string[] }) =>
  request<Message>(`/conversations/${enc(id)}/messages`, {
    method: 'POST',
    json: body,
    headers: { Accept: 'application/json' },
  })

/**
 * Posts a message and streams the answer: `onEvent` receives each SSE event,
 * typed. Resolves when the stream ends; rejects with AbortError when `signal` fires.
 */
export async function streamMessage(
  id: string,
  body: { content: string; document_ids?: string[] },
  onEvent: (ev: ChatEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  const res = await apiFetch(`/conversations/${enc(id)}/messages`, {
    method: 'POST',
    json: body,
    headers: { Accept: 'text/event-stream' },
    signal,
  })
  if (!res.body) throw new Error('The server sent no stream')
  await readSSE(res.body, (frame) => {
    let data: unknown
    try {
      data = JSON.parse(frame.data)
    } catch {
      return // a keep-alive or malformed frame: nothing to show
    }
    onEvent({ event: frame.event, data } as ChatEvent)
  })
}

// --- admin -----------------------------------------------------------------
export const adminListUsers = (q: { q?: string; page?: number; page_size?: number } = {}) =>
  request<Page<AdminUser>>('/admin/users', { query: q })
export const adminCreateUser = (body: { email: string; password: string; role: Role; display_name?: string }) =>
  request<AdminUser>('/admin/users', { method: 'POST', json: body })
export const adminUpdateUser = (id: string, body: { role?: Role; is_active?: boolean }) =>
  request<AdminUser>(`/admin/users/${enc(id)}`, { method: 'PATCH', json: body })
export const adminResetPassword = (id: string, new_password: string) =>
  request<void>(`/admin/users/${enc(id)}/reset-password`, { method: 'POST', json: { new_password } })
export const adminStats = () => request<AdminStats>('/admin/stats')
export const adminJobs = (q: { status?: string; page?: number; page_size?: number } = {}) =>
  request<Page<Job>>('/admin/jobs', { query: q })
export const adminRetryJobs = (body: { document_ids?: string[]; all_failed?: boolean }) =>
  request<{ retried: number }>('/admin/jobs/retry', { method: 'POST', json: body })
export const adminReindex = () =>
  request<{ status: string; collection: string }>('/admin/reindex', { method: 'POST' })
export const adminGetSettings = () => request<RuntimeSettings>('/admin/settings')
export const adminPutSettings = (body: RuntimeSettingsUpdate) =>
  request<RuntimeSettings>('/admin/settings', { method: 'PUT', json: body })
export const adminTestConnection = (target: 'llm' | 'embedding') =>
  request<ConnectionTest>('/admin/settings/test', { method: 'POST', json: { target } })
export const adminAudit = (q: { page?: number; page_size?: number; event?: string } = {}) =>
  request<Page<AuditEntry>>('/admin/audit', { query: q })
