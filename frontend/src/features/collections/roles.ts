/**
 * What the signed-in user may do, as the server told us (`role` on documents and collections). The UI
 * only hides what would be refused; the server checks every request again (403 for a weaker role).
 */
import type { Collection, CollectionRole, Document } from '../../client/types'

const RANK: Record<CollectionRole, number> = { viewer: 1, editor: 2, owner: 3 }

/** Editors and owners upload into a collection and change its documents; viewers only read. */
export const canEdit = (role: CollectionRole | undefined | null): boolean => !!role && RANK[role] >= RANK.editor

/** Owners also rename, delete and manage members. */
export const canManage = (role: CollectionRole | undefined | null): boolean => role === 'owner'

/** The caller may delete, reprocess or move this document (their own private one, or editor in its collection). */
export const canChangeDocument = (doc: Pick<Document, 'role'>): boolean => canEdit(doc.role ?? 'owner')

/** Collections a document or an upload may go into, by name. */
export const writableCollections = (items: Collection[] | undefined): Collection[] =>
  (items ?? []).filter((c) => canEdit(c.role)).sort((a, b) => a.name.localeCompare(b.name))

/** Where a document lives, for people: its collection's name, or the private space. */
export const placeLabel = (doc: Pick<Document, 'collection_id' | 'collection_name'>): string =>
  doc.collection_id ? doc.collection_name ?? 'A collection' : 'My documents'
