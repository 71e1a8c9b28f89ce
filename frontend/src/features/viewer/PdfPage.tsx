/**
 * One PDF page rendered with pdf.js (worker bundled locally by Vite, no CDN),
 * with a text layer in which the cited snippet is highlighted.
 */
import { useEffect, useRef, useState } from 'react'
import * as pdfjs from 'pdfjs-dist'
import type { PDFDocumentProxy } from 'pdfjs-dist'
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url'
import { ChevronLeft, ChevronRight, MoveHorizontal, ZoomIn, ZoomOut } from 'lucide-react'
import { Button } from '../../components/ui/button'
import { ErrorState, Skeleton } from '../../components/ui/feedback'
import { findPieces } from './highlight'
import { MAX_ZOOM, MIN_ZOOM, stepZoom } from './zoom'

pdfjs.GlobalWorkerOptions.workerSrc = workerUrl

export function usePdf(data: ArrayBuffer | undefined) {
  const [doc, setDoc] = useState<PDFDocumentProxy | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    if (!data) return
    let cancelled = false
    // pdf.js detaches the buffer it is given: hand it a copy so a re-render can load again.
    const task = pdfjs.getDocument({ data: data.slice(0), isEvalSupported: false, enableXfa: false })
    task.promise.then(
      (d) => !cancelled && setDoc(d),
      (e: unknown) => !cancelled && setError(e instanceof Error ? e.message : 'Could not open this PDF'),
    )
    return () => {
      cancelled = true
      void task.destroy()
    }
  }, [data])
  return { doc, error }
}

export function PdfPage({ doc, initialPage, snippet }: { doc: PDFDocumentProxy; initialPage: number; snippet: string }) {
  const [pageNo, setPageNo] = useState(Math.min(Math.max(1, initialPage), doc.numPages))
  const [zoom, setZoom] = useState(1)
  const [width, setWidth] = useState(0)
  // Which render finished last, and how; anything else on screen is still rendering.
  const [result, setResult] = useState<{ key: string; ok: boolean } | null>(null)
  const [found, setFound] = useState<boolean | null>(null)
  const wrap = useRef<HTMLDivElement>(null)
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const layerRef = useRef<HTMLDivElement>(null)
  const pageRef = useRef<HTMLDivElement>(null)

  useEffect(() => {
    const el = wrap.current
    if (!el) return
    const ro = new ResizeObserver(([e]) => e && setWidth(Math.floor(e.contentRect.width)))
    ro.observe(el)
    return () => ro.disconnect()
  }, [])

  useEffect(() => {
    if (!width) return
    let cancelled = false
    let cleanup = () => {}
    const key = `${pageNo}:${width}:${zoom}:${snippet}`
    void (async () => {
      try {
        const page = await doc.getPage(pageNo)
        if (cancelled) return
        const base = page.getViewport({ scale: 1 })
        const scale = (width / base.width) * zoom
        const viewport = page.getViewport({ scale })
        const canvas = canvasRef.current!
        const layer = layerRef.current!
        const ratio = window.devicePixelRatio || 1
        canvas.width = Math.floor(viewport.width * ratio)
        canvas.height = Math.floor(viewport.height * ratio)
        canvas.style.width = `${Math.floor(viewport.width)}px`
        canvas.style.height = `${Math.floor(viewport.height)}px`
        pageRef.current!.style.setProperty('--total-scale-factor', String(scale))
        pageRef.current!.style.setProperty('--scale-factor', String(scale))
        const renderTask = page.render({
          canvas,
          canvasContext: canvas.getContext('2d')!,
          viewport,
          transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : undefined,
        })
        layer.replaceChildren()
        const textLayer = new pdfjs.TextLayer({ textContentSource: page.streamTextContent(), container: layer, viewport })
        cleanup = () => {
          renderTask.cancel()
          textLayer.cancel()
        }
        await Promise.all([renderTask.promise, textLayer.render()])
        if (cancelled) return
        const hits = findPieces(textLayer.textContentItemsStr, snippet)
        hits.forEach((i) => textLayer.textDivs[i]?.classList.add('cw-hit'))
        setFound(hits.length > 0)
        setResult({ key, ok: true })
        if (hits.length) textLayer.textDivs[hits[0]!]?.scrollIntoView({ block: 'center', behavior: 'smooth' })
      } catch (e) {
        if (!cancelled && !(e instanceof Error && e.name === 'RenderingCancelledException')) setResult({ key, ok: false })
      }
    })()
    return () => {
      cancelled = true
      cleanup()
    }
  }, [doc, pageNo, width, zoom, snippet])

  const status = result?.key !== `${pageNo}:${width}:${zoom}:${snippet}` ? 'rendering' : result.ok ? 'ok' : 'error'
  return (
    <div className="flex min-h-0 flex-col">
      <div className="flex items-center justify-between gap-2 border-b border-zinc-200 px-1.5 py-1.5 text-sm sm:px-3 dark:border-zinc-800">
        <div className="flex items-center gap-1">
          <Button size="icon" variant="ghost" aria-label="Previous page" disabled={pageNo <= 1} onClick={() => setPageNo(pageNo - 1)}>
            <ChevronLeft className="h-4 w-4" aria-hidden="true" />
          </Button>
          <span className="tabular-nums" aria-live="polite" data-testid="pdf-page-number">
            Page {pageNo} / {doc.numPages}
          </span>
          <Button size="icon" variant="ghost" aria-label="Next page" disabled={pageNo >= doc.numPages} onClick={() => setPageNo(pageNo + 1)}>
            <ChevronRight className="h-4 w-4" aria-hidden="true" />
          </Button>
        </div>
        <div className="flex items-center gap-0.5" role="group" aria-label="Zoom">
          {found === false && pageNo === initialPage && (
            <span className="mr-1 hidden text-xs text-zinc-500 dark:text-zinc-400 md:inline">Passage not located on the page image</span>
          )}
          <Button size="icon" variant="ghost" aria-label="Zoom out" disabled={zoom <= MIN_ZOOM} onClick={() => setZoom(stepZoom(zoom, -1))}>
            <ZoomOut className="h-4 w-4" aria-hidden="true" />
          </Button>
          <span className="w-11 text-center text-xs tabular-nums" aria-live="polite" data-testid="pdf-zoom">
            {Math.round(zoom * 100)}%
          </span>
          <Button size="icon" variant="ghost" aria-label="Zoom in" disabled={zoom >= MAX_ZOOM} onClick={() => setZoom(stepZoom(zoom, 1))}>
            <ZoomIn className="h-4 w-4" aria-hidden="true" />
          </Button>
          <Button size="icon" variant="ghost" aria-label="Fit to width" disabled={zoom === 1} onClick={() => setZoom(1)}>
            <MoveHorizontal className="h-4 w-4" aria-hidden="true" />
          </Button>
        </div>
      </div>
      {/* Fit to width means the page fills the viewer (little margin on a phone); zooming past it scrolls here. */}
      <div ref={wrap} className="relative min-h-0 flex-1 overflow-auto overscroll-contain bg-zinc-100 [scrollbar-gutter:stable] p-1.5 sm:p-3 dark:bg-zinc-900"
        data-testid="pdf-scroller">
        {status === 'error' && <ErrorState message="This page could not be rendered." />}
        {status === 'rendering' && <Skeleton className="absolute inset-1.5 h-auto sm:inset-3" />}
        <div ref={pageRef} className="relative mx-auto w-fit bg-white shadow-md" data-testid="pdf-page" data-page={pageNo}>
          <canvas ref={canvasRef} aria-label={`Page ${pageNo} of the document`} role="img" />
          <div ref={layerRef} className="cw-textlayer" data-testid="pdf-text-layer" />
        </div>
      </div>
    </div>
  )
}
