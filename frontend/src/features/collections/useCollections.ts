import { useQuery } from '@tanstack/react-query'
import { listCollections } from '../../client/api'
import { qk } from '../../lib/queryClient'
import { writableCollections } from './roles'

/** The collections the caller can read (any role). */
export function useCollections() {
  return useQuery({ queryKey: qk.collections, queryFn: listCollections })
}

/** The collections the caller may upload into or move documents into (editor or owner). */
export function useWritableCollections() {
  const q = useCollections()
  return { ...q, writable: writableCollections(q.data?.items) }
}
