import { useCallback, useEffect, useReducer, useRef } from 'react'
import { useQueryClient } from '@tanstack/react-query'
import { uploadFile } from '../../client/upload'
import { errorMessage } from '../../client/http'
import { uploadReducer } from './uploadState'

let seq = 0

/** Uploads files one request each (per-file progress), a few at a time. */
export function useUploads(concurrency = 3) {
  const [items, dispatch] = useReducer(uploadReducer, [])
  const qc = useQueryClient()
  const queue = useRef<{ key: string; file: File }[]>([])
  const running = useRef(0)
  // A finished upload starts the next queued one; the ref breaks the self-reference.
  const pumpRef = useRef<() => void>(() => {})

  const pump = useCallback(() => {
    while (running.current < concurrency && queue.current.length > 0) {
      const { key, file } = queue.current.shift()!
      running.current++
      const handle = uploadFile(file, (fraction) => dispatch({ type: 'progress', key, fraction }))
      handle.promise
        .then((response) => {
          dispatch({ type: 'response', key, response })
          void qc.invalidateQueries({ queryKey: ['documents'] })
        })
        .catch((err: unknown) => dispatch({ type: 'fail', key, message: errorMessage(err) }))
        .finally(() => {
          running.current--
          pumpRef.current()
        })
    }
  }, [concurrency, qc])
  useEffect(() => {
    pumpRef.current = pump
  }, [pump])

  const add = useCallback(
    (files: File[]) => {
      const entries = files.map((file) => ({ key: `u${++seq}`, file }))
      dispatch({ type: 'add', items: entries.map(({ key, file }) => ({ key, name: file.name, size: file.size })) })
      queue.current.push(...entries)
      pump()
    },
    [pump],
  )

  return {
    items,
    add,
    dismiss: (key: string) => dispatch({ type: 'dismiss', key }),
    clearFinished: () => dispatch({ type: 'clearFinished' }),
  }
}
