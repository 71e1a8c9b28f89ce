/**
 * One function per endpoint the app uses, each a call by OpenAPI operation id: paths, parameters,
 * bodies and results all come from the generated schema (see http.ts), none is written here.
 */
import { call, callRaw, urlFor, type Body, type Query } from './http'
import { readChatEvents } from './sse'
import type { ChatEvent } from './types'

// --- config & auth ---------------------------------------------------------
export const getConfig = () => call('publicConfig')
export const register = (body: Body<'register'>) => call('register', { body })
export const login = (body: Body<'login'>) => call('login', { body })
export const logout = () => call('logout')
export const logoutAll = () => call('logoutAll')
export const getMe = () => call('me')
export const changePassword = (body: Body<'changePassword'>) => call('changePassword', { body })
export const listApiKeys = () => call('listApiKeys')
export const createApiKey = (body: Body<'createApiKey'>) => call('createApiKey', { body })
export const revokeApiKey = (id: string) => call('revokeApiKey', { params: { path: { key_id: id } } })
/** Single sign-on starts with a full-page navigation to this URL (the server redirects to the provider). */
export const oidcLoginUrl = (query: Query<'oidcLogin'> = {}) => urlFor('oidcLogin', { query })

// --- documents -------------------------------------------------------------
export const listDocuments = (query: Query<'listDocuments'> = {}) => call('listDocuments', { params: { query } })
export const getDocument = (id: string) => call('getDocument', { params: { path: { document_id: id } } })
export const listChunks = (id: string, query: Query<'listDocumentChunks'> = {}) =>
  call('listDocumentChunks', { params: { path: { document_id: id }, query } })
export const deleteDocument = (id: string) => call('deleteDocument', { params: { path: { document_id: id } } })
export const reprocessDocument = (id: string) => call('reprocessDocument', { params: { path: { document_id: id } } })
export const cancelDocument = (id: string) => call('cancelDocument', { params: { path: { document_id: id } } })
export const batchDeleteDocuments = (ids: string[]) => call('batchDeleteDocuments', { body: { ids } })
/** Into a collection (editor there), or `null`: back to its uploader's private space. Nothing is re-embedded. */
export const moveDocument = (id: string, collectionId: string | null) =>
  call('moveDocument', { params: { path: { document_id: id } }, body: { collection_id: collectionId } })
export const documentFileUrl = (id: string, inline = false) =>
  urlFor('getDocumentFile', { path: { document_id: id }, query: inline ? { inline: true } : {} })
/** The original bytes (pdf.js wants an ArrayBuffer; going through the client keeps refresh-on-401). */
export const fetchDocumentFile = async (id: string, signal?: AbortSignal) =>
  (await callRaw('getDocumentFile', { params: { path: { document_id: id }, query: { inline: true } }, signal })).arrayBuffer()

// --- search & chat ---------------------------------------------------------
export const createConversation = (title?: string) => call('createConversation', { body: title ? { title } : {} })
export const listConversations = () => call('listConversations')
export const getConversation = (id: string) => call('getConversation', { params: { path: { conversation_id: id } } })
export const renameConversation = (id: string, title: string) =>
  call('renameConversation', { params: { path: { conversation_id: id } }, body: { title } })
export const deleteConversation = (id: string) =>
  call('deleteConversation', { params: { path: { conversation_id: id } } })

/**
 * Posts a message and streams the answer: `onEvent` receives each SSE event, checked and typed.
 * Resolves when the stream ends; rejects with AbortError when `signal` fires.
 */
export async function streamMessage(
  id: string,
  body: Body<'askQuestion'>,
  onEvent: (ev: ChatEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  const res = await callRaw('askQuestion', {
    params: { path: { conversation_id: id } },
    body,
    headers: { Accept: 'text/event-stream' },
    signal,
  })
  if (!res.body) throw new Error('The server sent no stream')
  await readChatEvents(res.body, onEvent)
}

// --- admin -----------------------------------------------------------------
export const adminListUsers = (query: Query<'adminListUsers'> = {}) => call('adminListUsers', { params: { query } })
export const adminCreateUser = (body: Body<'adminCreateUser'>) => call('adminCreateUser', { body })
export const adminUpdateUser = (id: string, body: Body<'adminUpdateUser'>) =>
  call('adminUpdateUser', { params: { path: { user_id: id } }, body })
export const adminResetPassword = (id: string, new_password: string) =>
  call('adminResetPassword', { params: { path: { user_id: id } }, body: { new_password } })
export const adminStats = () => call('adminStats')
export const adminJobs = (query: Query<'adminListJobs'> = {}) => call('adminListJobs', { params: { query } })
export const adminRetryJobs = (body: Body<'adminRetryJobs'>) => call('adminRetryJobs', { body })
export const adminReindex = () => call('adminReindex')
export const adminGetSettings = () => call('adminGetSettings')
export const adminPutSettings = (body: Body<'adminUpdateSettings'>) => call('adminUpdateSettings', { body })
/** Tests the candidate values in `body.llm` / `body.embedding` (not saved), else the saved ones. */
export const adminTestConnection = (body: Body<'adminTestSettings'>) => call('adminTestSettings', { body })
export const adminAudit = (query: Query<'adminAudit'> = {}) => call('adminAudit', { params: { query } })
export const adminListInvites = () => call('adminListInvites')
export const adminCreateInvite = (body: Body<'adminCreateInvite'>) => call('adminCreateInvite', { body })
export const adminRevokeInvite = (id: string) => call('adminRevokeInvite', { params: { path: { invite_id: id } } })

// --- collections and groups ------------------------------------------------
export const listCollections = () => call('listCollections')
export const getCollection = (id: string) => call('getCollection', { params: { path: { collection_id: id } } })
export const createCollection = (body: Body<'createCollection'>) => call('createCollection', { body })
export const updateCollection = (id: string, body: Body<'updateCollection'>) =>
  call('updateCollection', { params: { path: { collection_id: id } }, body })
export const deleteCollection = (id: string) => call('deleteCollection', { params: { path: { collection_id: id } } })
export const listCollectionMembers = (id: string) =>
  call('listCollectionMembers', { params: { path: { collection_id: id } } })
export const setCollectionMember = (id: string, body: Body<'setCollectionMember'>) =>
  call('setCollectionMember', { params: { path: { collection_id: id } }, body })
export const removeCollectionMember = (id: string, memberId: string) =>
  call('removeCollectionMember', { params: { path: { collection_id: id, member_id: memberId } } })
export const lookupUser = (email: string) => call('lookupUser', { params: { query: { email } } })
export const listGroups = () => call('listGroups')
export const adminListGroups = () => call('adminListGroups')
export const adminCreateGroup = (body: Body<'adminCreateGroup'>) => call('adminCreateGroup', { body })
export const adminDeleteGroup = (id: string) => call('adminDeleteGroup', { params: { path: { group_id: id } } })
export const adminListGroupMembers = (id: string) =>
  call('adminListGroupMembers', { params: { path: { group_id: id } } })
export const adminAddGroupMember = (id: string, userId: string) =>
  call('adminAddGroupMember', { params: { path: { group_id: id } }, body: { user_id: userId } })
export const adminRemoveGroupMember = (id: string, userId: string) =>
  call('adminRemoveGroupMember', { params: { path: { group_id: id, user_id: userId } } })
