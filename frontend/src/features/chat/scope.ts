/**
 * What a question searches: named collections (all their documents) and/or named documents; nothing
 * named means everything the user can read. The server checks each id again (404 if unreadable).
 */
export interface Scope {
  collections: string[]
  documents: string[]
}

export const EVERYTHING: Scope = { collections: [], documents: [] }

export const isEverything = (s: Scope): boolean => s.collections.length === 0 && s.documents.length === 0

/** The scope a link asks for: `/chat?collection=<id>` or `/chat?doc=<id>` (from the document and collection pages). */
export function scopeFromSearch(params: URLSearchParams): Scope {
  return { collections: params.getAll('collection'), documents: params.getAll('doc') }
}

export function toggle(s: Scope, kind: keyof Scope, id: string): Scope {
  const ids = s[kind]
  return { ...s, [kind]: ids.includes(id) ? ids.filter((x) => x !== id) : [...ids, id] }
}

/** The message body's scope fields (left out for "everything"). */
export function scopeBody(s: Scope): { collection_ids?: string[]; document_ids?: string[] } {
  return {
    ...(s.collections.length ? { collection_ids: s.collections } : {}),
    ...(s.documents.length ? { document_ids: s.documents } : {}),
  }
}

/** A short label for the picker's button: the one thing picked by name, else counts. */
export function scopeLabel(s: Scope, names: Map<string, string>): string {
  const n = s.collections.length + s.documents.length
  if (n === 0) return 'Everything I can read'
  if (n === 1) {
    const id = s.collections[0] ?? s.documents[0]!
    return names.get(id) ?? (s.collections.length ? '1 collection' : '1 document')
  }
  const parts = [
    s.collections.length ? `${s.collections.length} collection${s.collections.length === 1 ? '' : 's'}` : '',
    s.documents.length ? `${s.documents.length} document${s.documents.length === 1 ? '' : 's'}` : '',
  ]
  return parts.filter(Boolean).join(', ')
}
