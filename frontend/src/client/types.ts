/**
 * API types. The models come from `schema.d.ts`, generated from the backend's
 * OpenAPI schema by `npm run gen:api` (`npm run check:api` fails on drift); the
 * rest of the app imports only the names below. What OpenAPI cannot describe
 * (the SSE events, query objects, partial updates) is written here by hand from docs/api.md.
 */
import type { components } from './schema'

type S = components['schemas']

export type Role = 'user' | 'admin'

export type User = S['UserOut']

export type AppConfig = S['PublicConfig']

export type ApiKey = S['ApiKeyOut']
export type NewApiKey = S['ApiKeyCreated']

export type DocumentStatus = S['DocumentOut']['status']
export type DocumentStage = 'extracting' | 'chunking' | 'embedding' | 'indexing'

export type Document = S['DocumentOut']

export type UploadError = S['UploadError']
export type UploadResponse = S['UploadResult']

export type DocumentSort = 'created_at' | 'filename' | 'size_bytes' | 'status'
export type SortOrder = 'asc' | 'desc'
export interface DocumentQuery {
  q?: string
  status?: DocumentStatus | ''
  mime_type?: string
  sort?: DocumentSort
  order?: SortOrder
  page?: number
  page_size?: number
}

export interface Page<T> {
  items: T[]
  total: number
  page?: number
  page_size?: number
}

export type Chunk = S['ChunkOut']

export type Citation = S['CitationOut']

export type SearchHit = S['SearchHit']

export type Conversation = S['ConversationOut']

export type Message = S['MessageOut'] & { citations: Citation[] }
export type MessageStatus = Message['status']
export type ConversationDetail = Omit<S['ConversationDetail'], 'messages'> & { messages: Message[] }

/** Server-sent events of POST /conversations/{id}/messages. */
export type ChatEvent =
  | { event: 'sources'; data: { sources: Citation[] } }
  | { event: 'token'; data: { text: string } }
  | { event: 'citations'; data: { content: string; citations: Citation[] } }
  | {
      event: 'done'
      data: {
        message_id: string
        user_message_id: string
        conversation_id: string
        timings: { retrieval_ms: number; first_token_ms: number | null; total_ms: number }
      }
    }
  | { event: 'error'; data: { error: string; detail: string } }

export type AdminUser = S['AdminUserOut']

export type AdminStats = S['StatsOut']

export type Job = S['JobOut']

export type RuntimeSettings = S['RuntimeSettingsOut']

/** PUT /admin/settings body: any section; `api_key` is write-only (omit = keep, "" = clear). */
export type RuntimeSettingsUpdate = S['RuntimePatch']

export type ConnectionTest = S['SettingsTestOut']

export type AuditEntry = S['AuditEntryOut']
