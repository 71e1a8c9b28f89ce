import { useEffect } from 'react'
import { Select } from '../../components/ui/form'
import { cn } from '../../lib/cn'
import { useWritableCollections } from './useCollections'

/**
 * "Upload to": the caller's private space ('') or a collection they edit. Hidden while they edit
 * none (every upload is private then); a chosen collection that stops being editable falls back.
 */
export function UploadTarget({ value, onChange, className }: {
  value: string
  onChange: (collectionId: string) => void
  className?: string
}) {
  const { writable, isSuccess } = useWritableCollections()
  const gone = isSuccess && value !== '' && !writable.some((c) => c.id === value)
  useEffect(() => {
    if (gone) onChange('')
  }, [gone, onChange])
  if (writable.length === 0) return null
  return (
    <label className={cn('flex min-w-0 items-center gap-2 text-sm', className)}>
      <span className="shrink-0 text-zinc-600 dark:text-zinc-400">Upload to</span>
      <Select className="min-w-0 flex-1 sm:max-w-64 sm:flex-none" value={gone ? '' : value} data-testid="upload-target"
        onChange={(e) => onChange(e.target.value)}>
        <option value="">My documents (private)</option>
        {writable.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
      </Select>
    </label>
  )
}
