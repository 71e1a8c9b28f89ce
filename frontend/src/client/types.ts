/**
 * API types: names for models of `schema.d.ts`, generated from the backend's OpenAPI schema by
 * `npm run gen:api` (`npm run check:api` fails on drift); the rest of the app imports only the names
 * below. Only the SSE events are written by hand (OpenAPI does not describe the frames of an event
 * stream); their payloads reuse the schema's models, and sse.ts checks each one at run time.
 */
import type { Query } from './http'
import type { components } from './schema'

type S = components['schemas']

export type User = S['UserOut']
export type Role = User['role']

export type AppConfig = S['PublicConfig']

export type ApiKey = S['ApiKeyOut']
export type NewApiKey = S['ApiKeyCreated']

export type Document = S['DocumentOut']
export type DocumentStatus = Document['status']

export type UploadError = S['UploadError']
export type UploadResponse = S['UploadResult']

export type DocumentQuery = Query<'listDocuments'>
export type DocumentSort = NonNullable<DocumentQuery['sort']>
export type SortOrder = NonNullable<DocumentQuery['order']>

export type Chunk = S['ChunkOut']

export type Citation = S['CitationOut']

export type Conversation = S['ConversationOut']

export type Message = S['MessageOut']
export type MessageStatus = Message['status']
export type ConversationDetail = S['ConversationDetail']

/** One frame of the askQuestion stream, typed from the OpenAPI schema (`ChatStreamEvent`, a union on `event`). */
export type ChatEvent = S['ChatStreamEvent']

export type AdminUser = S['AdminUserOut']

export type AdminStats = S['StatsOut']

export type Job = S['JobOut']

export type RuntimeSettings = S['RuntimeSettingsOut']

/** PUT /admin/settings body: any section; `api_key` is write-only (omit = keep, "" = clear). */
export type RuntimeSettingsUpdate = S['RuntimePatch']

export type ConnectionTest = S['SettingsTestOut']

export type RegistrationMode = S['RegistrationSettingsOut']['mode']
export type Invite = S['InviteOut']
export type NewInvite = S['InviteCreated']

export type AuditEntry = S['AuditEntryOut']

export type Collection = S['CollectionOut']
export type CollectionMember = S['MemberOut']
export type CollectionRole = CollectionMember['role']
export type Group = S['GroupDetail']
