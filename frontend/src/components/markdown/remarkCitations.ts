/**
 * remark plugin: turns `[n]` / `[n, m]` markers in text into `cite` elements
 * carrying the source index, so the renderer can make them buttons, and the
 * server's flag on a generated sentence no source supports,
 * `[not found in your documents]`, into a `mark` element. Code spans, code
 * blocks and link text are left alone.
 */
import type { Root, RootContent, Text, PhrasingContent } from 'mdast'

export const UNSUPPORTED_FLAG = 'not found in your documents'
const MARKER = /\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]|\[not found in your documents\]/g
const SKIP = new Set(['code', 'inlineCode', 'link', 'linkReference', 'definition', 'html'])

interface CiteNode {
  type: 'citeMarker'
  data: { hName: 'cite'; hProperties: { dataCite: string }; hChildren: { type: 'text'; value: string }[] }
}

interface FlagNode {
  type: 'unsupportedFlag'
  data: { hName: 'mark'; hProperties: { dataUnsupported: string }; hChildren: { type: 'text'; value: string }[] }
}

// R's printed output on a line of its own ('[1] "u" "v"', "[1] 3.5 4.2 NaN", knitr's
// "## [1] 1 2"): its "[1]" numbers the first value, it cites nothing. The server keeps such a
// line as code in the final answer (app/rag/grounding.py, _PRINTED_VALUES); while the answer
// streams, it must not show as a citation either. Two values at least, or one quoted.
const VALUE = String.raw`(?:"[^"\n\x60]*"|[-+]?\d(?:[\w.+-]*\w)?|-?Inf|NaN|NA|<NA>|TRUE|FALSE|NULL)`
const PRINTED = new RegExp(String.raw`^[ \t]*(?:#[#>][ \t]*)?\[\d{1,3}\]((?:[ \t]+${VALUE})+)[ \t]*$`)

export function printedValues(line: string): boolean {
  const values = (PRINTED.exec(line)?.[1] ?? '').trim().split(/[ \t]+/).filter(Boolean)
  return values.length > 1 || (values[0] ?? '').startsWith('"')
}

export function splitCitations(value: string): (Text | CiteNode | FlagNode)[] {
  const out: (Text | CiteNode | FlagNode)[] = []
  for (const line of value.split(/(?<=\n)/)) {
    if (printedValues(line.replace(/\n$/, ''))) out.push({ type: 'text', value: line })
    else out.push(...splitLine(line))
  }
  return out
}

function splitLine(value: string): (Text | CiteNode | FlagNode)[] {
  const out: (Text | CiteNode | FlagNode)[] = []
  let last = 0
  for (const m of value.matchAll(MARKER)) {
    const start = m.index ?? 0
    if (start > last) out.push({ type: 'text', value: value.slice(last, start) })
    last = start + m[0].length
    if (m[1] === undefined) {
      out.push({
        type: 'unsupportedFlag',
        data: { hName: 'mark', hProperties: { dataUnsupported: 'true' }, hChildren: [{ type: 'text', value: UNSUPPORTED_FLAG }] },
      })
      continue
    }
    for (const n of m[1].split(',').map((s) => s.trim())) {
      out.push({
        type: 'citeMarker',
        data: { hName: 'cite', hProperties: { dataCite: n }, hChildren: [{ type: 'text', value: n }] },
      })
    }
  }
  if (last < value.length) out.push({ type: 'text', value: value.slice(last) })
  return out
}

type Parent = { children: RootContent[] }

function walk(node: Parent): void {
  const next: RootContent[] = []
  for (const child of node.children) {
    if (child.type === 'text' && MARKER.test(child.value)) {
      MARKER.lastIndex = 0
      next.push(...(splitCitations(child.value) as unknown as PhrasingContent[]))
      continue
    }
    MARKER.lastIndex = 0
    if (!SKIP.has(child.type) && 'children' in child) walk(child as Parent)
    next.push(child)
  }
  node.children = next
}

export function remarkCitations() {
  return (tree: Root) => walk(tree)
}
