import { describe, expect, it } from 'vitest'
import type { Collection } from '../../client/types'
import { canChangeDocument, canEdit, canManage, placeLabel, writableCollections } from './roles'

const coll = (name: string, role: Collection['role']): Collection => ({
  id: name, name, role, description: '', document_count: 0, member_count: 1,
  created_at: '', updated_at: '', created_by: null,
})

describe('roles', () => {
  it('ranks viewer < editor < owner', () => {
    expect([canEdit('viewer'), canEdit('editor'), canEdit('owner'), canEdit(undefined)]).toEqual([false, true, true, false])
    expect([canManage('viewer'), canManage('editor'), canManage('owner')]).toEqual([false, false, true])
  })
  it('treats a document without a role as the caller\'s own private one', () => {
    expect(canChangeDocument({})).toBe(true)
    expect(canChangeDocument({ role: 'viewer' })).toBe(false)
    expect(canChangeDocument({ role: 'editor' })).toBe(true)
  })
  it('offers only collections the caller can edit, by name', () => {
    const out = writableCollections([coll('b', 'owner'), coll('v', 'viewer'), coll('a', 'editor')])
    expect(out.map((c) => c.name)).toEqual(['a', 'b'])
  })
  it('names the place of a document', () => {
    expect(placeLabel({ collection_id: null, collection_name: null })).toBe('My documents')
    expect(placeLabel({ collection_id: 'c1', collection_name: 'Team' })).toBe('Team')
  })
})
