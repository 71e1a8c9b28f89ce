import { memo } from 'react'
import ReactMarkdown, { type Components } from 'react-markdown'
import remarkGfm from 'remark-gfm'
import { AlertTriangle, ImageOff } from 'lucide-react'
import { UNSUPPORTED_FLAG, remarkCitations } from './remarkCitations'
import { cn } from '../../lib/cn'

/** Only these link schemes survive; everything else (javascript:, data:, …) is dropped. */
export function safeUrl(url: string): string {
  const trimmed = url.trim()
  if (/^(https?:|mailto:)/i.test(trimmed)) return trimmed
  // Relative links and fragments have no scheme; anything else with a colon is refused.
  if (/^[^:/?#]*:/.test(trimmed)) return ''
  return trimmed
}

export interface MarkdownProps {
  children: string
  /** Called with the citation number when a `[n]` marker is clicked. */
  onCite?: (index: number) => void
  /** Indices that refer to a known source; other markers stay plain text. */
  knownCitations?: ReadonlySet<number>
  /** Short label for a citation's tooltip, e.g. "report.pdf, p. 3". */
  citationLabel?: (index: number) => string | undefined
  className?: string
}

/**
 * Renders untrusted Markdown (answers and document text) inertly: no raw HTML
 * (react-markdown shows it as text without rehype-raw), no remote images, safe links.
 */
export const Markdown = memo(function Markdown({ children, onCite, knownCitations, citationLabel, className }: MarkdownProps) {
  const components: Components = {
    img: ({ alt }) => (
      <span
        className="inline-flex items-center gap-1 rounded border border-dashed border-zinc-300 px-1.5 py-0.5 text-xs text-zinc-500 dark:border-zinc-700 dark:text-zinc-400"
        title="Images are not loaded"
      >
        <ImageOff className="h-3 w-3" aria-hidden="true" />
        {alt ? `Image: ${alt}` : 'Image'}
      </span>
    ),
    a: ({ href, children: kids }) => {
      const url = href ? safeUrl(href) : ''
      if (!url) return <span>{kids}</span>
      return (
        <a href={url} target="_blank" rel="noreferrer noopener">
          {kids}
        </a>
      )
    },
    // A generated sentence that no retrieved source supports (flagged by the server).
    mark: (props) => {
      if ((props as { 'data-unsupported'?: string })['data-unsupported'] !== 'true') return <mark>{props.children}</mark>
      return (
        <span
          className="ml-1 inline-flex items-center gap-1 rounded border border-amber-300 bg-amber-50 px-1.5 align-middle text-[0.7rem] font-medium text-amber-800 dark:border-amber-700 dark:bg-amber-900/30 dark:text-amber-200"
          title="No retrieved passage supports this sentence: check it before relying on it."
          data-testid="unsupported-flag"
          role="note"
        >
          <AlertTriangle className="h-3 w-3" aria-hidden="true" />
          {UNSUPPORTED_FLAG}
        </span>
      )
    },
    cite: (props) => {
      const raw = (props as { 'data-cite'?: string })['data-cite']
      const n = Number(raw)
      if (!Number.isFinite(n) || (knownCitations && !knownCitations.has(n))) return <>[{raw}]</>
      const label = citationLabel?.(n)
      return (
        <button
          type="button"
          onClick={() => onCite?.(n)}
          className="mx-0.5 inline-flex h-[1.15rem] min-w-[1.15rem] -translate-y-px items-center justify-center rounded bg-accent-100 px-1 align-middle text-[0.7rem] font-semibold text-accent-700 not-italic hover:bg-accent-600 hover:text-white focus-visible:outline-2 dark:bg-accent-700/30 dark:text-accent-200 dark:hover:bg-accent-500"
          aria-label={`Source ${n}${label ? `: ${label}` : ''}`}
          title={label}
          data-citation={n}
        >
          {n}
        </button>
      )
    },
  }
  return (
    <div className={cn('cw-prose', className)}>
      <ReactMarkdown
        remarkPlugins={[remarkGfm, remarkCitations]}
        urlTransform={safeUrl}
        components={components}
      >
        {children}
      </ReactMarkdown>
    </div>
  )
})
