const units = ['B', 'KB', 'MB', 'GB', 'TB']

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—'
  let i = 0
  let v = n
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i]}`
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
const steps: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.35],
  ['month', 12],
  ['year', Infinity],
]

export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—'
  let diff = (new Date(iso).getTime() - now) / 1000
  for (const [unit, size] of steps) {
    if (Math.abs(diff) < size) return rtf.format(Math.round(diff), unit)
    diff /= size
  }
  return new Date(iso).toLocaleDateString()
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

const TYPE_LABELS: Record<string, string> = {
  'application/pdf': 'PDF',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'DOCX',
  'application/msword': 'DOC',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'PPTX',
  'application/vnd.ms-powerpoint': 'PPT',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'XLSX',
  'application/vnd.ms-excel': 'XLS',
  'text/plain': 'Text',
  'text/markdown': 'Markdown',
  'text/html': 'HTML',
  'text/csv': 'CSV',
  'application/epub+zip': 'EPUB',
  'message/rfc822': 'Email',
  'application/rtf': 'RTF',
  'text/rtf': 'RTF',
  'application/vnd.oasis.opendocument.text': 'ODT',
}

export function typeLabel(mime: string): string {
  return TYPE_LABELS[mime] ?? (mime.split('/')[1]?.toUpperCase().slice(0, 8) || mime)
}

/** MIME types offered in the type filter, with labels. */
export const TYPE_FILTERS = Object.entries(TYPE_LABELS).filter(
  ([mime], i, all) => all.findIndex(([, l]) => l === TYPE_LABELS[mime]) === i,
)

export function pluralize(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

const ordinals = new Intl.PluralRules('en-US', { type: 'ordinal' })
const suffixes: Record<string, string> = { one: 'st', two: 'nd', few: 'rd', other: 'th' }

export function ordinal(n: number): string {
  return `${n}${suffixes[ordinals.select(n)] ?? 'th'}`
}

/** A queued document's place: "3rd in line · about 2 min" (the estimate only when there is one). */
export function queueLine(position: number | null | undefined, seconds: number | null | undefined): string | null {
  if (position === null || position === undefined) return null
  const place = position === 1 ? 'Next in line' : `${ordinal(position)} in line`
  if (seconds === null || seconds === undefined) return place
  if (seconds < 60) return `${place} · under a minute`
  const minutes = Math.round(seconds / 60)
  if (minutes < 90) return `${place} · about ${minutes} min`
  return `${place} · about ${Math.round(minutes / 60)} h`
}
